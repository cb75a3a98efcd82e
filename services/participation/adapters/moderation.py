"""What the moderators read and do: open flags, unreviewed content, hiding, the log."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, func, insert, select, update

from services.participation.adapters import tables as t


class ModerationRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def open_flags(self) -> dict[str, dict[str, int]]:
        """comment id -> reason -> flags not dismissed."""
        cf = t.comment_flags
        counts: dict[str, dict[str, int]] = {}
        for comment_id, reason, n in self.conn.execute(
            select(cf.c.comment_id, cf.c.reason, func.count())
            .where(cf.c.dismissed_at.is_(None)).group_by(cf.c.comment_id, cf.c.reason)
        ).all():
            counts.setdefault(comment_id, {})[reason] = n
        return counts

    def comments(self, ids: Sequence[str]) -> Sequence[RowMapping]:
        if not ids:
            return []
        return self.conn.execute(self._comments().where(t.comments.c.id.in_(list(ids)))).mappings().all()

    def unreviewed_comments(self, limit: int) -> Sequence[RowMapping]:
        cm = t.comments
        return self.conn.execute(self._comments().where(cm.c.reviewed_at.is_(None))
                                 .order_by(cm.c.created_at.desc()).limit(limit)).mappings().all()

    @staticmethod
    def _comments() -> Any:
        cm, c = t.comments, t.citizens
        return select(cm, c.c.display_name, c.c.erased_at).join(c, c.c.id == cm.c.citizen_id)

    def exists(self, target_type: str, target_id: str) -> bool:
        table = t.comments if target_type == "comment" else t.ideas
        return self.conn.execute(select(table.c.id).where(table.c.id == target_id)).first() is not None

    def review(self, target_type: str, target_id: str, now: datetime, hidden: bool | None) -> None:
        table = t.comments if target_type == "comment" else t.ideas
        values: dict[str, Any] = {"reviewed_at": now}
        if hidden is not None:
            values["hidden"] = hidden
        self.conn.execute(update(table).where(table.c.id == target_id).values(**values))

    def dismiss_flags(self, comment_id: str, now: datetime) -> None:
        cf = t.comment_flags
        self.conn.execute(update(cf).where(cf.c.comment_id == comment_id, cf.c.dismissed_at.is_(None))
                          .values(dismissed_at=now))

    def log(self, **act: Any) -> None:
        self.conn.execute(insert(t.moderation_log).values(**act))

    def latest_acts(self, limit: int) -> Sequence[RowMapping]:
        ml = t.moderation_log
        return self.conn.execute(select(ml).order_by(ml.c.id.desc()).limit(limit)).mappings().all()
