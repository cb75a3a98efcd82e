"""Confirmed citizens for tests: registered and confirmed through the town's own use cases.

The confirmation token is read from the `CitizenLinkRequested` event in the outbox,
exactly what the notifications service would put into the mail.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import select

from services.participation.adapters import tables as t
from services.participation.service_layer.handlers import ParticipationApp
from soesmart.config import Settings
from soesmart.contracts import CitizenSession, RedeemLink, RegisterCitizen
from soesmart.towns import towns


def outbox_events(app: ParticipationApp, event_type: str | None = None) -> list[dict[str, Any]]:
    """The events in the instance's outbox, oldest first (as wire payloads)."""
    o = t.outbox
    query = select(o.c.payload).order_by(o.c.id)
    if event_type:
        query = query.where(o.c.event_type == event_type)
    with app.engine.connect() as conn:
        return [json.loads(p) for p in conn.execute(query).scalars()]


def last_token(app: ParticipationApp, email: str, purpose: str = "confirm_registration") -> str:
    links = [e for e in outbox_events(app, "CitizenLinkRequested")
             if e["email"].lower() == email.lower() and e["purpose"] == purpose]
    assert links, f"no {purpose} link for {email}"
    return str(links[-1]["token"])


def confirmed_citizen(app: ParticipationApp, email: str | None = None, display_name: str = "Testperson",
                      **options: Any) -> uuid.UUID:
    """A confirmed citizen of `app`'s town; returns the citizen id."""
    email = email or f"citizen-{uuid.uuid4().hex[:12]}@example.org"
    app.register_citizen(RegisterCitizen(email=email, postcode=app.town.postcodes[0],
                                         display_name=display_name, **options))
    session = app.confirm_citizen(RedeemLink(token=last_token(app, email)))
    return session.citizen_id


def confirmed_citizens_of_running_instance(data_dir: Path, broker_url: str, town: str, n: int,
                                           database_url_template: str | None = None) -> list[uuid.UUID]:
    """Confirmed citizens in the database of a town instance that runs as a process.

    Made through the town's own use cases in this process, without mail: many at once
    and while the notifications service is down (registering over HTTP would meet the
    gateway's per-client limit of links).
    """
    settings = Settings(data_dir=data_dir, broker_url=broker_url, town=town, demo=False,
                        database_url_template=database_url_template)
    assert town in towns()
    app = ParticipationApp(settings)
    try:
        return [confirmed_citizen(app) for _ in range(n)]
    finally:
        app.stop()
        app.engine.dispose()


def signed_in_citizens(network: Any, town: str, n: int) -> list[dict[str, str]]:
    """`Authorization` headers of `n` new confirmed citizens of `town` in a running network
    (tests/support/network.py), signed the way the gateway signs a redeemed sign-in link."""
    from services.gateway.web.citizen_sessions import BEARER_PREFIX, sign_citizen

    ids = confirmed_citizens_of_running_instance(network.data_dir, network.broker_url, town, n,
                                                 network.database_url_template)
    gateway = Settings(secret_key=network.env()["SOESMART_SECRET_KEY"])
    return [
        {"Authorization": "Bearer " + BEARER_PREFIX + sign_citizen(
            CitizenSession(citizen_id=cid, town=town, display_name="Testperson", confirmed=True),
            gateway)}
        for cid in ids
    ]
