"""Citizens' answers in the town's database, and what a rating needs to know of its citizen."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, RowMapping, insert, select, update

from services.participation.adapters import tables as t
from services.participation.adapters.rows import aware
from services.participation.domain.model import Answer, CitizenStanding, StoredRating


class RatingRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def rater(self, citizen_id: str) -> tuple[CitizenStanding, Row[Any] | None]:
        """The citizen by primary key (the hot path's only look-up of them): may they rate,
        and their address and wishes if they do."""
        c = t.citizens
        row = self.conn.execute(
            select(c.c.confirmed_at, c.c.erased_at, c.c.follow_rated, c.c.email, c.c.language)
            .where(c.c.id == citizen_id)
        ).first()
        return CitizenStanding(exists=row is not None, confirmed=bool(row and row.confirmed_at),
                               erased=bool(row and row.erased_at)), row

    def current(self, consultation_id: str, measure_code: str, citizen_id: str) -> StoredRating | None:
        """The citizen's answer to this measure in this consultation, locked for the change."""
        r = t.ratings
        row = self.conn.execute(
            select(r.c.id, r.c.version, r.c.effectiveness, r.c.support, r.c.reason)
            .where(r.c.consultation_id == consultation_id, r.c.measure_code == measure_code,
                   r.c.participant_id == citizen_id)
            .with_for_update()
        ).first()
        if row is None:
            return None
        return StoredRating(row.id, row.version, Answer(row.effectiveness, row.support, row.reason))

    def add(self, rating_id: str, consultation_id: str, measure_code: str, citizen_id: str,
            answer: Answer, now: datetime) -> None:
        self.conn.execute(insert(t.ratings).values(
            id=rating_id, consultation_id=consultation_id, measure_code=measure_code,
            participant_id=citizen_id, version=1, created_at=now, **_values(answer, now)))

    def change(self, rating_id: str, version: int, answer: Answer, now: datetime) -> None:
        r = t.ratings
        self.conn.execute(update(r).where(r.c.id == rating_id).values(version=version,
                                                                     **_values(answer, now)))

    def of_citizen(self, citizen_id: str, consultation_id: str | None) -> list[dict[str, Any]]:
        """A citizen's answers, oldest first, as "Meine Daten" shows them."""
        r = t.ratings
        query = select(r).where(r.c.participant_id == citizen_id).order_by(r.c.created_at)
        if consultation_id:
            query = query.where(r.c.consultation_id == consultation_id)
        return [
            {"measure_code": x["measure_code"], "consultation_id": x["consultation_id"],
             "effectiveness": x["effectiveness"], "support": x["support"], "reason": x["reason"],
             "version": x["version"], "updated_at": aware(x["updated_at"]).isoformat()}
            for x in self.conn.execute(query).mappings().all()
        ]

    def page(self, after_id: str | None, limit: int) -> Sequence[RowMapping]:
        """Stored ratings ordered by id, `limit` after `after_id`."""
        r = t.ratings
        query = select(r).order_by(r.c.id).limit(limit)
        if after_id:
            query = query.where(r.c.id > after_id)
        return self.conn.execute(query).mappings().all()


def _values(answer: Answer, now: datetime) -> dict[str, Any]:
    return dict(effectiveness=answer.effectiveness,
                support=str(answer.support) if answer.support else None,
                reason=answer.reason or None, updated_at=now)
