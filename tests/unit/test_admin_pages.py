"""The staff pages render from the figures the services send, without a network.

A fake backend answers with contract-shaped data; the principal is put where
`permissions.principal_from_request` caches it, as a signed-in person would be.
"""

from __future__ import annotations

import io
import json
import re
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request, Response

from services.gateway.coordinator import pages as coordinator_pages
from services.gateway.town_admin import pages as admin_pages
from services.gateway.web import staff_pages
from services.gateway.web.errors import ApiError
from services.gateway.web.page import CSRF_COOKIE, Page
from services.gateway.web.permissions import Principal
from soesmart.config import Settings

CID = str(uuid.uuid4())
IDEA = str(uuid.uuid4())
COMMENT = str(uuid.uuid4())
NOW = datetime(2025, 5, 3, 10, 30).isoformat()
ADMIN = Principal(role="town_admin", name="Anna Admin", town="soest", staff_id="a1")
OTHER_ADMIN = Principal(role="town_admin", name="Otto", town="olpe", staff_id="a2")
COORDINATOR = Principal(role="coordinator", name="Kim Koordination", staff_id="c1")
ANONYMOUS = Principal(role="anonymous", name="")

MEASURES = [
    {"code": "VEP-RAD-01", "title": "Velorouten", "summary": "s", "programme": "vep_klima_plus",
     "field_of_action": "cycling", "status": "in_consultation", "towns": []},
    {"code": "VEP-FUSS-01", "title": "Gehwege <breiter>", "summary": "s",
     "programme": "vep_klima_plus", "field_of_action": "walking", "status": "proposed",
     "towns": ["olpe"]},
    {"code": "MPK-GEB-01", "title": "Dämmung", "summary": "s", "programme": "masterplan_klimapakt",
     "field_of_action": "buildings", "status": "decided", "towns": ["soest"]},
]
CONSULTATION = {"id": CID, "town": "soest", "title": "Radverkehr 2025", "description": "Worum es geht",
                "status": "draft", "starts_on": "2025-05-01", "ends_on": "2025-06-30",
                "measures": [m for m in MEASURES if m["code"] == "VEP-RAD-01"]}
TALLY = {"answers": 10, "effectiveness_count": 9, "effectiveness_mean": 3.8,
         "effectiveness_distribution": {"1": 1, "4": 5, "5": 3},
         "support": {"yes": 5, "rather_yes": 2, "rather_no": 2, "no": 1}}
FIGURES = {"town": "soest", "answers": 10, "effectiveness_mean": 3.8, "support_answers": 10,
           "support_share": 0.7}


RESULTS_CSV = "\ufeffCode;Maßnahme\r\nVEP-RAD-01;Velorouten für Ältere\r\n"


def listed(query: dict[str, Any]) -> dict[str, Any]:
    """`list_catalogue` as the measures service answers it, for the town filter the pages use."""
    town = query.get("town")
    items = [m for m in MEASURES if not town or not m["towns"] or town in m["towns"]]
    return {"items": items, "total": len(items), "limit": query["limit"], "offset": query["offset"]}


