"""Paper questionnaires for a town's admins: print the PDF, enter returned sheets, import scans.

The entry form is made for the keyboard alone: the sheet number, then per measure one
digit for effectiveness (1–5) and one for support (1 ja … 4 nein, as numbered on the
sheet), Tab between them, Enter saves and the form comes back empty with the focus on
the sheet number. JSON routes take the same commands (`EnterPaperSheet`,
`ImportPaperSheets`) without `actor`.
"""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Request, Response

from services.gateway.town_admin.questionnaire import MAX_SHEETS, questionnaire_pdf
from services.gateway.web.backend import Backend, parse_json, town_or_404
from services.gateway.web.bodies import body_of
from services.gateway.web.errors import ApiError, json_response
from services.gateway.web.page import Page
from services.gateway.web.permissions import principal_from_request, require
from services.gateway.web.staff_pages import errors_of, form_errors, render, staff
from soesmart.config import Settings
from soesmart.contracts import SHEET_NUMBER_MAX, EnterPaperSheet, ImportPaperSheets
from soesmart.i18n import format_date, label
from soesmart.towns import Town

SUPPORT_KEYS = ("yes", "rather_yes", "rather_no", "no")
SheetBody = body_of(EnterPaperSheet, "PaperSheetBody", without=("consultation_id", "actor"),
                    doc="A returned sheet; `correction` with a `reason` changes one entered before.")
SHEET_FIELDS = {"sheet_number": "sheet_number", "reason": "reason", "answers": "sheet_number",
                "": "sheet_number"}


def _printable(consultation: dict[str, Any], message: str) -> None:
    """Only an open consultation has a questionnaire to hand out."""
    if consultation["status"] != "open":
        raise ApiError("CONSULTATION_NOT_OPEN", message,
                       [{"field": "consultation_id", "problem": f"consultation is {consultation['status']}"}])


def _range(first: str, count: str) -> range:
    problems = []
    if not first.isdigit() or not 1 <= int(first) <= SHEET_NUMBER_MAX:
        problems.append({"field": "first", "problem": f"a whole number from 1 to {SHEET_NUMBER_MAX}"})
    if not count.isdigit() or not 1 <= int(count) <= MAX_SHEETS:
        problems.append({"field": "count", "problem": f"a whole number from 1 to {MAX_SHEETS}"})
    if not problems and int(first) + int(count) - 1 > SHEET_NUMBER_MAX:
        problems.append({"field": "count", "problem": f"sheet numbers end at {SHEET_NUMBER_MAX}"})
    if problems:
        raise ApiError("VALIDATION_FAILED", "Die Angaben sind ungültig.", problems)
    return range(int(first), int(first) + int(count))


