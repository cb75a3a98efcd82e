"""Town admins and coordinators at work, over the JSON API, the pages, and in headless Chromium.

The whole network runs as real processes (mails become .eml files); the demo staff
accounts sign in (admin of Soest, the coordination). An axe-core scan checks every
staff page against WCAG 2.1 A and AA, the way tests/system/test_browser.py does.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from typing import Any

import pytest
import requests

from tests.support.browser import assert_accessible
from tests.support.infra import eventually
from tests.support.network import Network, running_network

pytestmark = pytest.mark.system

DEMO = "demo.soesmart.example"
ADMIN = (f"admin.soest@{DEMO}", "demo-soest-2026")
ADMIN_MENDEN = (f"admin.menden@{DEMO}", "demo-menden-2026")
COORDINATOR = (f"koordination@{DEMO}", "demo-region-2026")
BAD_CATALOGUE = (
    "code;title;programme;field_of_action\r\n"
    "VEP-TEST-01;Eine gültige Maßnahme;vep_klima_plus;cycling\r\n"
    "VEP-TEST-02;Falsches Programm;kein_programm;cycling\r\n"
)


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    with running_network(tmp_path_factory.mktemp("net")) as net:
        yield net


def _token(network: Network, account: tuple[str, str]) -> dict[str, str]:
    response = network.post("/api/v1/auth/token", json={"email": account[0], "password": account[1]})
    assert response.status_code == 201, response.text
    return network.bearer(response.json()["token"])


def _signed_in(network: Network, account: tuple[str, str]) -> requests.Session:
    """A browser-like session signed in by the staff sign-in form."""
    session = requests.Session()
    form = session.get(network.url + "/verwaltung/anmelden", timeout=10)
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert csrf
    signed = session.post(network.url + "/verwaltung/anmelden", timeout=10, allow_redirects=False,
                          data={"csrf": csrf.group(1), "email": account[0], "password": account[1]})
    assert signed.status_code == 303, signed.text
    assert "soesmart_staff" in session.cookies
    return session


def _csrf(session: requests.Session) -> str:
    return str(session.cookies.get("soesmart_csrf"))


def _demo_consultation(network: Network, town: str = "soest") -> dict[str, Any]:
    def found() -> dict[str, Any] | None:
        items = network.get(f"/api/v1/towns/{town}/consultations").json().get("items", [])
        return items[0] if items and items[0]["measures"] else None

    return eventually(found, timeout=30, interval=0.5, message=f"{town}'s demo consultation")


def _free_codes(network: Network, taken: set[str], n: int = 2) -> list[str]:
    """Measures of Soest's catalogue that no open consultation asks about yet."""
    def listed() -> list[str] | None:
        response = network.get("/api/v1/measures?town=soest&field_of_action=walking&per_page=100")
        if response.status_code != 200:
            return None
        body = response.json()
        assert set(body) == {"items", "page", "per_page", "total"}
        codes = [m["code"] for m in body["items"] if m["code"] not in taken]
        return codes[:n] if len(codes) >= n else None

    return eventually(listed, timeout=20, message="the catalogue lists walking measures")


