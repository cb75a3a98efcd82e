"""The gateway's view of the other services: RPC with deadlines, refusals as ApiError."""

from __future__ import annotations

import json
import logging
from typing import Any, TypeVar

import amqp.exceptions
import kombu.exceptions
from pydantic import BaseModel, ValidationError
from werkzeug.wrappers import Request

from services.gateway.web.errors import ApiError
from soesmart.messaging.rpc_client import RpcClient, ServiceUnavailable
from soesmart.towns import Town, UnknownTown, towns

M = TypeVar("M", bound=BaseModel)
log = logging.getLogger(__name__)

# A connection to the broker lost under a handler outside `Backend.call` (which turns
# every such error into ServiceUnavailable itself): answered 503, like a missed deadline.
BROKER_LOST: tuple[type[BaseException], ...] = (
    kombu.exceptions.OperationalError, amqp.exceptions.ConnectionError, ConnectionError,
)

SERVICE_LABELS = {
    "measures": "Maßnahmenkatalog",
    "notifications": "E-Mail-Benachrichtigungen",
}


class Backend:
    def __init__(self, rpc: RpcClient) -> None:
        self.rpc = rpc

    def call(self, service: str, method: str, **kwargs: Any) -> Any:
        try:
            reply = self.rpc.call(service, method, **kwargs)
        except ServiceUnavailable:
            label = SERVICE_LABELS.get(service, "Beteiligungsplattform der Stadt")
            raise ApiError(
                "SERVICE_UNAVAILABLE",
                f"Der Dienst „{label}“ antwortet gerade nicht. Bitte versuchen Sie es in "
                "einigen Augenblicken noch einmal. Vielleicht ist Ihre Eingabe trotzdem "
                "angekommen; eine Bewertung zählt auch dann nur einmal.",
                [{"service": service}],
            ) from None
        if not reply.ok:
            assert reply.error is not None
            raise ApiError(reply.error.code, reply.error.message, list(reply.error.details))
        return reply.data


def broker_lost(exc: BaseException) -> ApiError:
    log.warning("broker connection lost under a request: %r", exc)
    return ApiError(
        "SERVICE_UNAVAILABLE",
        "Die Verbindung zu den Diensten ist gerade unterbrochen. Bitte versuchen Sie es in "
        "einigen Augenblicken noch einmal.",
        [{"service": "broker"}],
    )


def town_or_404(slug: str) -> Town:
    try:
        return towns().get(slug)
    except UnknownTown:
        raise ApiError(
            "UNKNOWN_TOWN",
            f"Die Stadt „{slug}“ gehört nicht zum Netzwerk.",
            [{"field": "town", "problem": "unknown town", "known": towns().slugs}],
        ) from None


def validation_details(exc: ValidationError) -> list[dict[str, Any]]:
    return [
        {"field": ".".join(str(p) for p in e["loc"]) or "body", "problem": e["msg"]}
        for e in exc.errors()
    ]


def parse_json(request: Request, model: type[M], max_bytes: int) -> M:
    """Read and validate a JSON body; every refusal names what is wrong."""
    if request.content_length is not None and request.content_length > max_bytes:
        raise ApiError(
            "PAYLOAD_TOO_LARGE",
            f"Die Anfrage ist zu groß (höchstens {max_bytes} Bytes).",
            [{"field": "body", "problem": f"larger than {max_bytes} bytes"}],
        )
    if request.mimetype != "application/json":
        raise ApiError(
            "UNSUPPORTED_MEDIA_TYPE",
            "Bitte senden Sie JSON (Content-Type: application/json).",
            [{"field": "Content-Type", "problem": "must be application/json"}],
        )
    raw = request.get_data(cache=False)
    if len(raw) > max_bytes:
        raise ApiError(
            "PAYLOAD_TOO_LARGE",
            f"Die Anfrage ist zu groß (höchstens {max_bytes} Bytes).",
            [{"field": "body", "problem": f"larger than {max_bytes} bytes"}],
        )
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ApiError(
            "MALFORMED_JSON",
            "Der Inhalt ist kein gültiges JSON.",
            [{"field": "body", "problem": str(exc)}],
        ) from None
    if not isinstance(data, dict):
        raise ApiError(
            "VALIDATION_FAILED",
            "Erwartet wird ein JSON-Objekt.",
            [{"field": "body", "problem": "must be a JSON object"}],
        )
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ApiError(
            "VALIDATION_FAILED", "Die Angaben sind ungültig.", validation_details(exc)
        ) from None
