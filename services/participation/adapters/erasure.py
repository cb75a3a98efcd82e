"""What an erased address leaves in a town's database besides the citizen's row, removed.

Events that named the address (link mails, replies, idea decisions) stay in the outbox
after they were published; their payload is replaced. Events not yet published that
name it are mails to the erased person and are dropped. Rate-limit rows of the
address go too (they name it by an unkeyed hash).
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import Connection, delete, func, select, update

from services.participation.adapters import tables as t
from services.participation.adapters.rate_limits import address_bucket

REDACTED = json.dumps({"redacted": "address erased"})


def forget_address(conn: Connection, email_key: str) -> int:
    """Remove `email_key` (the lower-case address) from the outbox and the rate limits."""
    o, h = t.outbox, t.rate_limit_hits
    naming = func.lower(o.c.payload).contains(email_key, autoescape=True)
    dropped = conn.execute(delete(o).where(naming, o.c.published_at.is_(None))).rowcount
    redacted = conn.execute(update(o).where(naming).values(payload=REDACTED)).rowcount
    bucket = address_bucket("", email_key)  # ":address:<hash>" after the kind
    conn.execute(delete(h).where(h.c.bucket.endswith(bucket, autoescape=True)))
    return int(dropped) + int(redacted)


def delete_unconfirmed(conn: Connection, registered_before: datetime) -> int:
    """Registrations never confirmed since before `registered_before` go, with their links
    and the events that named their address; returns how many."""
    c, links = t.citizens, t.citizen_links
    rows = conn.execute(select(c.c.id, c.c.email_key).where(
        c.c.confirmed_at.is_(None), c.c.erased_at.is_(None),
        c.c.registered_at < registered_before)).all()
    for citizen_id, key in rows:
        if key:
            forget_address(conn, key)
        conn.execute(delete(links).where(links.c.citizen_id == citizen_id))
        conn.execute(delete(c).where(c.c.id == citizen_id))
    return len(rows)