class FakeBackend:
    def __init__(self, refuse: dict[str, ApiError] | None = None) -> None:
        self.calls: list[tuple[str, str, dict[str, Any]]] = []
        self.refuse = refuse or {}

    def call(self, service: str, method: str, **kwargs: Any) -> Any:
        self.calls.append((service, method, kwargs))
        if method in self.refuse:
            raise self.refuse[method]
        answers: dict[str, Callable[[], Any]] = {
            "list_consultations": lambda: [CONSULTATION, {**CONSULTATION, "id": str(uuid.uuid4()),
                                                          "status": "open"}],
            "get_consultation": lambda: CONSULTATION,
            "create_consultation": lambda: CONSULTATION,
            "update_consultation": lambda: CONSULTATION,
            "change_consultation_phase": lambda: {**CONSULTATION, "status": "open"},
            "export_catalogue": lambda: json.dumps({"measures": MEASURES}),
            "list_measures": lambda: MEASURES,
            "list_catalogue": lambda: listed(kwargs["query"]),
            "town_results": lambda: {
                "town": "soest", "consultation_id": CID, "title": "Radverkehr 2025",
                "status": "closed", "participants": 12, "generated_at": NOW,
                "measures": [{"code": "VEP-RAD-01", "title": "Velorouten",
                              "field_of_action": "cycling", "tally": TALLY, "comments": 2}],
                "days": [{"day": "2025-05-01", "citizens": 3, "ratings": 5, "comments": 1, "ideas": 0},
                         {"day": "2025-05-02", "citizens": 1, "ratings": 8, "comments": 0, "ideas": 1}]},
            "town_results_csv": lambda: RESULTS_CSV,
            "moderation_queue": lambda: {
                "flagged": [{"target_type": "comment", "target_id": COMMENT,
                             "measure_code": "VEP-RAD-01", "display_name": "Bea",
                             "text": "<script>alert(1)</script>", "created_at": NOW,
                             "hidden": False, "flags": 2, "flag_reasons": {"spam": 2}}],
                "new": [{"target_type": "idea", "target_id": IDEA, "display_name": "Cem",
                         "text": "Mehr Bänke", "created_at": NOW, "hidden": True, "flags": 0}]},
            "moderation_log": lambda: [{"target_type": "comment", "target_id": COMMENT,
                                        "action": "hide", "reason": "Werbung", "actor": "Anna",
                                        "at": NOW}],
            "moderate": lambda: {},
            "list_ideas": lambda: [
                {"id": IDEA, "title": "Mehr Bänke", "description": "Am Markt fehlen Bänke.",
                 "field_of_action": "walking", "place": "Markt", "display_name": "Cem",
                 "status": "submitted", "created_at": NOW, "hidden": False},
                {"id": str(uuid.uuid4()), "title": "Alt", "description": "d",
                 "field_of_action": "cycling", "place": None, "display_name": "Dora",
                 "status": "declined", "decision_reason": "Gibt es schon", "created_at": NOW}],
            "decide_idea": lambda: {},
            "participation_per_day": lambda: {"days": [
                {"day": "2025-05-01", "town": "soest", "ratings": 4},
                {"day": "2025-05-02", "town": "soest", "ratings": 7},
                {"day": "2025-05-02", "town": "olpe", "ratings": 2}]},
            "top_measures": lambda: {"min_answers": 1, "town": None, "measures": [
                {"code": "VEP-RAD-01", "title": "Velorouten", "region": {**FIGURES, "town": "region"}}]},
            "compare_towns": lambda: {"code": "VEP-RAD-01", "title": "Velorouten",
                                      "region": {**FIGURES, "town": "region"},
                                      "towns": [FIGURES, {**FIGURES, "town": "olpe",
                                                          "support_share": 0.2}]},
            "disagreements": lambda: {"min_answers": 1, "measures": [
                {"code": "VEP-RAD-01", "title": "Velorouten", "support_spread": 0.5,
                 "effectiveness_spread": 1.0,
                 "towns": [FIGURES, {**FIGURES, "town": "olpe", "support_share": 0.2}]}]},
            "get_measure": lambda: {**MEASURES[0], "revision": 2, "history": [
                {"status": "proposed", "note": "", "changed_by": "Import",
                 "changed_at": NOW, "progress": None},
                {"status": "in_consultation", "note": "Start", "changed_by": "Kim",
                 "changed_at": NOW, "progress": 10}]},
            "change_status": lambda: {},
            "import_catalogue": lambda: {"rows": 3, "created": ["VEP-RAD-09"], "updated": [],
                                         "unchanged": 2},
            "delivery_log": lambda: {"counts": [{"cause": "measure_status_changed", "status": "sent",
                                                 "count": 3, "retried": 1}],
                                     "bouncing_addresses": 0,
                                     "recent": [{"id": 1, "cause": "confirm", "recipient": "a@example.org",
                                                 "status": "failed", "attempts": 3,
                                                 "last_error": "550", "created_at": NOW,
                                                 "sent_at": None}]},
            "results_csv": lambda: "Code;Stadt\r\n",
        }
        return answers[method]()


def _page(path: str, who: Principal, method: str = "GET", data: dict[str, Any] | None = None,
          lang: str = "de") -> Page:
    builder = EnvironBuilder(path=path, method=method, data=data,
                             headers={"Cookie": f"{CSRF_COOKIE}=tok; soesmart_lang={lang}"})
    environ = builder.get_environ()
    environ["soesmart.principal"] = who
    return Page(Request(environ), Settings(data_dir=Path("/tmp")))


def _html(response: Response) -> str:
    return response.get_data(as_text=True)


