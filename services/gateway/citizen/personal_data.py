"""A person's data from every service ("Meine Daten", Art. 15 and 20 DSGVO), and its erasure.

The town's instance answers for the account, its ratings, comments and ideas; the
notifications service for the subscriptions, consents and delivery records of the
account's address, asked for only once that address is confirmed (anyone can type
another person's address into a registration). Erasure goes the other way round:
first the notifications service forgets the address, then the town erases the account
and announces it without the address, so no copy stays in the town's outbox.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from werkzeug.wrappers import Response

from services.gateway.web.backend import Backend
from soesmart.towns import Town

FORMAT = "soesmart-personal-data/1"


def confirmed_address(me: dict[str, Any]) -> str | None:
    return str(me["email"]) if me.get("confirmed_at") and me.get("email") else None


def collect(backend: Backend, town: Town, citizen_id: uuid.UUID) -> dict[str, Any]:
    """Everything stored about the citizen in the network, as one JSON document."""
    me = backend.call(town.service_name, "get_citizen", citizen_id=str(citizen_id))
    address = confirmed_address(me)
    notifications = (backend.call("notifications", "personal_data", email=address)
                     if address else None)
    return {"format": FORMAT, "generated_at": datetime.now(UTC).isoformat(),
            "town": town.slug, "participation": me, "notifications": notifications}


def download(data: dict[str, Any], town: Town) -> Response:
    body = json.dumps(data, ensure_ascii=False, indent=2, default=str)
    filename = f"meine-daten-{town.slug}-{datetime.now(UTC):%Y%m%d}.json"
    return Response(body.encode("utf-8"), content_type="application/json; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"',
                             "Cache-Control": "no-store"})


def erase(backend: Backend, town: Town, citizen_id: uuid.UUID) -> dict[str, Any]:
    """Erase the account and, for a confirmed address, the address in every service."""
    me = backend.call(town.service_name, "get_citizen", citizen_id=str(citizen_id))
    address = confirmed_address(me)
    if address:
        backend.call("notifications", "erase_address", email=address)
    result: dict[str, Any] = backend.call(town.service_name, "erase_citizen",
                                          citizen_id=str(citizen_id),
                                          address_erased_elsewhere=True)
    return result
