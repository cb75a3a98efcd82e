"""Pages of the staff: town admins (/verwaltung/stadt/<town>) and coordinators (/verwaltung/region).

Forms come back with what was entered and an error summary linking to each field
(WCAG 3.3.1, 3.3.3) instead of a separate error page; a successful POST redirects
(303) to a page that says what happened in a status region. Charts come from
`charts` and always carry their figures as a table.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any
from urllib.parse import quote, urlencode

from pydantic import BaseModel, ValidationError
from werkzeug.wrappers import Response

from services.gateway.web import charts
from services.gateway.web.backend import Backend, town_or_404, validation_details
from services.gateway.web.errors import ApiError
from services.gateway.web.page import Page
from services.gateway.web.paging import page_count, page_request, paginate
from services.gateway.web.permissions import Principal, can, principal_from_request, require
from soesmart.contracts import (
    CLIMATE_FIELDS,
    MOBILITY_FIELDS,
    ChangeConsultationPhase,
    ChangeMeasureStatus,
    CreateConsultation,
    DecideIdea,
    MeasureStatus,
    Moderate,
    Programme,
    UpdateConsultation,
)
from soesmart.i18n import format_date, label
from soesmart.towns import Town, towns

SIGN_IN = "/verwaltung/anmelden"
SUPPORT_KEYS = ("yes", "rather_yes", "rather_no", "no")
PHASE_ACTIONS = {"draft": "open", "open": "closed", "closed": "results_published"}
NOTICES = {"created", "updated", "open", "closed", "results_published", "moderated", "decided",
           "status_changed"}
IMPORT_FORMATS = {"csv", "json"}


class SignInRequired(Exception):
    """Nobody is signed in: the page shows the way to the staff sign-in."""


# ------------------------------------------------------------------------------ who


def staff(page: Page, action: str, town: str | None = None) -> Principal:
    """The signed-in staff member if they may do `action`; anonymous people sign in first."""
    principal = principal_from_request(page.request, page.settings)
    if principal.role == "anonymous":
        raise SignInRequired()
    return require(principal, action, town)


def sign_in_needed(page: Page) -> Response:
    """401 with the way to the staff sign-in (and back here afterwards, where supported)."""
    target = page.request.path
    if page.request.query_string:
        target += "?" + page.request.query_string.decode("latin-1")
    return page.render("admin/sign_in_needed.html", status=401,
                       sign_in=f"{SIGN_IN}?{urlencode({'weiter': target})}")


def _render(page: Page, template: str, who: Principal, status: int = 200,
            **context: Any) -> Response:
    notice = page.request.args.get("erledigt")
    return page.render(template, status=status, who=who,
                       notice=page.t(f"adm_done_{notice}") if notice in NOTICES else None,
                       **context)


# ------------------------------------------------------------------------------ form errors


def form_errors(page: Page, details: Iterable[dict[str, Any]], fields: dict[str, str],
                prefix: str = "") -> list[dict[str, str]]:
    """Refusal details as an error summary: each names its field and links to its input.

    `fields` maps a contract field to the id of its input; problems without a known
    field (a rule over several fields) go to `fields[""]`.
    """
    errors: list[dict[str, str]] = []
    for d in details:
        name = str(d.get("field", "")).split(".")[0]
        if name in ("body", "__root__"):
            name = ""
        if name not in fields:
            name = ""
        key = f"adm_err_{name or 'general'}"
        problem = page.t(key) if page.t(key) != key else str(d.get("problem", ""))
        if name == "" and d.get("problem"):
            problem = str(d["problem"]).removeprefix("Value error, ")
        target = fields.get(name, "")
        entry = {"field": prefix + target if target else "", "name": name,
                 "label": page.t(f"adm_field_{name}") if name else "", "problem": problem}
        if entry not in errors:
            errors.append(entry)
    return errors


def _validate(model: type[BaseModel], data: dict[str, Any]) -> BaseModel:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ApiError("VALIDATION_FAILED", "Die Angaben sind ungültig.",
                       validation_details(exc)) from None


def _errors_of(exc: ApiError) -> list[dict[str, Any]]:
    return exc.details or [{"field": "", "problem": exc.message}]


# ------------------------------------------------------------------------------ the town's catalogue


def town_catalogue(backend: Backend, town: Town) -> list[dict[str, Any]]:
    """The measures that apply to the town (named, or region-wide), in catalogue order."""
    exported = json.loads(backend.call("measures", "export_catalogue", format="json"))
    return [m for m in exported["measures"] if not m.get("towns") or town.slug in m["towns"]]


def grouped_by_field(measures: Sequence[dict[str, Any]], lang: str) -> list[dict[str, Any]]:
    fields: dict[str, list[dict[str, Any]]] = {}
    for m in measures:
        fields.setdefault(m["field_of_action"], []).append(m)
    order = list(MOBILITY_FIELDS + CLIMATE_FIELDS)
    return [{"field": f, "label": label("field_of_action", f, lang), "measures": ms}
            for f, ms in sorted(fields.items(),
                                key=lambda kv: order.index(kv[0]) if kv[0] in order else 99)]


# ------------------------------------------------------------------------------ town admin


def town_home(page: Page, backend: Backend, town: str, results_only: bool = False) -> Response:
    """The town's consultations (admins), or those with results (admins and coordinators)."""
    t = town_or_404(town)
    who = staff(page, "town_results.read", t.slug)
    manages = can(who, "consultation.manage", t.slug)
    consultations = backend.call(t.service_name, "list_consultations", include_drafts=manages)
    if results_only:
        consultations = [c for c in consultations if c["status"] != "draft"]
    return _render(page, "admin/town_home.html", who, town=t, current_town=None,
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
    return _render(page, "admin/consultation_form.html", who, status=status, town=t,
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
        cmd = _validate(CreateConsultation, {**data, "actor": who.name})
        created = backend.call(t.service_name, "create_consultation",
                               command=cmd.model_dump(mode="json"))
    except ApiError as exc:
        if exc.status not in (409, 422):
            raise
        errors = form_errors(page, _errors_of(exc), CONSULTATION_FIELDS)
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
        cmd = _validate(UpdateConsultation, data)
        backend.call(t.service_name, "update_consultation", command=cmd.model_dump(mode="json"))
    except ApiError as exc:
        if exc.status not in (409, 422):
            raise
        errors = form_errors(page, _errors_of(exc), CONSULTATION_FIELDS)
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
    return _render(page, "admin/consultation.html", who, status=status, town=t, current_town=None,
                   c=c, next_phase=PHASE_ACTIONS.get(c["status"]), errors=errors or [],
                   groups=grouped_by_field(c["measures"], page.lang), manages=manages)


def consultation_phase(page: Page, backend: Backend, town: str, cid: str) -> Response:
    t = town_or_404(town)
    who = staff(page, "consultation.manage", t.slug)
    page.check_csrf()
    phase = page.request.form.get("phase", "")
    try:
        cmd = _validate(ChangeConsultationPhase,
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


def _day(iso: str, lang: str) -> str:
    return format_date(iso[:10], lang, "day_month")


def town_results_charts(page: Page, results: dict[str, Any]) -> list[charts.Chart]:
    """Support per measure, mean effectiveness per measure, participation per day."""
    lang, t = page.lang, page.t
    measures = results["measures"]
    support = charts.stacked_bar_chart(
        "support", t("adm_chart_support"), t("adm_chart_support_desc", n=len(measures)),
        [label("support", k, lang) for k in SUPPORT_KEYS],
        [charts.StackedBar(f"{m['code']} {m['title']}",
                           [int(m["tally"]["support"].get(k, 0)) for k in SUPPORT_KEYS])
         for m in measures],
        label_column=t("adm_measure"), lang=lang)
    effectiveness = charts.bar_chart(
        "effectiveness", t("adm_chart_effectiveness"), t("adm_chart_effectiveness_desc"),
        [charts.Bar(f"{m['code']} {m['title']}", m["tally"]["effectiveness_mean"],
                    (charts.number(m["tally"]["effectiveness_count"], lang),
                     charts.number(m["comments"], lang)))
         for m in measures],
        columns=(t("adm_measure"), t("adm_mean"), t("adm_answers"), t("adm_comments")),
        value_text=lambda v: charts.number(v, lang, 1), maximum=5)
    days = results["days"]
    kinds = ("ratings", "citizens", "comments", "ideas")
    over_time = charts.line_chart(
        "days", t("adm_chart_days"), t("adm_chart_days_desc", n=len(days)),
        [_day(d["day"], lang) for d in days],
        [charts.Series(t(f"adm_{k}"), [d.get(k, 0) for d in days]) for k in kinds],
        x_column=t("adm_day"), lang=lang)
    return [support, effectiveness, over_time]


def results_page(page: Page, backend: Backend, town: str, cid: str) -> Response:
    t = town_or_404(town)
    who = staff(page, "town_results.read", t.slug)
    results = backend.call(t.service_name, "town_results", consultation_id=cid)
    return _render(page, "admin/results.html", who, town=t, current_town=None, results=results,
                   charts=town_results_charts(page, results),
                   manages=can(who, "consultation.manage", t.slug))


def csv_download(text: str, filename: str) -> Response:
    return Response(text.encode("utf-8"), content_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


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
    return _render(page, "admin/moderation.html", who, status=status, town=t, current_town=None,
                   queue=queue, log=log, errors=errors or [], failed=failed,
                   reason=page.request.form.get("reason", "") if failed else "")


def moderation_act(page: Page, backend: Backend, town: str) -> Response:
    t = town_or_404(town)
    who = staff(page, "moderation", t.slug)
    page.check_csrf()
    form = page.request.form
    target = form.get("target_id", "")
    try:
        cmd = _validate(Moderate, {"target_type": form.get("target_type", ""), "target_id": target,
                                   "action": form.get("action", ""),
                                   "reason": form.get("reason", "").strip(), "actor": who.name})
        backend.call(t.service_name, "moderate", command=cmd.model_dump(mode="json"))
    except ApiError as exc:
        if exc.status not in (404, 409, 422):
            raise
        errors = form_errors(page, _errors_of(exc), MODERATION_FIELDS)
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
    return _render(page, "admin/ideas.html", who, status=status, town=t, current_town=None,
                   ideas=ideas, wanted=wanted if wanted in IDEA_STATUSES else "",
                   statuses=IDEA_STATUSES, errors=errors or [], failed=failed,
                   reason=page.request.form.get("reason", "") if failed else "")


def idea_decide(page: Page, backend: Backend, town: str, idea_id: str) -> Response:
    t = town_or_404(town)
    who = staff(page, "idea.decide", t.slug)
    page.check_csrf()
    form = page.request.form
    try:
        cmd = _validate(DecideIdea, {"idea_id": idea_id, "decision": form.get("decision", ""),
                                     "reason": form.get("reason", "").strip(), "actor": who.name})
        backend.call(t.service_name, "decide_idea", command=cmd.model_dump(mode="json"))
    except ApiError as exc:
        if exc.status not in (404, 409, 422):
            raise
        errors = form_errors(page, _errors_of(exc), {"reason": "reason", "": "reason"})
        for e in errors:
            e["field"] = f"reason-{idea_id}"
            e["label"] = page.t("adm_field_reason")
        return ideas_page(page, backend, town, errors=errors, status=exc.status, failed=idea_id)
    return page.redirect(f"/verwaltung/stadt/{t.slug}/ideen?erledigt=decided")


# ------------------------------------------------------------------------------ coordinators


def _int_arg(page: Page, name: str, default: int, lo: int, hi: int) -> int:
    try:
        value = int(page.request.args.get(name, default))
    except ValueError:
        return default
    return min(max(value, lo), hi)


def region_home(page: Page, backend: Backend) -> Response:
    who = staff(page, "regional_results.read")
    lang, t = page.lang, page.t
    town_names = {x.slug: x.name for x in towns()}
    days_data = backend.call("measures", "participation_per_day")["days"]
    days = sorted({d["day"] for d in days_data})[-30:]
    per_town: dict[str, dict[str, int]] = {slug: {} for slug in town_names}
    totals: dict[str, dict[str, int]] = {slug: {} for slug in town_names}
    kinds = [k for k in ("ratings", "citizens", "comments", "ideas")
             if any(k in d for d in days_data)] or ["ratings"]
    for d in days_data:
        if d["town"] not in per_town:
            continue
        per_town[d["town"]][d["day"]] = per_town[d["town"]].get(d["day"], 0) + d.get("ratings", 0)
        for k in kinds:
            totals[d["town"]][k] = totals[d["town"]].get(k, 0) + int(d.get(k, 0))
    participation = charts.line_chart(
        "participation", t("adm_chart_participation"),
        t("adm_chart_participation_desc", n=len(days)), [_day(d, lang) for d in days],
        [charts.Series(town_names[s], [per_town[s].get(d, 0) for d in days]) for s in town_names],
        x_column=t("adm_day"), lang=lang)

    min_answers = _int_arg(page, "min_antworten", 1, 1, 100000)
    top = backend.call("measures", "top_measures", limit=10, min_answers=min_answers)
    top_chart = charts.bar_chart(
        "top", t("adm_chart_top"), t("adm_chart_top_desc", n=len(top["measures"])),
        [charts.Bar(f"{m['code']} {m['title']}", m["region"]["support_share"],
                    (charts.number(m["region"]["support_answers"], lang),
                     charts.number(m["region"]["effectiveness_mean"], lang, 1)))
         for m in top["measures"]],
        columns=(t("adm_measure"), t("adm_support_share"), t("adm_support_answers"), t("adm_mean")),
        value_text=lambda v: charts.percent(v, lang), maximum=1)

    code = page.request.args.get("massnahme", "").strip().upper() or (
        top["measures"][0]["code"] if top["measures"] else "")
    comparison, compare_error = None, None
    if code:
        try:
            comparison = backend.call("measures", "compare_towns", code=code)
        except ApiError as exc:
            if exc.status != 404:
                raise
            compare_error = exc.message
    compare_chart = None
    if comparison:
        rows = [*comparison["towns"], comparison["region"]]
        compare_chart = charts.bar_chart(
            "compare", t("adm_chart_compare", code=comparison["code"]),
            t("adm_chart_compare_desc", title=comparison["title"]),
            [charts.Bar(town_names.get(f["town"], t("adm_region")), f["support_share"],
                        (charts.number(f["support_answers"], lang),
                         charts.number(f["effectiveness_mean"], lang, 1)))
             for f in rows],
            columns=(t("adm_town"), t("adm_support_share"), t("adm_support_answers"), t("adm_mean")),
            value_text=lambda v: charts.percent(v, lang), maximum=1)

    dis = backend.call("measures", "disagreements", limit=10, min_answers=min_answers)
    dis_chart = charts.bar_chart(
        "disagree", t("adm_chart_disagree"), t("adm_chart_disagree_desc", n=len(dis["measures"])),
        [charts.Bar(f"{m['code']} {m['title']}", m["support_spread"] * 100,
                    ("; ".join(f"{town_names.get(f['town'], f['town'])} "
                               f"{charts.percent(f['support_share'], lang)}" for f in m["towns"]),))
         for m in dis["measures"]],
        columns=(t("adm_measure"), t("adm_spread"), t("adm_support_by_town")),
        value_text=lambda v: "–" if v is None else f"{charts.number(v, lang)} {t('adm_points')}",
        maximum=100)
    return _render(page, "admin/region_home.html", who, current_town=None,
                   charts=[participation, top_chart], compare_chart=compare_chart,
                   compare_error=compare_error, code=code, dis_chart=dis_chart,
                   min_answers=min_answers, kinds=kinds, totals=totals, town_names=town_names)


CATALOGUE_FILTERS = ("programme", "field_of_action", "status", "town", "q")


def filter_measures(measures: Sequence[dict[str, Any]], filters: dict[str, str],
                    towns_of: dict[str, Sequence[str]] | None = None) -> list[dict[str, Any]]:
    """The catalogue filtered by programme, field of action, status, town and a search text."""
    out = []
    q = filters.get("q", "").strip().casefold()
    for m in measures:
        if any(filters.get(k) and m.get(k) != filters[k]
               for k in ("programme", "field_of_action", "status")):
            continue
        if filters.get("town") and towns_of is not None:
            named = towns_of.get(m["code"], ())
            if named and filters["town"] not in named:
                continue
        if q and q not in m["code"].casefold() and q not in m["title"].casefold():
            continue
        out.append(m)
    return out


def catalogue_page(page: Page, backend: Backend, report: dict[str, Any] | None = None,
                   refusal: ApiError | None = None, status: int = 200) -> Response:
    who = staff(page, "catalogue.write")
    args = page.request.args
    filters = {k: args.get(k, "").strip() for k in CATALOGUE_FILTERS}
    exported = json.loads(backend.call("measures", "export_catalogue", format="json"))["measures"]
    towns_of = {m["code"]: m.get("towns") or () for m in exported}
    measures = filter_measures(exported, filters, towns_of)
    try:
        paging = page_request(args, default_per_page=50, max_per_page=500)
    except ApiError:
        paging = page_request({})
    shown = paginate(measures, paging)
    query = {k: v for k, v in filters.items() if v}
    pages = page_count(shown["total"], paging.per_page)
    return _render(page, "admin/catalogue.html", who, status=status, current_town=None,
                   shown=shown, pages=pages, filters=filters, query=urlencode(query),
                   programmes=[p.value for p in Programme],
                   fields=list(MOBILITY_FIELDS + CLIMATE_FIELDS),
                   statuses=[s.value for s in MeasureStatus], report=report, refusal=refusal,
                   errors=[{"field": "file", "name": "file", "label": page.t("adm_field_file"),
                            "problem": refusal.message}] if refusal else [])


def catalogue_import(page: Page, backend: Backend) -> Response:
    who = staff(page, "catalogue.write")
    page.request.max_content_length = page.settings.max_import_bytes
    page.check_csrf()
    upload = page.request.files.get("file")
    try:
        if upload is None or not upload.filename:
            raise ApiError("VALIDATION_FAILED", page.t("adm_err_file"),
                           [{"field": "file", "problem": "no file"}])
        name = upload.filename.lower()
        fmt = "json" if name.endswith(".json") or upload.mimetype == "application/json" else "csv"
        raw = upload.read(page.settings.max_import_bytes + 1)
        if len(raw) > page.settings.max_import_bytes:
            raise ApiError("PAYLOAD_TOO_LARGE", page.t("adm_err_file_size"))
        try:
            content = raw.decode("utf-8")
        except UnicodeDecodeError:
            # Spreadsheets saved as "CSV (Trennzeichen-getrennt)" use the Windows code page.
            content = raw.decode("cp1252", errors="replace")
        report = backend.call("measures", "import_catalogue", content=content, format=fmt,
                              imported_by=who.name)
    except ApiError as exc:
        if exc.status not in (413, 422):
            raise
        return catalogue_page(page, backend, refusal=exc, status=exc.status)
    return catalogue_page(page, backend, report=report)


def catalogue_export(page: Page, backend: Backend, fmt: str) -> Response:
    staff(page, "catalogue.write")
    if fmt not in IMPORT_FORMATS:
        raise ApiError("NOT_FOUND", page.t("not_found"))
    text = backend.call("measures", "export_catalogue", format=fmt)
    if fmt == "csv":
        return csv_download(text, "massnahmenkatalog.csv")
    return Response(text, content_type="application/json; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="massnahmenkatalog.json"'})


STATUS_FIELDS = {"status": "status", "note": "note", "progress": "progress", "": "status"}


def measure_page(page: Page, backend: Backend, code: str,
                 errors: list[dict[str, str]] | None = None, values: dict[str, str] | None = None,
                 status: int = 200) -> Response:
    who = staff(page, "measure.status")
    measure = backend.call("measures", "get_measure", code=code)
    return _render(page, "admin/measure.html", who, status=status, current_town=None,
                   m=measure, statuses=[s.value for s in MeasureStatus], errors=errors or [],
                   values=values or {"status": measure["status"], "note": "", "progress": ""})


def measure_status(page: Page, backend: Backend, code: str) -> Response:
    who = staff(page, "measure.status")
    page.check_csrf()
    form = page.request.form
    values = {k: form.get(k, "").strip() for k in ("status", "note", "progress")}
    try:
        cmd = _validate(ChangeMeasureStatus, {
            "code": code, "status": values["status"], "note": values["note"],
            "progress": values["progress"] or None, "changed_by": who.name})
        backend.call("measures", "change_status", command=cmd.model_dump(mode="json"))
    except ApiError as exc:
        if exc.status not in (409, 422):
            raise
        errors = form_errors(page, _errors_of(exc), STATUS_FIELDS)
        return measure_page(page, backend, code, errors=errors, values=values, status=exc.status)
    return page.redirect(f"/verwaltung/region/massnahmen/{quote(code)}?erledigt=status_changed")


def deliveries_page(page: Page, backend: Backend) -> Response:
    who = staff(page, "deliveries.read")
    log = backend.call("notifications", "delivery_log", limit=_int_arg(page, "limit", 100, 1, 1000))
    return _render(page, "admin/deliveries.html", who, current_town=None, log=log)


def exports_page(page: Page) -> Response:
    who = staff(page, "regional_results.read")
    return _render(page, "admin/exports.html", who, current_town=None)


def regional_results_csv(page: Page, backend: Backend) -> Response:
    staff(page, "regional_results.read")
    return csv_download(backend.call("measures", "results_csv"), "ergebnisse-region.csv")
