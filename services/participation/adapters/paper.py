"""Paper sheets in the town's database: the sheets and the answers entered from them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, func, insert, select, update

from services.participation.adapters import tables as t


class PaperSheetRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def sheet(self, consultation_id: str, number: int) -> RowMapping | None:
        ps = t.paper_sheets
        return self.conn.execute(
            select(ps).where(ps.c.consultation_id == consultation_id, ps.c.sheet_number == number)
            .with_for_update()).mappings().first()

    def entered_numbers(self, consultation_id: str, numbers: Iterable[int]) -> set[int]:
        ps, wanted, found = t.paper_sheets, sorted(set(numbers)), set[int]()
        for i in range(0, len(wanted), 500):
            found.update(self.conn.execute(
                select(ps.c.sheet_number).where(ps.c.consultation_id == consultation_id,
                                                ps.c.sheet_number.in_(wanted[i:i + 500]))).scalars())
        return found

    def add_sheets(self, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            self.conn.execute(insert(t.paper_sheets), list(rows))

    def mark_corrected(self, sheet_id: str, now: datetime) -> None:
        ps = t.paper_sheets
        self.conn.execute(update(ps).where(ps.c.id == sheet_id).values(corrected_at=now))

    def answers_of(self, sheet_id: str) -> dict[str, RowMapping]:
        """measure code -> the stored rating of that sheet."""
        r = t.ratings
        rows = self.conn.execute(select(r).where(r.c.participant_id == sheet_id)
                                 .with_for_update()).mappings().all()
        return {row["measure_code"]: row for row in rows}

    def add_ratings(self, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            self.conn.execute(insert(t.ratings), list(rows))

    def change_rating(self, rating_id: str, values: dict[str, Any]) -> None:
        r = t.ratings
        self.conn.execute(update(r).where(r.c.id == rating_id).values(**values))

    def sheets(self, consultation_id: str, limit: int) -> Sequence[RowMapping]:
        """The latest sheets of a consultation with how many answers each has."""
        ps, r = t.paper_sheets, t.ratings
        answers = (select(func.count()).where(r.c.participant_id == ps.c.id)
                   .correlate(ps).scalar_subquery())
        return self.conn.execute(
            select(ps, answers.label("answers")).where(ps.c.consultation_id == consultation_id)
            .order_by(ps.c.entered_at.desc(), ps.c.sheet_number.desc()).limit(limit)
        ).mappings().all()
