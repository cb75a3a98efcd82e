"""Rate limits kept in the instance's database: one row per counted action.

Gateways are stateless and several run side by side, so the counts live where the
commands are carried out. A hit is recorded in the transaction of the command it
counts: a refused command records nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, insert, select

from services.participation.adapters import tables as t
from services.participation.domain.model import Limit

Check = tuple[str, Limit, str]  # bucket, limit, what is limited (said in the message)


def address_bucket(kind: str, email_key: str) -> str:
    """Buckets name an address only by a hash: erasing a citizen leaves no address behind."""
    return f"{kind}:address:{hashlib.sha256(email_key.encode('utf-8')).hexdigest()[:40]}"


class RateLimits:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def check(self, checks: Iterable[Check], now: datetime) -> None:
        """Raise `RateLimited` (with `retry_after`) if any bucket is full."""
        h = t.rate_limit_hits
        for bucket, limit, what in checks:
            if limit.count <= 0:
                continue
            since = now - timedelta(seconds=limit.window)
            hits = self.conn.execute(
                select(h.c.at).where(h.c.bucket == bucket, h.c.at > since)
            ).scalars().all()
            limit.check([_aware(at, now) for at in hits], now, what)

    def record(self, checks: Iterable[Check], now: datetime) -> None:
        rows = [{"bucket": bucket, "at": now} for bucket, _, _ in checks]
        if rows:
            self.conn.execute(insert(t.rate_limit_hits), rows)

    def forget_before(self, before: datetime) -> int:
        return self.conn.execute(delete(t.rate_limit_hits).where(t.rate_limit_hits.c.at < before)).rowcount


def _aware(value: datetime, like: datetime) -> datetime:
    # SQLite gives back naive UTC datetimes
    return value if value.tzinfo is not None else value.replace(tzinfo=like.tzinfo)
