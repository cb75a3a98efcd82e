"""The JSON API (/api/v1): request bodies in, wire contracts out, one error shape."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, ValidationError
from werkzeug.wrappers import Request, Response

from services.gateway.web.backend import Backend, parse_json, town_or_404, validation_details
from services.gateway.web.errors import ApiError, json_response
from services.gateway.web.permissions import principal_from_request, require
from soesmart.config import Settings
from soesmart.contracts import (
    ChangeMeasureStatus,
    Frequency,
    MeasureCode,
    MeasureStatus,
    Subscribe,
    SubscriptionScope,
)
from soesmart.towns import towns


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StatusBody(Body):
    status: MeasureStatus
    note: str = Field(default="", max_length=2000)
    progress: int | None = Field(default=None, ge=0, le=100)


class SubscriptionBody(Body):
    """A measure (`measure_code`, as before) or any scope (`scope_type` + `scope_value`)."""

    email: EmailStr
    measure_code: MeasureCode | None = None
    scope_type: SubscriptionScope | None = None
    scope_value: str | None = Field(default=None, max_length=60)
    language: Literal["de", "en"] = "de"
    frequency: Frequency = Frequency.IMMEDIATE


class TokenBody(Body):
    token: str = Field(min_length=10, max_length=200)


def list_towns() -> Response:
    return json_response(
        {"items": [t.model_dump(mode="json") | {"service": t.service_name} for t in towns()]}
    )


def regional_results(backend: Backend) -> Response:
    text = backend.call("measures", "regional_results_json")
    return Response(text, content_type="application/json; charset=utf-8")


def get_measure(backend: Backend, code: str) -> Response:
    return json_response(backend.call("measures", "get_measure", code=code))


def acting_as(settings: Settings, request: Request, action: str, town: str | None = None) -> str:
    """The name of who sends this request, if they may do `action` (401/403 otherwise)."""
    return require(principal_from_request(request, settings), action, town).name


def change_status(backend: Backend, settings: Settings, request: Request, code: str) -> Response:
    who = acting_as(settings, request, "measure.status")
    body = parse_json(request, StatusBody, settings.max_body_bytes)
    command = ChangeMeasureStatus(
        code=code, status=body.status, note=body.note, progress=body.progress, changed_by=who
    )
    return json_response(
        backend.call("measures", "change_status", command=command.model_dump(mode="json"))
    )


def subscribe(backend: Backend, settings: Settings, request: Request) -> Response:
    body = parse_json(request, SubscriptionBody, settings.max_body_bytes)
    return json_response(do_subscribe(backend, subscription_command(body.model_dump())), 202)


def subscription_command(data: dict[str, Any]) -> Subscribe:
    """The Subscribe contract from a body or form; refusals name the field."""
    try:
        return Subscribe.model_validate({k: v for k, v in data.items() if v not in (None, "")})
    except ValidationError as exc:
        raise ApiError("VALIDATION_FAILED", "Die Angaben sind ungültig.",
                       validation_details(exc)) from None


def do_subscribe(backend: Backend, cmd: Subscribe) -> Any:
    title = ""
    if cmd.scope_type == SubscriptionScope.MEASURE:  # also refuses an unknown measure (404)
        title = backend.call("measures", "get_measure", code=cmd.scope_value)["title"]
    elif cmd.scope_type == SubscriptionScope.TOWN:
        title = town_or_404(cmd.scope_value).name
    return backend.call("notifications", "subscribe", command=cmd.model_dump(mode="json"),
                        scope_title=title)


def confirm_subscription(backend: Backend, settings: Settings, request: Request) -> Response:
    body = parse_json(request, TokenBody, settings.max_body_bytes)
    return json_response(backend.call("notifications", "confirm", command={"token": body.token}))


def unsubscribe(backend: Backend, settings: Settings, request: Request) -> Response:
    body = parse_json(request, TokenBody, settings.max_body_bytes)
    return json_response(backend.call("notifications", "unsubscribe", token=body.token))


def readiness(backend: Backend) -> Response:
    """Ready when every service answers within the (short) deadline."""
    import eventlet

    services = ["measures", "notifications", *(t.service_name for t in towns())]

    def check(name: str) -> tuple[str, str]:
        try:
            backend.call(name, "ping")
            return name, "ok"
        except ApiError as exc:
            return name, exc.code

    checks = dict(eventlet.GreenPool(len(services)).imap(check, services))
    ready = all(v == "ok" for v in checks.values())
    return json_response({"status": "ready" if ready else "not_ready", "checks": checks},
                         200 if ready else 503)


# --- catalogue and combined results (measures)
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


def _csv_download(text: str, filename: str) -> Response:
    return Response(text.encode("utf-8"), content_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


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


def export_catalogue(backend: Backend, request: Request) -> Response:
    fmt = request.args.get("format", "json")
    text = backend.call("measures", "export_catalogue", format=fmt)
    if fmt == "csv":
        return _csv_download(text, "massnahmenkatalog.csv")
    return Response(text, content_type="application/json; charset=utf-8")


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
    return _csv_download(backend.call("measures", "results_csv"), "ergebnisse-region.csv")


# --- subscriptions and mail (notifications)


def delivery_log(backend: Backend, settings: Settings, request: Request) -> Response:
    """For the coordinators: mails by cause and outcome, recent deliveries, bouncing addresses."""
    acting_as(settings, request, "deliveries.read")
    try:
        limit = int(request.args.get("limit", "100"))
    except ValueError:
        raise ApiError("VALIDATION_FAILED", "limit muss eine Zahl sein.",
                       [{"field": "limit", "problem": "not a number"}]) from None
    return json_response(backend.call("notifications", "delivery_log", limit=limit))
