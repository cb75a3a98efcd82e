"""Comments on measures, their replies and the citizens' flags, in the town's database."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, RowMapping, insert, select

from services.participation.adapters import tables as t


class CommentRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def visible(self, comment_id: str) -> RowMapping | None:
        cm = t.comments
        return self.conn.execute(select(cm).where(cm.c.id == comment_id, cm.c.hidden.is_(False))
                                 ).mappings().first()

    def exists(self, comment_id: str) -> bool:
        return self.conn.execute(select(t.comments.c.id).where(t.comments.c.id == comment_id)
                                 ).first() is not None

    def add(self, comment_id: str, **values: Any) -> None:
        self.conn.execute(insert(t.comments).values(id=comment_id, hidden=False, **values))

    def visible_on(self, measure_code: str, consultation_id: str | None) -> Sequence[RowMapping]:
        """Visible comments and replies on a measure, with their authors' names, oldest first."""
        cm, c = t.comments, t.citizens
        query = (
            select(cm, c.c.display_name, c.c.erased_at)
            .join(c, c.c.id == cm.c.citizen_id)
            .where(cm.c.measure_code == measure_code, cm.c.hidden.is_(False))
            .order_by(cm.c.created_at, cm.c.id)
        )
        if consultation_id:
            query = query.where(cm.c.consultation_id == consultation_id)
        return self.conn.execute(query).mappings().all()

    def flagged_by(self, comment_id: str, citizen_id: str) -> bool:
        cf = t.comment_flags
        return self.conn.execute(select(cf.c.comment_id).where(
            cf.c.comment_id == comment_id, cf.c.citizen_id == citizen_id)).first() is not None

    def add_flag(self, comment_id: str, citizen_id: str, **values: Any) -> None:
        self.conn.execute(insert(t.comment_flags).values(comment_id=comment_id, citizen_id=citizen_id,
                                                         **values))

    def measure_title(self, code: str) -> str:
        mr = t.measures_replica
        return self.conn.execute(select(mr.c.title).where(mr.c.code == code)).scalar() or code
