"""A person's data held by the notifications service: shown and downloaded, or erased.

The gateway asks for it by the confirmed address of a citizen's account (never by an
address someone types). Erasure removes the address from subscriptions, consents,
the delivery log, waiting news and pending mails; only a keyed hash stays, so that
an unsubscribe or a bounce is still honoured.
"""

from __future__ import annotations

from typing import Any

from services.notifications.adapters.unit_of_work import UnitOfWork
from services.notifications.domain.consent import address_hash
from services.notifications.service_layer.context import Context, address_key
from soesmart.contracts import CitizenErased


def personal_data(email: str, uow: UnitOfWork) -> dict[str, Any]:
    """Everything stored about the address, table by table (JSON-ready)."""
    email = email.strip().lower()
    with uow:
        found = uow.personal.export(email)
    return {"email": email, **{name: [_jsonable(row) for row in rows]
                               for name, rows in found.items()}}


def erase_address(email: str, uow: UnitOfWork, ctx: Context) -> dict[str, int]:
    """Remove the address everywhere in this service; returns what was changed per table."""
    email = email.strip().lower()
    with uow:
        counts = uow.personal.erase(email, address_hash(ctx.links.secret_key, email),
                                    [address_key(email)], ctx.now())
        uow.commit()
    return counts


def on_citizen_erased(event: CitizenErased, uow: UnitOfWork, ctx: Context) -> bool:
    """An account erased at a town: its address goes from this service too (once)."""
    with uow:
        if not uow.claim(event):
            return False
        if event.email:
            email = event.email.lower()
            uow.personal.erase(email, address_hash(ctx.links.secret_key, email),
                               [address_key(email)], ctx.now())
        uow.commit()
    return True


def _jsonable(row: dict[str, Any]) -> dict[str, Any]:
    return {key: value.isoformat() if hasattr(value, "isoformat") else value
            for key, value in row.items()}