def pdf_response(page: Page, backend: Backend, t: Town, cid: str, args: Any) -> Response:
    numbers = _range(args.get("first", args.get("von", "1")), args.get("count", args.get("anzahl", "1")))
    c = backend.call(t.service_name, "get_consultation", consultation_id=cid)
    _printable(c, page.t("paper_err_not_open"))
    c = {**c, "ends_on_text": format_date(c["ends_on"], page.lang)}
    body = questionnaire_pdf(c, t.name, numbers, page.t,
                             [label("support", k, page.lang) for k in SUPPORT_KEYS])
    name = f"fragebogen-{t.slug}-{cid[:8]}-{numbers[0]}-{numbers[-1]}.pdf"
    return Response(body, content_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


# ---------------------------------------------------------------------- pages
def questionnaire_download(page: Page, backend: Backend, town: str, cid: str) -> Response:
    t = town_or_404(town)
    staff(page, "paper.enter", t.slug)
    try:
        return pdf_response(page, backend, t, cid, page.request.args)
    except ApiError as exc:
        if exc.status not in (409, 422):
            raise
        return sheets_page(page, backend, town, cid, status=exc.status, errors=[
            {"field": "first" if d.get("field") == "first" else "count", "name": str(d.get("field")),
             "label": page.t("paper_first") if d.get("field") == "first" else page.t("paper_count"),
             "problem": exc.message if d.get("field") == "consultation_id" else str(d["problem"])}
            for d in errors_of(exc)])


def sheets_page(page: Page, backend: Backend, town: str, cid: str, status: int = 200,
                errors: list[dict[str, str]] | None = None, values: dict[str, str] | None = None,
                problems: list[dict[str, Any]] | None = None) -> Response:
    t = town_or_404(town)
    who = staff(page, "paper.enter", t.slug)
    c = backend.call(t.service_name, "get_consultation", consultation_id=cid)
    sheets = backend.call(t.service_name, "paper_sheets", consultation_id=cid)
    args = page.request.args
    saved = ({"n": args.get("bogen", ""), "k": args.get("antworten", "")}
             if args.get("erledigt") == "sheet" else None)
    imported = ({"sheets": args.get("boegen", ""), "answers": args.get("antworten", "")}
                if args.get("erledigt") == "import" else None)
    return render(page, "admin/paper.html", who, status=status, town=t, current_town=None, c=c,
                  sheets=sheets, errors=errors or [], values=values or {}, saved=saved,
                  imported=imported, problems=problems or [])


def _answers(page: Page, c: dict[str, Any], values: dict[str, str]) -> tuple[list[dict[str, Any]],
                                                                            list[dict[str, str]]]:
    answers, errors = [], []
    for m in c["measures"]:
        eff, sup = values.get(f"eff-{m['code']}", ""), values.get(f"sup-{m['code']}", "")
        if eff and eff not in ("1", "2", "3", "4", "5"):
            errors.append({"field": f"eff-{m['code']}", "name": f"eff-{m['code']}",
                           "label": f"{m['code']} {page.t('paper_effectiveness')}",
                           "problem": page.t("paper_err_eff")})
        if sup and sup not in ("1", "2", "3", "4"):
            errors.append({"field": f"sup-{m['code']}", "name": f"sup-{m['code']}",
                           "label": f"{m['code']} {page.t('paper_support')}",
                           "problem": page.t("paper_err_sup")})
        if (eff or sup) and not errors:
            answers.append({"measure_code": m["code"], "effectiveness": int(eff) if eff else None,
                            "support": SUPPORT_KEYS[int(sup) - 1] if sup else None})
    return answers, errors


def sheet_enter(page: Page, backend: Backend, town: str, cid: str) -> Response:
    t = town_or_404(town)
    who = staff(page, "paper.enter", t.slug)
    page.check_csrf()
    values = {k: v.strip() for k, v in page.request.form.items() if k != "csrf"}
    c = backend.call(t.service_name, "get_consultation", consultation_id=cid)
    number = values.get("sheet_number", "")
    answers, errors = _answers(page, c, values)
    status = 422
    if not number.isdigit() or not 1 <= int(number) <= SHEET_NUMBER_MAX:
        errors.insert(0, {"field": "sheet_number", "name": "sheet_number",
                          "label": page.t("paper_sheet_number"), "problem": page.t("paper_err_sheet")})
    if not errors:
        try:
            backend.call(t.service_name, "enter_paper_sheet", command={
                "consultation_id": cid, "sheet_number": int(number), "answers": answers,
                "actor": who.name, "correction": values.get("correction") == "1",
                "reason": values.get("reason", "")})
        except ApiError as exc:
            if exc.status not in (404, 409, 422):
                raise
            status, errors = exc.status, form_errors(page, errors_of(exc), SHEET_FIELDS)
            for e in errors:
                e["label"] = page.t("paper_reason") if e["name"] == "reason" else page.t("paper_sheet_number")
                e["problem"] = exc.message if e["name"] != "reason" else e["problem"]
    if errors:
        return sheets_page(page, backend, town, cid, status=status, errors=errors, values=values)
    return page.redirect(f"/verwaltung/stadt/{t.slug}/beteiligungen/{cid}/papier?erledigt=sheet"
                         f"&bogen={int(number)}&antworten={len(answers)}")


def sheets_import(page: Page, backend: Backend, town: str, cid: str) -> Response:
    t = town_or_404(town)
    who = staff(page, "paper.enter", t.slug)
    page.check_csrf()
    upload = page.request.files.get("file")
    content = _decode(upload.read()) if upload else ""
    try:
        report = backend.call(t.service_name, "import_paper_sheets", command={
            "consultation_id": cid, "content": content, "actor": who.name})
    except ApiError as exc:
        if exc.status not in (404, 409, 422):
            raise
        errors = [{"field": "file", "name": "file", "label": page.t("paper_file"), "problem": exc.message}]
        rows = [d for d in errors_of(exc) if "row" in d]
        return sheets_page(page, backend, town, cid, status=exc.status, errors=errors, problems=rows)
    return page.redirect(f"/verwaltung/stadt/{t.slug}/beteiligungen/{cid}/papier?erledigt=import"
                         f"&boegen={report['sheets']}&antworten={report['answers']}")


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:  # "CSV (Trennzeichen-getrennt)" from a Windows spreadsheet
        return raw.decode("cp1252", errors="replace")


# ---------------------------------------------------------------------- JSON
def _acting(settings: Settings, request: Request, town: str) -> tuple[Town, str]:
    t = town_or_404(town)
    return t, require(principal_from_request(request, settings), "paper.enter", t.slug).name


def api_enter_sheet(backend: Backend, settings: Settings, request: Request, town: str,
                    cid: str) -> Response:
    t, actor = _acting(settings, request, town)
    body = parse_json(request, SheetBody, settings.max_body_bytes)
    command = {**body.model_dump(mode="json"), "consultation_id": cid, "actor": actor}
    return json_response(backend.call(t.service_name, "enter_paper_sheet", command=command), 201)


def api_import_sheets(backend: Backend, settings: Settings, request: Request, town: str,
                      cid: str) -> Response:
    t, actor = _acting(settings, request, town)
    if request.mimetype != "text/csv":
        raise ApiError("UNSUPPORTED_MEDIA_TYPE", "Bitte senden Sie die Bögen als CSV (text/csv).",
                       [{"field": "Content-Type", "problem": "must be text/csv"}])
    limit = settings.max_import_bytes
    if (request.content_length or 0) > limit:
        raise ApiError("PAYLOAD_TOO_LARGE", f"Die Datei ist zu groß (höchstens {limit} Bytes).",
                       [{"field": "body", "problem": f"larger than {limit} bytes"}])
    request.max_content_length = limit
    content = _decode(request.get_data(cache=False))
    command = ImportPaperSheets.model_validate({"consultation_id": cid, "content": content,
                                                "actor": actor}).model_dump(mode="json")
    return json_response(backend.call(t.service_name, "import_paper_sheets", command=command), 201)
