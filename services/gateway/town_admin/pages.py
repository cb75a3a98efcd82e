"""Pages of a town's admins (/verwaltung/stadt/<town>): consultations, results, moderation, ideas.

Coordinators read a town's consultations and results here too; only the town's
admins change anything. Charts come from `web.charts` and always carry their
figures as a table.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from werkzeug.wrappers import Response

from services.gateway.web.backend import Backend, town_or_404
from services.gateway.web.catalogue import whole_catalogue
from services.gateway.web.downloads import csv_download
from services.gateway.web.errors import ApiError
from services.gateway.web.page import Page
from services.gateway.web.permissions import Principal, can
from services.gateway.web.results_charts import town_results_charts
from services.gateway.web.staff_pages import errors_of, form_errors, render, staff, validated
from soesmart.contracts import (
    CLIMATE_FIELDS,
    MOBILITY_FIELDS,
    ChangeConsultationPhase,
    CreateConsultation,
    DecideIdea,
    Moderate,
    Programme,
    UpdateConsultation,
)
from soesmart.i18n import label
from soesmart.towns import Town

PHASE_ACTIONS = {"draft": "open", "open": "closed", "closed": "results_published"}


def town_catalogue(backend: Backend, town: Town) -> list[dict[str, Any]]:
    """The measures that apply to the town (named, or region-wide), in catalogue order."""
    return whole_catalogue(backend, town=town.slug)


def grouped_by_field(measures: Sequence[dict[str, Any]], lang: str) -> list[dict[str, Any]]:
    fields: dict[str, list[dict[str, Any]]] = {}
    for m in measures:
        fields.setdefault(m["field_of_action"], []).append(m)
    order = list(MOBILITY_FIELDS + CLIMATE_FIELDS)
    return [{"field": f, "label": label("field_of_action", f, lang), "measures": ms}
            for f, ms in sorted(fields.items(),
                                key=lambda kv: order.index(kv[0]) if kv[0] in order else 99)]


def town_home(page: Page, backend: Backend, town: str, results_only: bool = False) -> Response:
    """The town's consultations (admins), or those with results (admins and coordinators)."""
    t = town_or_404(town)
    who = staff(page, "town_results.read", t.slug)
    manages = can(who, "consultation.manage", t.slug)
    consultations = backend.call(t.service_name, "list_consultations", include_drafts=manages)
    if results_only:
        consultations = [c for c in consultations if c["status"] != "draft"]
    return render(page, "admin/town_home.html", who, town=t, current_town=None,
                   consultations=consultations, manages=manages and not results_only,
                   results_only=results_only)


CONSULTATION_FIELDS = {"title": "title", "description": "description", "starts_on": "starts_on",
                       "ends_on": "ends_on", "programmes": "pick", "fields_of_action": "pick",
                       "measure_codes": "pick", "": "ends_on"}


def _consultation_form(page: Page, backend: Backend, t: Town, who: Principal,
                       values: dict[str, Any], consultation: dict[str, Any] | None = None,
                       errors: list[dict[str, str]] | None = None, status: int = 200) -> Response:
    locked = consultation is not None and consultation["status"] != "draft"
    catalogue = [] if locked else town_catalogue(backend, t)
    programmes = sorted({m["programme"] for m in catalogue},
                        key=lambda p: list(Programme).index(Programme(p)))
    fields = [g["field"] for g in grouped_by_field(catalogue, page.lang)]
    return render(page, "admin/consultation_form.html", who, status=status, town=t,
                   current_town=None, consultation=consultation, values=values,
                   errors=errors or [], locked=locked, programmes=programmes,
                   fields=fields, groups=grouped_by_field(catalogue, page.lang))


def consultation_new(page: Page, backend: Backend, town: str) -> Response:
    t = town_or_404(town)
    who = staff(page, "consultation.manage", t.slug)
    values = {"title": "", "description": "", "starts_on": date.today().isoformat(),
              "ends_on": "", "programmes": [], "fields_of_action": [], "measure_codes": []}
    return _consultation_form(page, backend, t, who, values)


def _consultation_values(page: Page) -> dict[str, Any]:
    form = page.request.form
    return {"title": form.get("title", "").strip(), "description": form.get("description", "").strip(),
            "starts_on": form.get("starts_on", "").strip(), "ends_on": form.get("ends_on", "").strip(),
            "programmes": form.getlist("programmes"), "fields_of_action": form.getlist("fields_of_action"),
            "measure_codes": form.getlist("measure_codes")}