def _check_html(html: str) -> None:
    """What axe would find first: every id once, every labelled input has its label."""
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) == len(set(ids)), [i for i in ids if ids.count(i) > 1]
    for target in re.findall(r'<label for="([^"]+)"', html):
        assert f'id="{target}"' in html, f"label for missing #{target}"
    for target in re.findall(r'href="#([^"]+)"', html):
        assert f'id="{target}"' in html, f"link to missing #{target}"
    assert "<script>" not in html


TOWN_PAGES: list[tuple[str, Callable[[Page, FakeBackend], Response]]] = [
    ("consultations", lambda p, b: admin_pages.town_home(p, b, "soest")),
    ("new consultation", lambda p, b: admin_pages.consultation_new(p, b, "soest")),
    ("consultation", lambda p, b: admin_pages.consultation_detail(p, b, "soest", CID)),
    ("edit consultation", lambda p, b: admin_pages.consultation_edit(p, b, "soest", CID)),
    ("results", lambda p, b: admin_pages.results_page(p, b, "soest", CID)),
    ("moderation", lambda p, b: admin_pages.moderation_page(p, b, "soest")),
    ("ideas", lambda p, b: admin_pages.ideas_page(p, b, "soest")),
]
REGION_PAGES: list[tuple[str, Callable[[Page, FakeBackend], Response]]] = [
    ("dashboard", lambda p, b: coordinator_pages.region_home(p, b)),
    ("catalogue", lambda p, b: coordinator_pages.catalogue_page(p, b)),
    ("measure", lambda p, b: coordinator_pages.measure_page(p, b, "VEP-RAD-01")),
    ("deliveries", lambda p, b: coordinator_pages.deliveries_page(p, b)),
    ("exports", lambda p, b: coordinator_pages.exports_page(p)),
    ("town results", lambda p, b: admin_pages.town_home(p, b, "soest", results_only=True)),
]


@pytest.mark.parametrize("lang", ["de", "en"])
@pytest.mark.parametrize("render", [r for _, r in TOWN_PAGES], ids=[n for n, _ in TOWN_PAGES])
def test_every_page_of_a_town_admin_renders_in_both_languages(
        render: Callable[[Page, FakeBackend], Response], lang: str) -> None:
    response = render(_page("/verwaltung/stadt/soest/x", ADMIN, lang=lang), FakeBackend())
    assert response.status_code == 200
    html = _html(response)
    assert f'<html lang="{lang}">' in html
    assert "Anna Admin" in html
    _check_html(html)


@pytest.mark.parametrize("lang", ["de", "en"])
@pytest.mark.parametrize("render", [r for _, r in REGION_PAGES], ids=[n for n, _ in REGION_PAGES])
def test_every_page_of_a_coordinator_renders_in_both_languages(
        render: Callable[[Page, FakeBackend], Response], lang: str) -> None:
    response = render(_page("/verwaltung/region/x", COORDINATOR, lang=lang), FakeBackend())
    assert response.status_code == 200
    _check_html(_html(response))


def test_nobody_signed_in_is_sent_to_the_staff_sign_in() -> None:
    page = _page("/verwaltung/stadt/soest/moderation", ANONYMOUS)
    with pytest.raises(staff_pages.SignInRequired):
        admin_pages.moderation_page(page, FakeBackend(), "soest")


def test_nobody_signed_in_gets_401_and_the_way_to_the_sign_in() -> None:
    class Routes:
        @staff_pages.staff_page
        def route(self, page: Page) -> Response:
            raise staff_pages.SignInRequired()

    response = Routes().route(_page("/verwaltung/region/katalog?q=rad", ANONYMOUS))
    assert response.status_code == 401
    html = _html(response)
    assert 'href="/verwaltung/anmelden?weiter=%2Fverwaltung%2Fregion%2Fkatalog%3Fq%3Drad"' in html
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("who", [OTHER_ADMIN, COORDINATOR], ids=["admin of Olpe", "coordinator"])
def test_only_the_towns_own_admins_run_its_consultations_and_moderation(who: Principal) -> None:
    backend = FakeBackend()
    for render in (lambda p: admin_pages.moderation_page(p, backend, "soest"),
                   lambda p: admin_pages.consultation_phase(p, backend, "soest", CID),
                   lambda p: admin_pages.consultation_new(p, backend, "soest"),
                   lambda p: admin_pages.ideas_page(p, backend, "soest")):
        with pytest.raises(ApiError) as caught:
            render(_page("/verwaltung/stadt/soest/x", who))
        assert caught.value.status == 403
    assert backend.calls == [], "nothing of Soest was asked for"