# --------------------------------------------------------------------------------- JSON API
def test_a_town_admin_runs_a_consultation_over_the_api(network: Network) -> None:
    admin = _token(network, ADMIN)
    demo = _demo_consultation(network)
    codes = _free_codes(network, {m["code"] for m in demo["measures"]})
    today = date.today()

    # When the admin of Soest creates a consultation with two measures of the catalogue
    created = network.post("/api/v1/towns/soest/consultations", headers=admin, json={
        "title": "Sicher zu Fuß", "description": "Gehwege und Querungen",
        "starts_on": today.isoformat(), "ends_on": (today + timedelta(days=30)).isoformat(),
        "measure_codes": codes})
    assert created.status_code == 201, created.text
    cid = created.json()["id"]
    assert created.json()["status"] == "draft"

    # Then it is a draft that only Soest's admins see
    assert network.get(f"/api/v1/towns/soest/consultations/{cid}").status_code == 404
    assert network.get("/api/v1/towns/soest/consultations?include_drafts=true").status_code == 401
    drafts = network.get("/api/v1/towns/soest/consultations?include_drafts=true", headers=admin)
    assert cid in [c["id"] for c in drafts.json()["items"]]
    menden = _token(network, ADMIN_MENDEN)
    refused = network.post("/api/v1/towns/soest/consultations", headers=menden, json={})
    assert refused.status_code == 403

    # When the admin changes the title and opens it
    patched = requests.patch(f"{network.url}/api/v1/towns/soest/consultations/{cid}", timeout=10,
                             headers=admin, json={"title": "Sicher zu Fuß in Soest"})
    assert patched.status_code == 200, patched.text
    assert patched.json()["title"] == "Sicher zu Fuß in Soest"
    opened = network.post(f"/api/v1/towns/soest/consultations/{cid}/phase", headers=admin,
                          json={"phase": "open"})
    assert opened.status_code == 200, opened.text
    assert network.get(f"/api/v1/towns/soest/consultations/{cid}").json()["status"] == "open"

    # And a citizen comments (another flags it) and proposes an idea
    citizen = network.bearer(network.citizen("soest", name="Zoe Zufuß"))
    comment = network.post(f"/api/v1/towns/soest/measures/{codes[0]}/comments", headers=citizen,
                           json={"body": "Kauft jetzt billig Uhren!", "consultation_id": cid})
    assert comment.status_code == 201, comment.text
    comment_id = comment.json()["id"]
    flagger = network.bearer(network.citizen("soest", name="Fritz Flagge"))
    flagged = network.post(f"/api/v1/towns/soest/comments/{comment_id}/flags", headers=flagger,
                           json={"reason": "spam"})
    assert flagged.status_code == 201, flagged.text
    idea = network.post("/api/v1/towns/soest/ideas", headers=citizen, json={
        "title": "Bänke am Wall", "description": "Am Wall fehlen Bänke zum Ausruhen für Ältere.",
        "field_of_action": "walking"})
    assert idea.status_code == 201, idea.text

    # Then the moderation queue shows the flagged comment first
    queue = network.get("/api/v1/towns/soest/moderation", headers=admin)
    assert queue.status_code == 200, queue.text
    assert comment_id in [i["target_id"] for i in queue.json()["flagged"]]
    assert network.get("/api/v1/towns/soest/moderation", headers=menden).status_code == 403

    # When the admin hides it: without a reason refused, with one recorded
    act = {"target_type": "comment", "target_id": comment_id, "action": "hide"}
    no_reason = network.post("/api/v1/towns/soest/moderation", headers=admin, json=act)
    assert no_reason.status_code == 422
    hidden = network.post("/api/v1/towns/soest/moderation", headers=admin,
                          json={**act, "reason": "Werbung"})
    assert hidden.status_code == 201, hidden.text
    log = network.get("/api/v1/towns/soest/moderation/log?per_page=5", headers=admin).json()
    assert log["items"][0]["reason"] == "Werbung" and log["items"][0]["actor"]
    comments = network.get(f"/api/v1/towns/soest/measures/{codes[0]}/comments").json()["items"]
    assert comment_id not in [c["id"] for c in comments], "hidden content leaves public pages"

    # And decides the idea: a decline needs a reason, an acceptance does not
    decision = f"/api/v1/towns/soest/ideas/{idea.json()['id']}/decision"
    assert network.post(decision, headers=admin, json={"decision": "decline"}).status_code == 422
    accepted = network.post(decision, headers=admin, json={"decision": "accept", "reason": "Gut"})
    assert accepted.status_code == 200, accepted.text

    # When the consultation closes, its results are for staff until they are published
    network.post(f"/api/v1/towns/soest/consultations/{cid}/phase", headers=admin,
                 json={"phase": "closed"})
    assert network.get(f"/api/v1/towns/soest/consultations/{cid}/results.csv").status_code == 401
    csv = network.get(f"/api/v1/towns/soest/consultations/{cid}/results.csv", headers=admin)
    assert csv.status_code == 200, csv.text
    assert csv.headers["Content-Type"].startswith("text/csv")
    assert csv.content.startswith(b"\xef\xbb\xbf") and codes[0].encode() in csv.content
    network.post(f"/api/v1/towns/soest/consultations/{cid}/phase", headers=admin,
                 json={"phase": "results_published"})
    public = network.get(f"/api/v1/towns/soest/consultations/{cid}/results")
    assert public.status_code == 200 and public.json()["status"] == "results_published"


