"""The town's copy of the regional catalogue entries it uses, and the events already applied."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, RowMapping, insert, select, update

from services.participation.adapters import tables as t
from soesmart.contracts import Event
from soesmart.messaging.outbox import claim_event


class MeasureReplica:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def claim(self, event: Event) -> bool:
        """Record the event as handled in this transaction; False if it was handled before."""
        return claim_event(self.conn, t.processed_events, event)

    def get(self, code: str) -> RowMapping | None:
        mr = t.measures_replica
        return self.conn.execute(select(mr).where(mr.c.code == code).with_for_update()).mappings().first()

    def add(self, code: str, **values: Any) -> None:
        self.conn.execute(insert(t.measures_replica).values(code=code, **values))

    def change(self, code: str, **values: Any) -> None:
        mr = t.measures_replica
        self.conn.execute(update(mr).where(mr.c.code == code).values(**values))
