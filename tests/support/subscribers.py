"""Confirmed subscribers written straight into the notifications database (fast set-up)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import Engine, insert

from services.notifications.adapters import tables as t


def add_confirmed_subscribers(engine: Engine, addresses: Sequence[str]) -> None:
    """Each address follows the whole region, immediately, with consent given now."""
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(insert(t.subscriptions), [
            dict(id=str(uuid.uuid4()), email=a, scope_type="region", scope_value="all",
                 language="de", status="confirmed", frequency="immediate", created_at=now,
                 confirmed_at=now)
            for a in addresses
        ])