def test_an_admin_of_another_town_cannot_read_soests_results_but_a_coordinator_can() -> None:
    with pytest.raises(ApiError):
        admin_pages.results_page(_page("/x", OTHER_ADMIN), FakeBackend(), "soest", CID)
    assert admin_pages.results_page(_page("/x", COORDINATOR), FakeBackend(), "soest",
                                    CID).status_code == 200


def test_a_coordinator_reads_a_towns_consultations_without_the_buttons_and_no_drafts() -> None:
    backend = FakeBackend()
    html = _html(admin_pages.town_home(_page("/x", COORDINATOR), backend, "soest"))
    assert ("participation_soest", "list_consultations", {"include_drafts": False}) in backend.calls
    assert "beteiligungen/neu" not in html
    with pytest.raises(ApiError) as caught:  # the fake's consultation is a draft
        admin_pages.consultation_detail(_page("/x", COORDINATOR), backend, "soest", CID)
    assert caught.value.status == 404


def test_town_admins_do_not_reach_the_region() -> None:
    with pytest.raises(ApiError) as caught:
        coordinator_pages.catalogue_page(_page("/x", ADMIN), FakeBackend())
    assert caught.value.status == 403


def test_the_picker_offers_the_measures_of_the_town_grouped_by_field() -> None:
    html = _html(admin_pages.consultation_new(_page("/x", ADMIN), FakeBackend(), "soest"))
    assert 'id="m-VEP-RAD-01"' in html  # region-wide
    assert 'id="m-MPK-GEB-01"' in html  # named for Soest
    assert 'id="m-VEP-FUSS-01"' not in html  # only for Olpe
    assert "<legend>Einzelne Maßnahmen: Radverkehr</legend>" in html


def _post(path: str, who: Principal, data: dict[str, Any]) -> Page:
    return _page(path, who, method="POST", data={"csrf": "tok", **data})


def test_a_consultation_is_created_with_the_picked_measures_and_the_admin_as_actor() -> None:
    backend = FakeBackend()
    response = admin_pages.consultation_create(_post("/x", ADMIN, {
        "title": "Radverkehr 2025", "description": "d", "starts_on": "2025-05-01",
        "ends_on": "2025-06-30", "programmes": "masterplan_klimapakt",
        "measure_codes": ["VEP-RAD-01"]}), backend, "soest")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/beteiligungen/{CID}?erledigt=created")
    service, method, kwargs = backend.calls[-1]
    assert (service, method) == ("participation_soest", "create_consultation")
    assert kwargs["command"]["actor"] == "Anna Admin"
    assert kwargs["command"]["programmes"] == ["masterplan_klimapakt"]
    assert kwargs["command"]["measure_codes"] == ["VEP-RAD-01"]


def test_a_consultation_form_with_errors_comes_back_with_a_linked_summary_and_the_values() -> None:
    backend = FakeBackend()
    response = admin_pages.consultation_create(_post("/x", ADMIN, {
        "title": "Rad", "description": "bleibt", "starts_on": "2025-06-01",
        "ends_on": "2025-05-01"}), backend, "soest")
    assert response.status_code == 422
    html = _html(response)
    _check_html(html)
    assert 'href="#title"' in html and 'aria-invalid="true" aria-describedby="title-fehler"' in html
    assert ">bleibt</textarea>" in html
    assert not [c for c in backend.calls if c[1] == "create_consultation"], "nothing was sent"


def test_the_end_before_the_start_is_named_at_the_end_date() -> None:
    response = admin_pages.consultation_create(_post("/x", ADMIN, {
        "title": "Radverkehr 2025", "starts_on": "2025-06-01", "ends_on": "2025-05-01"}),
        FakeBackend(), "soest")
    html = _html(response)
    assert 'href="#ends_on"' in html and "Das Ende liegt vor dem Beginn" in html


def test_a_form_without_the_csrf_token_is_refused() -> None:
    page = _page("/x", ADMIN, method="POST", data={"csrf": "wrong", "phase": "open"})
    with pytest.raises(ApiError) as caught:
        admin_pages.consultation_phase(page, FakeBackend(), "soest", CID)
    assert caught.value.code == "CSRF_FAILED"


