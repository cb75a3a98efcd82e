"""Citizens' ideas for new measures, with their authors, in the town's database."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Connection, RowMapping, insert, select, update

from services.participation.adapters import tables as t


class IdeaRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def with_authors(self, *where: ColumnElement[bool]) -> list[RowMapping]:
        """Ideas with their author's name, address and language, newest first."""
        i, c = t.ideas, t.citizens
        return list(self.conn.execute(
            select(i, c.c.display_name, c.c.erased_at, c.c.email, c.c.language)
            .join(c, c.c.id == i.c.citizen_id).where(*where).order_by(i.c.created_at.desc())
        ).mappings().all())

    def get(self, idea_id: str) -> RowMapping | None:
        rows = self.with_authors(t.ideas.c.id == idea_id)
        return rows[0] if rows else None

    def listed(self, status: str | None, include_hidden: bool) -> list[RowMapping]:
        where = []
        if status is not None:
            where.append(t.ideas.c.status == status)
        if not include_hidden:
            where.append(t.ideas.c.hidden.is_(False))
        return self.with_authors(*where)

    def unreviewed(self) -> list[RowMapping]:
        return self.with_authors(t.ideas.c.reviewed_at.is_(None))

    def add(self, idea_id: str, **values: Any) -> None:
        self.conn.execute(insert(t.ideas).values(id=idea_id, status="submitted", decision_reason="",
                                                 hidden=False, **values))

    def decide(self, idea_id: str, **values: Any) -> bool:
        """Record the decision unless one was recorded first (by a concurrent request)."""
        i = t.ideas
        return self.conn.execute(update(i).where(i.c.id == idea_id, i.c.status == "submitted")
                                 .values(**values)).rowcount == 1
