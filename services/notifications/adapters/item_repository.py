"""What people are still to hear about (`notification_items`), until it goes into a mail."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, func, select, update

from services.notifications.adapters import tables as t
from services.notifications.adapters.bulk import chunks, insert_rows

Row = Mapping[Any, Any]  # a stored row, column name -> value


class ItemRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, items: Sequence[dict[str, Any]]) -> None:
        insert_rows(self.conn, t.notification_items, items)

    def reschedule(self, subscription_id: str, frequency: str, due_at: datetime) -> None:
        """Waiting news of a subscription follows its new frequency."""
        i = t.notification_items
        self.conn.execute(update(i).where(i.c.subscription_id == subscription_id).values(
            frequency=frequency, due_at=due_at))

    def due_now(self, frequency: str, now: datetime, limit: int) -> list[str]:
        """Addresses whose oldest item of the frequency is due, oldest first."""
        i = t.notification_items
        return list(self.conn.execute(
            select(i.c.recipient).where(i.c.frequency == frequency)
            .group_by(i.c.recipient).having(func.min(i.c.due_at) <= now)
            .order_by(func.min(i.c.id)).limit(limit)
        ).scalars())

    def digest_candidates(self, frequencies: Sequence[str]) -> list[tuple[Any, ...]]:
        """(address, frequency, first item's creation, recipient's creation, last daily digest,
        last weekly digest) of every address with items of these frequencies."""
        i, r = t.notification_items, t.recipients
        return [tuple(row) for row in self.conn.execute(
            select(i.c.recipient, i.c.frequency, func.min(i.c.created_at),
                   r.c.created_at, r.c.last_daily_digest_at, r.c.last_weekly_digest_at)
            .select_from(i.outerjoin(r, r.c.email == i.c.recipient))
            .where(i.c.frequency.in_(list(frequencies)))
            .group_by(i.c.recipient, i.c.frequency, r.c.created_at,
                      r.c.last_daily_digest_at, r.c.last_weekly_digest_at)
        )]

    def waiting(self, emails: list[str], frequency: str) -> list[Row]:
        """The items of these addresses and frequency, with the scope type of their subscription."""
        i, s = t.notification_items, t.subscriptions
        return list(self.conn.execute(
            select(i, s.c.scope_type)
            .select_from(i.outerjoin(s, s.c.id == i.c.subscription_id))
            .where(i.c.recipient.in_(emails), i.c.frequency == frequency)
            .order_by(i.c.id)
        ).mappings())

    def remove(self, ids: list[int]) -> None:
        i = t.notification_items
        for chunk in chunks(ids, 1000):
            self.conn.execute(delete(i).where(i.c.id.in_(chunk)))
