"""Pages of the regional coordinators (/verwaltung/region): results dashboard, catalogue, mail log.

Charts come from `web.charts` and always carry their figures as a table.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from werkzeug.wrappers import Response

from services.gateway.web import charts
from services.gateway.web.backend import Backend
from services.gateway.web.catalogue import CATALOGUE_FILTERS, catalogue_listing
from services.gateway.web.downloads import csv_download
from services.gateway.web.errors import ApiError
from services.gateway.web.page import Page
from services.gateway.web.paging import page_count, page_request
from services.gateway.web.staff_pages import (
    errors_of,
    form_errors,
    int_arg,
    render,
    short_day,
    staff,
    validated,
)
from soesmart.contracts import CLIMATE_FIELDS, MOBILITY_FIELDS, ChangeMeasureStatus, MeasureStatus, Programme
from soesmart.towns import towns

IMPORT_FORMATS = {"csv", "json"}


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
        t("adm_chart_participation_desc", n=len(days)), [short_day(d, lang) for d in days],
        [charts.Series(town_names[s], [per_town[s].get(d, 0) for d in days]) for s in town_names],
        x_column=t("adm_day"), lang=lang)

    min_answers = int_arg(page, "min_antworten", 1, 1, 100000)
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
    return render(page, "admin/region_home.html", who, current_town=None,
                   charts=[participation, top_chart], compare_chart=compare_chart,
                   compare_error=compare_error, code=code, dis_chart=dis_chart,
                   min_answers=min_answers, kinds=kinds, totals=totals, town_names=town_names)


def catalogue_page(page: Page, backend: Backend, report: dict[str, Any] | None = None,
                   refusal: ApiError | None = None, status: int = 200) -> Response:
    who = staff(page, "catalogue.write")
    args = page.request.args
    filters = {k: args.get(k, "").strip() for k in CATALOGUE_FILTERS}
    try:
        paging = page_request(args, default_per_page=50, max_per_page=500)
    except ApiError:
        paging = page_request({})
    try:
        shown = catalogue_listing(backend, filters, paging)
    except ApiError as exc:
        if exc.code != "VALIDATION_FAILED":
            raise
        # A filter value no measure can have (an edited address): nothing matches, as it did
        # when the page filtered the catalogue itself.
        shown = {"items": [], "page": paging.page, "per_page": paging.per_page, "total": 0}
    query = {k: v for k, v in filters.items() if v}
    pages = page_count(shown["total"], paging.per_page)
    return render(page, "admin/catalogue.html", who, status=status, current_town=None,
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
    return render(page, "admin/measure.html", who, status=status, current_town=None,
                   m=measure, statuses=[s.value for s in MeasureStatus], errors=errors or [],
                   values=values or {"status": measure["status"], "note": "", "progress": ""})


def measure_status(page: Page, backend: Backend, code: str) -> Response:
    who = staff(page, "measure.status")
    page.check_csrf()
    form = page.request.form
    values = {k: form.get(k, "").strip() for k in ("status", "note", "progress")}
    try:
        cmd = validated(ChangeMeasureStatus, {
            "code": code, "status": values["status"], "note": values["note"],
            "progress": values["progress"] or None, "changed_by": who.name})
        backend.call("measures", "change_status", command=cmd.model_dump(mode="json"))
    except ApiError as exc:
        if exc.status not in (409, 422):
            raise
        errors = form_errors(page, errors_of(exc), STATUS_FIELDS)
        return measure_page(page, backend, code, errors=errors, values=values, status=exc.status)
    return page.redirect(f"/verwaltung/region/massnahmen/{quote(code)}?erledigt=status_changed")


def deliveries_page(page: Page, backend: Backend) -> Response:
    who = staff(page, "deliveries.read")
    log = backend.call("notifications", "delivery_log", limit=int_arg(page, "limit", 100, 1, 1000))
    return render(page, "admin/deliveries.html", who, current_town=None, log=log)


def exports_page(page: Page) -> Response:
    who = staff(page, "regional_results.read")
    return render(page, "admin/exports.html", who, current_town=None)


def regional_results_csv(page: Page, backend: Backend) -> Response:
    staff(page, "regional_results.read")
    return csv_download(backend.call("measures", "results_csv"), "ergebnisse-region.csv")