def test_a_coordinator_imports_a_catalogue_file_with_an_error_and_reads_the_report(
        network: Network) -> None:
    coordinator = _token(network, COORDINATOR)
    response = network.post("/api/v1/measures/import", data=BAD_CATALOGUE.encode(),
                            headers={**coordinator, "Content-Type": "text/csv"})
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "CATALOGUE_IMPORT_INVALID"
    assert {"row": 3, "column": "programme"}.items() <= response.json()["details"][0].items()
    assert network.get("/api/v1/measures/VEP-TEST-01").status_code == 404, "nothing was applied"
    page = network.get("/api/v1/measures?programme=masterplan_klimapakt&page=2&per_page=10")
    assert page.json()["page"] == 2 and len(page.json()["items"]) == 10
    assert network.get("/api/v1/measures?page=0").status_code == 422


# --------------------------------------------------------------------------------- pages
def test_a_town_admin_creates_opens_and_moderates_on_the_pages(network: Network) -> None:
    session = _signed_in(network, ADMIN)
    base = network.url + "/verwaltung/stadt/soest"
    demo = _demo_consultation(network)
    code = _free_codes(network, {m["code"] for m in demo["measures"]}, n=3)[2]

    # Given the form for a new consultation, offering the town's measures as checkboxes
    form = session.get(base + "/beteiligungen/neu", timeout=10)
    assert form.status_code == 200
    assert f'id="m-{code}"' in form.text

    # When it is sent with a too short title, it comes back with a linked error summary
    today = date.today()
    fields = {"csrf": _csrf(session), "title": "Rad", "description": "Worum es geht",
              "starts_on": today.isoformat(), "ends_on": (today + timedelta(days=14)).isoformat(),
              "measure_codes": code}
    wrong = session.post(base + "/beteiligungen", data=fields, timeout=10)
    assert wrong.status_code == 422
    assert 'href="#title"' in wrong.text and ">Worum es geht</textarea>" in wrong.text

    # When it is sent right, the consultation exists as a draft, and opens with its button
    done = session.post(base + "/beteiligungen", data={**fields, "title": "Querungen 2026"},
                        timeout=10, allow_redirects=False)
    assert done.status_code == 303, done.text
    detail = session.get(network.url + done.headers["Location"], timeout=10)
    assert "Querungen 2026" in detail.text and "als Entwurf angelegt" in detail.text
    cid = done.headers["Location"].split("/")[-1].split("?")[0]
    opened = session.post(f"{base}/beteiligungen/{cid}/phase", timeout=10,
                          data={"csrf": _csrf(session), "phase": "open"})
    assert opened.status_code == 200 and "ist geöffnet" in opened.text

    # And the moderation, ideas and results pages answer, the CSV downloads
    for path in ("/moderation", "/ideen", f"/beteiligungen/{cid}/ergebnisse", "/ergebnisse"):
        assert session.get(base + path, timeout=10).status_code == 200, path
    results = session.get(f"{base}/beteiligungen/{cid}/ergebnisse", timeout=10)
    assert 'role="img"' in results.text and "<caption>" in results.text
    csv = session.get(f"{base}/beteiligungen/{cid}/ergebnisse.csv", timeout=10)
    assert csv.status_code == 200 and csv.headers["Content-Type"].startswith("text/csv")

    # And hiding without a reason is refused at the reason field of that item
    citizen = network.bearer(network.citizen("soest"))
    posted = network.post(f"/api/v1/towns/soest/measures/{demo['measures'][0]['code']}/comments",
                          headers=citizen, json={"body": "Zu moderieren.", "consultation_id": demo["id"]})
    assert posted.status_code == 201, posted.text
    comment_id = posted.json()["id"]
    items = re.findall(r'name="target_id" value="([^"]+)"',
                       session.get(base + "/moderation", timeout=10).text)
    assert comment_id in items, "the new comment waits in the moderation queue"
    refused = session.post(base + "/moderation", timeout=10, data={
        "csrf": _csrf(session), "target_type": "comment", "target_id": comment_id,
        "action": "hide", "reason": ""})
    assert refused.status_code == 422 and f'href="#reason-{comment_id}"' in refused.text

    # And nobody else reaches Soest's pages
    assert requests.get(base + "/moderation", timeout=10).status_code == 401
    assert _signed_in(network, ADMIN_MENDEN).get(base + "/moderation", timeout=10).status_code == 403


