"""Sign-ins sent to an OpenID provider and not yet back, by the hash of their `state`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from services.gateway.adapters.tables import oidc_pending


class PendingSignIns:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, state_hash: str, **values: Any) -> None:
        self.conn.execute(insert(oidc_pending).values(state_hash=state_hash, **values))

    def take(self, state_hash: str, provider: str, now: datetime) -> dict[str, Any] | None:
        """The pending sign-in, marked used; None if unknown, used before, expired or of
        another provider. One winner among concurrent callbacks with the same state."""
        taken = self.conn.execute(
            update(oidc_pending)
            .where(oidc_pending.c.state_hash == state_hash, oidc_pending.c.provider == provider,
                   oidc_pending.c.used_at.is_(None), oidc_pending.c.expires_at > now)
            .values(used_at=now)
        )
        if taken.rowcount != 1:
            return None
        row = self.conn.execute(
            select(oidc_pending).where(oidc_pending.c.state_hash == state_hash)).mappings().one()
        return dict(row)

    def purge(self, expired_before: datetime) -> None:
        self.conn.execute(delete(oidc_pending).where(oidc_pending.c.expires_at < expired_before))
