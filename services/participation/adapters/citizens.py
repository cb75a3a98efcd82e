"""Citizens and their single-use mail links in the town's database."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, delete, func, insert, select, update

from services.participation.adapters import tables as t
from services.participation.adapters.rows import aware
from services.participation.domain.model import (
    ERASED_DISPLAY_NAME,
    CitizenNotFound,
    CitizenStanding,
    as_id,
)


class CitizenRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def get(self, citizen_id: str) -> RowMapping:
        row = self.conn.execute(select(t.citizens).where(t.citizens.c.id == citizen_id)).mappings().first()
        if row is None:
            raise CitizenNotFound("Dieses Konto gibt es nicht.",
                                  [{"field": "citizen_id", "problem": "unknown citizen"}])
        return row

    def live(self, citizen_id: uuid.UUID | str) -> RowMapping:
        """A citizen who has not erased their account."""
        row = self.get(as_id(citizen_id, "citizen_id"))
        if row["erased_at"] is not None:
            raise CitizenNotFound("Dieses Konto gibt es nicht mehr.",
                                  [{"field": "citizen_id", "problem": "erased"}])
        return row

    def participant(self, citizen_id: uuid.UUID | str) -> RowMapping:
        """A confirmed, not erased citizen (who may rate, comment, flag and propose)."""
        row = self.conn.execute(select(t.citizens).where(
            t.citizens.c.id == as_id(citizen_id, "citizen_id"))).mappings().first()
        CitizenStanding(exists=row is not None, confirmed=bool(row and row["confirmed_at"]),
                        erased=bool(row and row["erased_at"])).check_can_participate()
        assert row is not None
        return row

    def by_email_key(self, key: str, lock: bool = False) -> RowMapping | None:
        query = select(t.citizens).where(t.citizens.c.email_key == key)
        return self.conn.execute(query.with_for_update() if lock else query).mappings().first()

    def by_subject_hash(self, digest: str) -> RowMapping | None:
        query = select(t.citizens).where(t.citizens.c.subject_hash == digest)
        return self.conn.execute(query.with_for_update()).mappings().first()

    def add(self, citizen_id: str, **values: Any) -> None:
        self.conn.execute(insert(t.citizens).values(id=citizen_id, **values))

    def change(self, citizen_id: str, **values: Any) -> None:
        self.conn.execute(update(t.citizens).where(t.citizens.c.id == citizen_id).values(**values))

    def erase(self, citizen_id: str, now: datetime) -> None:
        """Every personal detail goes; the row stays for the anonymous author. Unused links die."""
        self.change(citizen_id, email=None, email_key=None, postcode=None,
                    display_name=ERASED_DISPLAY_NAME, notify_replies=False, follow_rated=False,
                    subject_hash=None, erased_at=now)
        self.conn.execute(delete(t.citizen_links).where(t.citizen_links.c.citizen_id == citizen_id))

    def comments_of(self, citizen_id: str) -> Sequence[RowMapping]:
        cm = t.comments
        return self.conn.execute(
            select(cm).where(cm.c.citizen_id == citizen_id).order_by(cm.c.created_at)).mappings().all()

    def ideas_of(self, citizen_id: str) -> Sequence[RowMapping]:
        i = t.ideas
        return self.conn.execute(
            select(i).where(i.c.citizen_id == citizen_id).order_by(i.c.created_at)).mappings().all()


class LinkRepository:
    """Links sent by mail; only the hash of a token is stored."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def last_sent(self, citizen_id: str, purpose: str) -> datetime | None:
        cl = t.citizen_links
        return aware(self.conn.execute(select(func.max(cl.c.created_at)).where(
            cl.c.citizen_id == citizen_id, cl.c.purpose == purpose)).scalar())

    def add(self, digest: str, citizen_id: str, purpose: str, now: datetime, expires_at: datetime) -> None:
        self.conn.execute(insert(t.citizen_links).values(
            token_hash=digest, citizen_id=citizen_id, purpose=purpose, created_at=now,
            expires_at=expires_at))

    def get(self, digest: str) -> RowMapping | None:
        cl = t.citizen_links
        return self.conn.execute(
            select(cl.c.purpose, cl.c.expires_at, cl.c.used_at, cl.c.citizen_id)
            .where(cl.c.token_hash == digest).with_for_update()
        ).mappings().first()

    def use(self, digest: str, now: datetime) -> bool:
        """Mark the link used; False if a concurrent request redeemed it first."""
        cl = t.citizen_links
        used = self.conn.execute(update(cl).where(cl.c.token_hash == digest, cl.c.used_at.is_(None))
                                 .values(used_at=now))
        return used.rowcount == 1
