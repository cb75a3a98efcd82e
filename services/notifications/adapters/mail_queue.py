"""The outgoing mail queue (`deliveries`): queued once per cause and address, sent, logged."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, case, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from services.notifications.adapters import tables as t
from services.notifications.adapters.bulk import insert_rows

Row = Mapping[Any, Any]  # a stored row, column name -> value


class MailQueue:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.queued = False  # whether this transaction put mail into the queue

    def add(self, row: dict[str, Any]) -> bool:
        """Queue one mail; False if one with its idempotency key is queued already."""
        try:
            with self.conn.begin_nested():
                self.conn.execute(insert(t.deliveries).values(row))
        except IntegrityError:
            return False  # already queued for this cause and recipient
        self.queued = True
        return True

    def add_many(self, rows: Sequence[dict[str, Any]]) -> None:
        insert_rows(self.conn, t.deliveries, rows)
        self.queued = self.queued or bool(rows)

    def drop_pending(self, recipient: str, causes: Sequence[str]) -> None:
        """Unsent mails of these causes to an address leave the queue."""
        d = t.deliveries
        self.conn.execute(delete(d).where(
            d.c.recipient == recipient, d.c.status == "pending", d.c.cause.in_(list(causes))))

    def due(self, now: datetime, limit: int) -> list[Row]:
        """Pending mails due now, oldest first, with `bouncing_since` of their address."""
        d, r = t.deliveries, t.recipients
        return list(self.conn.execute(
            select(d, r.c.bouncing_since)
            .select_from(d.outerjoin(r, r.c.email == d.c.recipient))
            .where(and_(d.c.status == "pending", d.c.next_attempt_at <= now))
            .order_by(d.c.id)
            .limit(limit)
        ).mappings())

    def change(self, delivery_id: int, values: Mapping[str, Any]) -> None:
        d = t.deliveries
        self.conn.execute(update(d).where(d.c.id == delivery_id).values(**values))

    def hold_domain(self, domain: str, until: datetime) -> None:
        """Pending mails to a domain that asked for fewer mails wait until `until`."""
        d = t.deliveries
        pattern = "%@" + domain.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        self.conn.execute(update(d).where(
            d.c.status == "pending", d.c.recipient.like(pattern, escape="\\"),
            d.c.next_attempt_at < until,
        ).values(next_attempt_at=until))

    def mark_sent(self, ids: list[int], now: datetime) -> None:
        """Record mails the server accepted; the body is not kept once the mail is out."""
        d = t.deliveries
        self.conn.execute(
            update(d).where(d.c.id.in_(ids), d.c.status == "pending").values(
                status="sent", sent_at=now, attempts=d.c.attempts + 1,
                text_body=None, html_body=None,
            )
        )

    # -------------------------------------------------------------- the delivery log
    def counts(self) -> list[tuple[Any, ...]]:
        """(cause, status, mails, mails tried more than once)."""
        d = t.deliveries
        return [tuple(row) for row in self.conn.execute(
            select(d.c.cause, d.c.status, func.count(),
                   func.sum(case((d.c.attempts > 1, 1), else_=0)))
            .group_by(d.c.cause, d.c.status).order_by(d.c.cause, d.c.status)
        )]

    def bouncing_addresses(self) -> int:
        r = t.recipients
        return int(self.conn.execute(
            select(func.count()).select_from(r).where(r.c.bouncing_since.is_not(None))
        ).scalar_one())

    def recent(self, limit: int) -> list[Row]:
        d = t.deliveries
        return list(self.conn.execute(
            select(d.c.id, d.c.cause, d.c.recipient, d.c.status, d.c.attempts,
                   d.c.last_error, d.c.created_at, d.c.sent_at)
            .order_by(d.c.id.desc()).limit(limit)
        ).mappings())