def test_a_refused_phase_change_is_shown_at_the_button() -> None:
    backend = FakeBackend({"change_consultation_phase": ApiError(
        "CONSULTATION_WITHOUT_MEASURES", "Ohne Maßnahmen kann nichts geöffnet werden.")})
    response = admin_pages.consultation_phase(_post("/x", ADMIN, {"phase": "open"}), backend,
                                              "soest", CID)
    html = _html(response)
    assert response.status_code == 409
    assert 'href="#phase-button"' in html and "Ohne Maßnahmen" in html


def test_hiding_without_a_reason_is_refused_at_that_items_reason_field() -> None:
    backend = FakeBackend()
    response = admin_pages.moderation_act(_post("/x", ADMIN, {
        "target_type": "comment", "target_id": COMMENT, "action": "hide", "reason": ""}),
        backend, "soest")
    assert response.status_code == 422
    html = _html(response)
    _check_html(html)
    assert f'href="#reason-{COMMENT}"' in html
    assert not [c for c in backend.calls if c[1] == "moderate"]


def test_a_moderation_act_is_sent_with_the_admin_as_actor() -> None:
    backend = FakeBackend()
    response = admin_pages.moderation_act(_post("/x", ADMIN, {
        "target_type": "comment", "target_id": COMMENT, "action": "hide", "reason": "Werbung"}),
        backend, "soest")
    assert response.status_code == 303
    assert backend.calls[-1][2]["command"]["actor"] == "Anna Admin"


def test_declining_an_idea_needs_a_reason() -> None:
    response = admin_pages.idea_decide(_post("/x", ADMIN, {"decision": "decline", "reason": ""}),
                                       FakeBackend(), "soest", IDEA)
    assert response.status_code == 422
    assert f'href="#reason-{IDEA}"' in _html(response)


def test_a_refused_import_shows_row_column_and_problem() -> None:
    refusal = ApiError("CATALOGUE_IMPORT_INVALID", "Die Datei hat Fehler; nichts wurde übernommen.",
                       [{"row": 3, "column": "programme", "problem": "unbekanntes Programm"}])
    page = _page("/x", COORDINATOR, method="POST", data={
        "csrf": "tok", "file": (io.BytesIO(b"code;title\nX;Y\n"), "katalog.csv")})
    response = coordinator_pages.catalogue_import(page, FakeBackend({"import_catalogue": refusal}))
    assert response.status_code == 422
    html = _html(response)
    _check_html(html)
    assert "<th scope=\"row\">3</th><td>programme</td><td>unbekanntes Programm</td>" in html
    assert 'href="#file"' in html


def test_a_filter_value_the_catalogue_refuses_finds_no_measure() -> None:
    refusal = ApiError("VALIDATION_FAILED", "Die Angaben sind ungültig.",
                       [{"field": "programme", "problem": "not a programme"}])
    page = _page("/verwaltung/region/katalog?programme=keins", COORDINATOR)
    response = coordinator_pages.catalogue_page(page, FakeBackend({"list_catalogue": refusal}))
    assert response.status_code == 200
    assert "0 Maßnahmen gefunden." in _html(response)


def test_an_accepted_import_says_what_it_did() -> None:
    backend = FakeBackend()
    page = _page("/x", COORDINATOR, method="POST", data={
        "csrf": "tok", "file": (io.BytesIO("code;title\n".encode("cp1252")), "k.csv")})
    html = _html(coordinator_pages.catalogue_import(page, backend))
    assert "3 Zeilen, 1 neu, 0 geändert, 2 unverändert" in html
    call = [c for c in backend.calls if c[1] == "import_catalogue"][0][2]
    assert call["format"] == "csv" and call["imported_by"] == "Kim Koordination"


def test_results_csv_is_a_download_of_the_towns_text_unchanged() -> None:
    # The BOM, `;` and CRLF are the town instance's (tests/integration/
    # test_participation_consultations.py checks them there); the gateway adds no byte.
    backend = FakeBackend()
    response = admin_pages.results_csv(_page("/x", ADMIN), backend, "soest", CID)
    assert response.headers["Content-Disposition"].startswith('attachment; filename="ergebnisse-soest')
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.get_data() == RESULTS_CSV.encode("utf-8")
    call = [c for c in backend.calls if c[1] == "town_results_csv"][0]
    assert call[0] == "participation_soest" and call[2] == {"consultation_id": CID}