def consultation_create(page: Page, backend: Backend, town: str) -> Response:
    t = town_or_404(town)
    who = staff(page, "consultation.manage", t.slug)
    page.check_csrf()
    values = _consultation_values(page)
    data = {k: (v or None) if k in ("starts_on", "ends_on") else v for k, v in values.items()}
    try:
        cmd = validated(CreateConsultation, {**data, "actor": who.name})
        created = backend.call(t.service_name, "create_consultation",
                               command=cmd.model_dump(mode="json"))
    except ApiError as exc:
        if exc.status not in (409, 422):
            raise
        errors = form_errors(page, errors_of(exc), CONSULTATION_FIELDS)
        return _consultation_form(page, backend, t, who, values, errors=errors, status=422)
    return page.redirect(f"/verwaltung/stadt/{t.slug}/beteiligungen/{created['id']}?erledigt=created")


def _consultation(backend: Backend, t: Town, cid: str) -> dict[str, Any]:
    consultation: dict[str, Any] = backend.call(t.service_name, "get_consultation",
                                                consultation_id=cid)
    return consultation


def consultation_edit(page: Page, backend: Backend, town: str, cid: str) -> Response:
    t = town_or_404(town)
    who = staff(page, "consultation.manage", t.slug)
    c = _consultation(backend, t, cid)
    values = {"title": c["title"], "description": c["description"], "starts_on": c["starts_on"],
              "ends_on": c["ends_on"], "programmes": [], "fields_of_action": [],
              "measure_codes": [m["code"] for m in c["measures"]]}
    return _consultation_form(page, backend, t, who, values, consultation=c)


def consultation_update(page: Page, backend: Backend, town: str, cid: str) -> Response:
    t = town_or_404(town)
    who = staff(page, "consultation.manage", t.slug)
    page.check_csrf()
    c = _consultation(backend, t, cid)
    values = _consultation_values(page)
    data: dict[str, Any] = {"consultation_id": cid, "actor": who.name, "title": values["title"],
                            "description": values["description"],
                            "ends_on": values["ends_on"] or None}
    if c["status"] == "draft":  # an open consultation keeps its start and its measures
        data.update(starts_on=values["starts_on"] or None, programmes=values["programmes"],
                    fields_of_action=values["fields_of_action"],
                    measure_codes=values["measure_codes"])
    try:
        cmd = validated(UpdateConsultation, data)
        backend.call(t.service_name, "update_consultation", command=cmd.model_dump(mode="json"))
    except ApiError as exc:
        if exc.status not in (409, 422):
            raise
        errors = form_errors(page, errors_of(exc), CONSULTATION_FIELDS)
        if c["status"] != "draft":
            values["starts_on"] = c["starts_on"]
        return _consultation_form(page, backend, t, who, values, consultation=c, errors=errors,
                                  status=422)
    return page.redirect(f"/verwaltung/stadt/{t.slug}/beteiligungen/{cid}?erledigt=updated")


def consultation_detail(page: Page, backend: Backend, town: str, cid: str,
                        errors: list[dict[str, str]] | None = None, status: int = 200) -> Response:
    t = town_or_404(town)
    who = staff(page, "town_results.read", t.slug)  # coordinators read, the town's admins act
    manages = can(who, "consultation.manage", t.slug)
    c = _consultation(backend, t, cid)
    if c["status"] == "draft" and not manages:
        raise ApiError("CONSULTATION_NOT_FOUND", page.t("not_found"))
    return render(page, "admin/consultation.html", who, status=status, town=t, current_town=None,
                   c=c, next_phase=PHASE_ACTIONS.get(c["status"]), errors=errors or [],
                   groups=grouped_by_field(c["measures"], page.lang), manages=manages)


def consultation_phase(page: Page, backend: Backend, town: str, cid: str) -> Response:
    t = town_or_404(town)
    who = staff(page, "consultation.manage", t.slug)
    page.check_csrf()
    phase = page.request.form.get("phase", "")
    if phase == "results_published" and page.request.form.get("confirm") != "yes":
        # Published results are public at once: the admin says so first (nothing is written).
        errors = [{"field": "confirm", "name": "confirm", "label": page.t("adm_field_confirm"),
                   "problem": page.t("adm_publish_confirm_missing")}]
        return consultation_detail(page, backend, town, cid, errors=errors, status=422)
    try:
        cmd = validated(ChangeConsultationPhase,
                        {"consultation_id": cid, "phase": phase, "actor": who.name})
        backend.call(t.service_name, "change_consultation_phase",
                     command=cmd.model_dump(mode="json"))
    except ApiError as exc:
        if exc.status not in (409, 422):
            raise
        errors = [{"field": "phase-button", "name": "phase", "label": page.t("adm_field_phase"),
                   "problem": exc.message}]
        return consultation_detail(page, backend, town, cid, errors=errors, status=exc.status)
    return page.redirect(f"/verwaltung/stadt/{t.slug}/beteiligungen/{cid}?erledigt={phase}")