def test_a_coordinator_sees_the_dashboard_and_the_import_report_on_the_pages(
        network: Network) -> None:
    # Given citizens of two towns who answered differently about a measure of the region
    for town, support in (("soest", "yes"), ("olpe", "no")):
        _demo_consultation(network, town)
        citizen = network.bearer(network.citizen(town))
        rated = network.post(f"/api/v1/towns/{town}/ratings", headers=citizen, json={
            "measure_code": "VEP-RAD-02", "effectiveness": 4, "support": support})
        assert rated.status_code == 201, rated.text

    # Then the coordinator's dashboard draws participation, top measures, town against
    # town and disagreement as charts with their tables
    session = _signed_in(network, COORDINATOR)
    region = network.url + "/verwaltung/region"

    def charted() -> str | None:
        page = session.get(region + "/ergebnisse?massnahme=VEP-RAD-02", timeout=10)
        assert page.status_code == 200
        return page.text if page.text.count('role="img"') == 4 else None

    dashboard = eventually(charted, timeout=20, message="the ratings reach the dashboard")
    assert "<caption>Unterstützung für VEP-RAD-02 je Stadt</caption>" in dashboard

    # When a catalogue file with an error is uploaded, the report names row and column

    refused = session.post(region + "/katalog/import", timeout=20, data={"csrf": _csrf(session)},
                           files={"file": ("katalog.csv", BAD_CATALOGUE.encode(), "text/csv")})
    assert refused.status_code == 422
    assert '<th scope="row">3</th><td>programme</td>' in refused.text

    measure = session.get(region + "/massnahmen/VEP-RAD-01", timeout=10)
    assert measure.status_code == 200 and "Stand ändern" in measure.text
    for path in ("/katalog?programme=vep_klima_plus&page=2", "/zustellungen", "/exporte"):
        assert session.get(region + path, timeout=10).status_code == 200, path
    export = session.get(region + "/katalog/export.csv", timeout=20)
    assert export.status_code == 200 and export.headers["Content-Type"].startswith("text/csv")


# --------------------------------------------------------------------------------- axe-core
@pytest.fixture(scope="module")
def activity(network: Network) -> None:
    """Answers in two towns and a flagged comment in Soest: charts and the queue have content."""
    demo = _demo_consultation(network)
    code = demo["measures"][0]["code"]
    for town, support in (("soest", "rather_yes"), ("olpe", "rather_no")):
        _demo_consultation(network, town)
        citizen = network.bearer(network.citizen(town))
        rated = network.post(f"/api/v1/towns/{town}/ratings", headers=citizen, json={
            "measure_code": "VEP-RAD-02", "effectiveness": 3, "support": support})
        assert rated.status_code == 201, rated.text
    citizen = network.bearer(network.citizen("soest", name="Paula Prüfer"))
    comment = network.post(f"/api/v1/towns/soest/measures/{code}/comments", headers=citizen,
                           json={"body": "Bitte prüfen <b>Sie</b> das.", "consultation_id": demo["id"]})
    assert comment.status_code == 201, comment.text
    flagged = network.post(f"/api/v1/towns/soest/comments/{comment.json()['id']}/flags",
                           headers=citizen, json={"reason": "off_topic"})
    assert flagged.status_code == 201, flagged.text
    idea = network.post("/api/v1/towns/soest/ideas", headers=citizen, json={
        "title": "Zebrastreifen am Markt", "description": "Am Markt fehlt ein sicherer Übergang.",
        "field_of_action": "walking"})
    assert idea.status_code == 201, idea.text
    eventually(lambda: (network.results_for("VEP-RAD-02") or {}).get("towns", {}).get("olpe"),
               timeout=20, message="the answers reach the regional results")


def _audit_page(browser: Any, network: Network, account: tuple[str, str] | None) -> Any:
    context = browser.new_context(base_url=network.url, locale="de-DE", bypass_csp=True)
    if account is not None:
        session = _signed_in(network, account)
        context.add_cookies([{"name": name, "value": value, "url": network.url}
                             for name, value in session.cookies.items()])
    return context


def _go(path: str, status: int = 200) -> Callable[[Any, Network], None]:
    """Open a page and require the status the row is about (a page for staff: 200)."""
    def go(page: Any, network: Network) -> None:
        if "{cid}" in path:
            target = path.replace("{cid}", _demo_consultation(network)["id"])
        else:
            target = path

        def answered() -> bool:  # a 503 (a service busy past the deadline) asks to come again
            response = page.goto(target)
            assert response is not None and response.status in (status, 503), (target, response.status)
            return response.status != 503

        eventually(answered, timeout=20, interval=1, message=f"{target} answers")
    return go


