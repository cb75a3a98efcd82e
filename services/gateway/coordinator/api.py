"""The JSON API of the regional coordinators: status changes, catalogue import, combined results, mail log.

Every handler asks `permissions.require` first (through `acting_as`).
"""

from __future__ import annotations

from werkzeug.wrappers import Request, Response

from services.gateway.web.backend import Backend, parse_json, town_or_404
from services.gateway.web.bodies import body_of
from services.gateway.web.downloads import csv_download
from services.gateway.web.errors import ApiError, json_response
from services.gateway.web.permissions import principal_from_request, require
from soesmart.config import Settings
from soesmart.contracts import ChangeMeasureStatus

StatusBody = body_of(ChangeMeasureStatus, "StatusBody", without=("code", "changed_by"))


def acting_as(settings: Settings, request: Request, action: str, town: str | None = None) -> str:
    """The name of who sends this request, if they may do `action` (401/403 otherwise)."""
    return require(principal_from_request(request, settings), action, town).name


def change_status(backend: Backend, settings: Settings, request: Request, code: str) -> Response:
    who = acting_as(settings, request, "measure.status")
    body = parse_json(request, StatusBody, settings.max_body_bytes)
    command = ChangeMeasureStatus.model_validate({**body.model_dump(), "code": code, "changed_by": who})
    return json_response(
        backend.call("measures", "change_status", command=command.model_dump(mode="json"))
    )


CATALOGUE_FORMATS = {"text/csv": "csv", "application/json": "json"}


def _int_arg(request: Request, name: str, default: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ApiError("VALIDATION_FAILED", "Die Angaben sind ungültig.",
                       [{"field": name, "problem": "must be a whole number"}]) from None


def import_catalogue(backend: Backend, settings: Settings, request: Request) -> Response:
    """A whole catalogue file as the body (text/csv or application/json); all or nothing."""
    who = acting_as(settings, request, "catalogue.write")
    fmt = CATALOGUE_FORMATS.get(request.mimetype)
    if fmt is None:
        raise ApiError(
            "UNSUPPORTED_MEDIA_TYPE", "Bitte senden Sie die Datei als CSV (text/csv) oder JSON.",
            [{"field": "Content-Type", "problem": "must be text/csv or application/json"}],
        )
    limit = settings.max_import_bytes
    if (request.content_length or 0) > limit:
        raise ApiError("PAYLOAD_TOO_LARGE", f"Die Datei ist zu groß (höchstens {limit} Bytes).",
                       [{"field": "body", "problem": f"larger than {limit} bytes"}])
    request.max_content_length = limit
    raw = request.get_data(cache=False)
    try:
        content = raw.decode("utf-8")
    except UnicodeDecodeError:
        # Spreadsheets saved as "CSV (Trennzeichen-getrennt)" use the Windows code page.
        content = raw.decode("cp1252", errors="replace")
    return json_response(
        backend.call("measures", "import_catalogue", content=content, format=fmt, imported_by=who)
    )


def results_top(backend: Backend, settings: Settings, request: Request) -> Response:
    acting_as(settings, request, "regional_results.read")
    town = request.args.get("town") or None
    if town is not None:
        town_or_404(town)
    return json_response(backend.call(
        "measures", "top_measures", limit=_int_arg(request, "limit", 10),
        min_answers=_int_arg(request, "min_answers", 1), town=town,
    ))


def results_compare_towns(backend: Backend, settings: Settings, request: Request,
                          code: str) -> Response:
    acting_as(settings, request, "regional_results.read")
    return json_response(backend.call("measures", "compare_towns", code=code))


def results_disagreements(backend: Backend, settings: Settings, request: Request) -> Response:
    acting_as(settings, request, "regional_results.read")
    return json_response(backend.call(
        "measures", "disagreements", limit=_int_arg(request, "limit", 10),
        min_answers=_int_arg(request, "min_answers", 20),
    ))


def results_participation(backend: Backend, settings: Settings, request: Request) -> Response:
    acting_as(settings, request, "regional_results.read")
    town = request.args.get("town") or None
    if town is not None:
        town_or_404(town)
    return json_response(backend.call(
        "measures", "participation_per_day", since=request.args.get("since") or None, town=town,
    ))


def results_export(backend: Backend, settings: Settings, request: Request) -> Response:
    acting_as(settings, request, "regional_results.read")
    return csv_download(backend.call("measures", "results_csv"), "ergebnisse-region.csv")


def delivery_log(backend: Backend, settings: Settings, request: Request) -> Response:
    """For the coordinators: mails by cause and outcome, recent deliveries, bouncing addresses."""
    acting_as(settings, request, "deliveries.read")
    try:
        limit = int(request.args.get("limit", "100"))
    except ValueError:
        raise ApiError("VALIDATION_FAILED", "limit muss eine Zahl sein.",
                       [{"field": "limit", "problem": "not a number"}]) from None
    return json_response(backend.call("notifications", "delivery_log", limit=limit))