def results_page(page: Page, backend: Backend, town: str, cid: str) -> Response:
    t = town_or_404(town)
    who = staff(page, "town_results.read", t.slug)
    results = backend.call(t.service_name, "town_results", consultation_id=cid)
    return render(page, "admin/results.html", who, town=t, current_town=None, results=results,
                   charts=town_results_charts(page, results), verified=verified_share(results),
                   manages=can(who, "consultation.manage", t.slug))


def verified_share(results: dict[str, Any]) -> dict[str, Any]:
    """How many answers came from identities a provider verified, by its trust level."""
    by_trust = dict(results.get("answers_by_trust") or {})
    total = sum(by_trust.values())
    levels = sorted((level, n) for level, n in by_trust.items() if level)
    verified = sum(n for _, n in levels)
    return {"n": verified, "total": total, "levels": levels,
            "percent": round(100 * verified / total) if total else 0}


def results_csv(page: Page, backend: Backend, town: str, cid: str) -> Response:
    t = town_or_404(town)
    staff(page, "town_results.read", t.slug)
    text = backend.call(t.service_name, "town_results_csv", consultation_id=cid)
    return csv_download(text, f"ergebnisse-{t.slug}-{cid[:8]}.csv")


MODERATION_FIELDS = {"reason": "reason", "": "reason"}


def moderation_page(page: Page, backend: Backend, town: str,
                    errors: list[dict[str, str]] | None = None, status: int = 200,
                    failed: str | None = None) -> Response:
    t = town_or_404(town)
    who = staff(page, "moderation", t.slug)
    queue = backend.call(t.service_name, "moderation_queue")
    log = backend.call(t.service_name, "moderation_log", limit=100)
    return render(page, "admin/moderation.html", who, status=status, town=t, current_town=None,
                   queue=queue, log=log, errors=errors or [], failed=failed,
                   reason=page.request.form.get("reason", "") if failed else "")


def moderation_act(page: Page, backend: Backend, town: str) -> Response:
    t = town_or_404(town)
    who = staff(page, "moderation", t.slug)
    page.check_csrf()
    form = page.request.form
    target = form.get("target_id", "")
    try:
        cmd = validated(Moderate, {"target_type": form.get("target_type", ""), "target_id": target,
                                   "action": form.get("action", ""),
                                   "reason": form.get("reason", "").strip(), "actor": who.name})
        backend.call(t.service_name, "moderate", command=cmd.model_dump(mode="json"))
    except ApiError as exc:
        if exc.status not in (404, 409, 422):
            raise
        errors = form_errors(page, errors_of(exc), MODERATION_FIELDS)
        for e in errors:
            e["field"] = f"reason-{target}"
            e["label"] = page.t("adm_field_reason")
        return moderation_page(page, backend, town, errors=errors, status=exc.status, failed=target)
    return page.redirect(f"/verwaltung/stadt/{t.slug}/moderation?erledigt=moderated")


IDEA_STATUSES = ("submitted", "accepted", "declined")


def ideas_page(page: Page, backend: Backend, town: str, errors: list[dict[str, str]] | None = None,
               status: int = 200, failed: str | None = None) -> Response:
    t = town_or_404(town)
    who = staff(page, "idea.decide", t.slug)
    wanted = page.request.args.get("status")
    ideas = backend.call(t.service_name, "list_ideas",
                         status=wanted if wanted in IDEA_STATUSES else None, include_hidden=True)
    ideas = sorted(ideas, key=lambda i: (IDEA_STATUSES.index(i["status"]), i["created_at"]))
    return render(page, "admin/ideas.html", who, status=status, town=t, current_town=None,
                   ideas=ideas, wanted=wanted if wanted in IDEA_STATUSES else "",
                   statuses=IDEA_STATUSES, errors=errors or [], failed=failed,
                   reason=page.request.form.get("reason", "") if failed else "")


def idea_decide(page: Page, backend: Backend, town: str, idea_id: str) -> Response:
    t = town_or_404(town)
    who = staff(page, "idea.decide", t.slug)
    page.check_csrf()
    form = page.request.form
    try:
        cmd = validated(DecideIdea, {"idea_id": idea_id, "decision": form.get("decision", ""),
                                     "reason": form.get("reason", "").strip(), "actor": who.name})
        backend.call(t.service_name, "decide_idea", command=cmd.model_dump(mode="json"))
    except ApiError as exc:
        if exc.status not in (404, 409, 422):
            raise
        errors = form_errors(page, errors_of(exc), {"reason": "reason", "": "reason"})
        for e in errors:
            e["field"] = f"reason-{idea_id}"
            e["label"] = page.t("adm_field_reason")
        return ideas_page(page, backend, town, errors=errors, status=exc.status, failed=idea_id)
    return page.redirect(f"/verwaltung/stadt/{t.slug}/ideen?erledigt=decided")
