"""The towns' consultations as the measures service learns them, and answers per consultation."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from services.measures.adapters import tables as t

# Which column of `town_consultations` a milestone sets (closing_soon sets none).
MILESTONE_COLUMN = {"opened": "opened_at", "closed": "closed_at",
                    "results_published": "published_at"}


class StoryRepository:
    """Consultations per measure (from milestone events) and the ratings they received."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def record_milestone(self, consultation_id: str, town: str, title: str, starts_on: date,
                         ends_on: date, milestone: str, at: datetime,
                         codes: Sequence[str]) -> None:
        """Keep the consultation's texts, dates and milestone time, and the measures it asks."""
        tc = t.town_consultations
        values: dict[str, Any] = dict(town=town, title=title, starts_on=starts_on, ends_on=ends_on)
        column = MILESTONE_COLUMN.get(milestone)
        exists = self.conn.execute(
            select(tc.c.consultation_id).where(tc.c.consultation_id == consultation_id)
            .with_for_update()).first()
        if exists is None:
            if column:
                values[column] = at
            self.conn.execute(insert(tc).values(consultation_id=consultation_id, **values))
        else:
            if column:  # the first time it happened counts (a redelivery comes later)
                values[column] = func.coalesce(tc.c[column], at)
            self.conn.execute(update(tc).where(tc.c.consultation_id == consultation_id)
                              .values(**values))
        if codes:
            tcm = t.town_consultation_measures
            self.conn.execute(delete(tcm).where(tcm.c.consultation_id == consultation_id))
            self.conn.execute(insert(tcm), [{"consultation_id": consultation_id,
                                             "measure_code": code} for code in dict.fromkeys(codes)])

    def asked_in(self, code: str) -> list[Mapping[Any, Any]]:
        """The consultations that asked about `code`, oldest first, with its answers in each."""
        tc, tcm, rp = t.town_consultations, t.town_consultation_measures, t.rating_projection
        answers = (select(func.count()).where(rp.c.measure_code == code,
                                              rp.c.consultation_id == tc.c.consultation_id)
                   .scalar_subquery())
        query = (select(tc, answers.label("answers"))
                 .join(tcm, tcm.c.consultation_id == tc.c.consultation_id)
                 .where(tcm.c.measure_code == code)
                 .order_by(tc.c.starts_on, tc.c.town))
        return list(self.conn.execute(query).mappings())
