"""The JSON API (/api/v1): request bodies in, wire contracts out, one error shape."""

from __future__ import annotations

import hmac
import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field
from werkzeug.wrappers import Request, Response

from services.gateway.backend import Backend, parse_json, town_or_404
from services.gateway.errors import ApiError, json_response
from soesmart.config import Settings
from soesmart.contracts import (
    ChangeMeasureStatus,
    MeasureCode,
    MeasureStatus,
    RateMeasure,
    Support,
)
from soesmart.towns import towns


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RatingBody(Body):
    measure_code: MeasureCode
    participant_id: uuid.UUID = Field(
        description="Pseudonymous id of the answering person (kept by their browser)."
    )
    effectiveness: int | None = Field(default=None, ge=1, le=5)
    support: Support | None = None
    reason: str | None = Field(default=None, max_length=500)
    consultation_id: uuid.UUID | None = None


class StatusBody(Body):
    status: MeasureStatus
    note: str = Field(default="", max_length=2000)
    progress: int | None = Field(default=None, ge=0, le=100)


class SubscriptionBody(Body):
    email: EmailStr
    measure_code: MeasureCode
    language: Literal["de", "en"] = "de"


class TokenBody(Body):
    token: str = Field(min_length=10, max_length=200)


def list_towns() -> Response:
    return json_response(
        {"items": [t.model_dump(mode="json") | {"service": t.service_name} for t in towns()]}
    )


def town_consultations(backend: Backend, town: str) -> Response:
    t = town_or_404(town)
    return json_response({"items": backend.call(t.service_name, "open_consultations")})


def rate(backend: Backend, settings: Settings, request: Request, town: str) -> Response:
    t = town_or_404(town)
    body = parse_json(request, RatingBody, settings.max_body_bytes)
    command = RateMeasure(
        measure_code=body.measure_code, participant_id=body.participant_id,
        effectiveness=body.effectiveness, support=body.support, reason=body.reason,
    )
    accepted = backend.call(
        t.service_name, "rate", command=command.model_dump(mode="json"),
        consultation_id=str(body.consultation_id) if body.consultation_id else None,
    )
    return json_response(accepted, 201 if accepted["changed"] else 200)


def regional_results(backend: Backend) -> Response:
    return json_response(backend.call("measures", "regional_results"))


def list_measures(backend: Backend) -> Response:
    return json_response({"items": backend.call("measures", "list_measures")})


def get_measure(backend: Backend, code: str) -> Response:
    return json_response(backend.call("measures", "get_measure", code=code))


def require_coordinator(settings: Settings, request: Request) -> str:
    """Bearer token of the regional coordinators (staff accounts follow with the gateway issue)."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    expected = settings.coordinator_token
    if scheme.lower() != "bearer" or not token:
        raise ApiError("UNAUTHORIZED", "Bitte melden Sie sich an (Bearer-Token).")
    if not expected or not hmac.compare_digest(token.strip(), expected):
        raise ApiError("FORBIDDEN", "Dieses Token berechtigt nicht zu dieser Aktion.")
    return "Regionale Koordination"


def change_status(backend: Backend, settings: Settings, request: Request, code: str) -> Response:
    who = require_coordinator(settings, request)
    body = parse_json(request, StatusBody, settings.max_body_bytes)
    command = ChangeMeasureStatus(
        code=code, status=body.status, note=body.note, progress=body.progress, changed_by=who
    )
    return json_response(
        backend.call("measures", "change_status", command=command.model_dump(mode="json"))
    )


def subscribe(backend: Backend, settings: Settings, request: Request) -> Response:
    body = parse_json(request, SubscriptionBody, settings.max_body_bytes)
    return json_response(do_subscribe(backend, body.email, body.measure_code, body.language), 202)


def do_subscribe(backend: Backend, email: str, code: str, language: str) -> Any:
    measure = backend.call("measures", "get_measure", code=code)
    return backend.call(
        "notifications", "subscribe",
        command={"email": email, "measure_code": code, "language": language},
        measure_title=measure["title"],
    )


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