def _create_with_errors(page: Any, network: Network) -> None:
    from playwright.sync_api import expect

    page.goto("/verwaltung/stadt/soest/beteiligungen/neu")
    page.get_by_label(re.compile("^Titel")).fill("Rad")
    page.get_by_role("button", name="Beteiligung als Entwurf anlegen").click()
    expect(page.get_by_role("alert")).to_be_visible()


def _hide_without_reason(page: Any, network: Network) -> None:
    from playwright.sync_api import expect

    # The `activity` fixture flagged a comment: the queue has a hide button
    page.goto("/verwaltung/stadt/soest/moderation")
    hide = page.get_by_role("button", name=re.compile("^Ausblenden"))
    expect(hide.first).to_be_visible()
    with page.expect_response(lambda r: r.request.method == "POST") as sent:
        hide.first.click()
    assert sent.value.status == 422, sent.value.status
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page.locator('a[href^="#reason-"]').first).to_be_visible()


def _import_with_error(page: Any, network: Network) -> None:
    from playwright.sync_api import expect

    page.goto("/verwaltung/region/katalog")
    page.get_by_label(re.compile("^Katalogdatei")).set_input_files(
        {"name": "katalog.csv", "mimeType": "text/csv", "buffer": BAD_CATALOGUE.encode()})
    page.get_by_role("button", name="Datei importieren").click()
    expect(page.get_by_role("heading", name="Prüfbericht des Imports")).to_be_visible()


TOWN = "/verwaltung/stadt/soest"
REGION = "/verwaltung/region"
AUDITED: list[tuple[str, tuple[str, str] | None, Callable[[Any, Network], None]]] = [
    ("consultations", ADMIN, _go(f"{TOWN}/beteiligungen")),
    ("new consultation", ADMIN, _go(f"{TOWN}/beteiligungen/neu")),
    ("new consultation with errors", ADMIN, _create_with_errors),
    ("consultation", ADMIN, _go(f"{TOWN}/beteiligungen/{{cid}}")),
    ("edit open consultation", ADMIN, _go(f"{TOWN}/beteiligungen/{{cid}}/bearbeiten")),
    ("results with charts", ADMIN, _go(f"{TOWN}/beteiligungen/{{cid}}/ergebnisse")),
    ("town results list", ADMIN, _go(f"{TOWN}/ergebnisse")),
    ("moderation", ADMIN, _go(f"{TOWN}/moderation")),
    ("moderation with an error", ADMIN, _hide_without_reason),
    ("ideas", ADMIN, _go(f"{TOWN}/ideen")),
    ("English consultations", ADMIN, _go(f"{TOWN}/beteiligungen?lang=en")),
    ("dashboard", COORDINATOR, _go(f"{REGION}/ergebnisse")),
    ("catalogue", COORDINATOR, _go(f"{REGION}/katalog")),
    ("catalogue filtered, page 2", COORDINATOR,
     _go(f"{REGION}/katalog?programme=vep_klima_plus&page=2")),
    ("catalogue import report", COORDINATOR, _import_with_error),
    ("measure status", COORDINATOR, _go(f"{REGION}/massnahmen/VEP-RAD-01")),
    ("deliveries", COORDINATOR, _go(f"{REGION}/zustellungen")),
    ("exports", COORDINATOR, _go(f"{REGION}/exporte")),
    ("town results for the coordinator", COORDINATOR, _go(f"{TOWN}/beteiligungen/{{cid}}/ergebnisse")),
    ("English dashboard", COORDINATOR, _go(f"{REGION}/ergebnisse?lang=en")),
    ("sign-in needed", None, _go(f"{REGION}/katalog", status=401)),
]


@pytest.mark.browser
@pytest.mark.parametrize(("account", "reach"), [(a, r) for _, a, r in AUDITED],
                         ids=[n for n, _, _ in AUDITED])
def test_every_staff_page_meets_wcag_2_1_a_and_aa_by_axe_core(
        browser: Any, axe_script: str, network: Network, activity: None,
        account: tuple[str, str] | None, reach: Callable[[Any, Network], None]) -> None:
    context = _audit_page(browser, network, account)
    try:
        page = context.new_page()
        reach(page, network)
        if re.search(r"/(beteiligungen/[^/]+|region)/ergebnisse", page.url):
            # the charts themselves are audited, not "no data yet"
            assert page.locator("svg[role=img]").count() >= 2, page.url
        assert_accessible(page, axe_script)
    finally:
        context.close()
