"""The public JSON API: towns, the catalogue, combined results, mail subscriptions, readiness."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ValidationError
from werkzeug.wrappers import Request, Response

from services.gateway.web.backend import Backend, parse_json, town_or_404, validation_details
from services.gateway.web.bodies import body_of
from services.gateway.web.catalogue import catalogue_listing
from services.gateway.web.downloads import csv_download
from services.gateway.web.errors import ApiError, json_response
from services.gateway.web.paging import page_request
from soesmart.config import Settings
from soesmart.contracts import (
    ConfirmSubscription,
    MeasureStatus,
    MeasureSummary,
    Programme,
    Subscribe,
    SubscriptionScope,
)
from soesmart.towns import towns

SUMMARY_FIELDS = tuple(MeasureSummary.model_fields)


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: Literal["ready", "not_ready"]
    checks: dict[str, str]


class TownOut(BaseModel):
    slug: str
    name: str
    population: int
    postcodes: list[str]
    service: str


SubscriptionBody = body_of(
    Subscribe, "SubscriptionBody", optional=("scope_type", "scope_value"),
    doc="A measure (`measure_code`, as before) or any scope (`scope_type` + `scope_value`).")
TokenBody = body_of(ConfirmSubscription, "TokenBody")


def list_towns() -> Response:
    return json_response(
        {"items": [t.model_dump(mode="json") | {"service": t.service_name} for t in towns()]}
    )


def regional_results(backend: Backend) -> Response:
    text = backend.call("measures", "regional_results_json")
    return Response(text, content_type="application/json; charset=utf-8")


def get_measure(backend: Backend, code: str) -> Response:
    return json_response(backend.call("measures", "get_measure", code=code))


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
    return json_response(backend.call("notifications", "confirm", command=body.model_dump(mode="json")))


def unsubscribe(backend: Backend, settings: Settings, request: Request) -> Response:
    body = parse_json(request, TokenBody, settings.max_body_bytes)
    return json_response(backend.call("notifications", "unsubscribe", token=body.model_dump()["token"]))


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


def export_catalogue(backend: Backend, request: Request) -> Response:
    fmt = request.args.get("format", "json")
    text = backend.call("measures", "export_catalogue", format=fmt)
    if fmt == "csv":
        return csv_download(text, "massnahmenkatalog.csv")
    return Response(text, content_type="application/json; charset=utf-8")


def list_measures(backend: Backend, request: Request) -> Response:
    """The catalogue, filtered (town, programme, field_of_action, status) and paged by `measures`."""
    paging = page_request(request.args)
    filters = {k: request.args.get(k, "").strip()
               for k in ("programme", "field_of_action", "status", "town")}
    problems = []
    if filters["programme"] and filters["programme"] not in {p.value for p in Programme}:
        problems.append({"field": "programme", "problem": "unknown programme"})
    if filters["status"] and filters["status"] not in {s.value for s in MeasureStatus}:
        problems.append({"field": "status", "problem": "unknown status"})
    if problems:
        raise ApiError("VALIDATION_FAILED", "Die Filter sind ungültig.", problems)
    if filters["town"]:
        town_or_404(filters["town"])
    shown = catalogue_listing(backend, filters, paging)
    # The list shows each measure as a summary; its towns and revision are in its detail.
    shown["items"] = [{k: m[k] for k in SUMMARY_FIELDS} for m in shown["items"]]
    return json_response(shown)
