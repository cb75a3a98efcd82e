"""The counts behind a consultation's results in the town: answers, comments, days."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select

from services.participation.adapters import tables as t
from services.participation.adapters.rows import aware


class TownResultsQuery:
    def __init__(self, conn: Connection, consultation_id: str) -> None:
        self.conn = conn
        self.cid = consultation_id

    def measures(self) -> Sequence[Any]:
        """(code, title, field of action) in the consultation's order; title and field are
        None for a measure the catalogue copy does not know (any more)."""
        cs, mr = t.consultation_measures, t.measures_replica
        return self.conn.execute(
            select(cs.c.measure_code, mr.c.title, mr.c.field_of_action)
            .outerjoin(mr, mr.c.code == cs.c.measure_code)
            .where(cs.c.consultation_id == self.cid).order_by(cs.c.position)
        ).all()

    def answers(self, column: str) -> dict[str, list[tuple[Any, int]]]:
        """measure code -> (value of `column`: effectiveness or support, how many)."""
        r = t.ratings
        counts: dict[str, list[tuple[Any, int]]] = {}
        for code, value, n in self.conn.execute(
            select(r.c.measure_code, r.c[column], func.count()).where(r.c.consultation_id == self.cid)
            .group_by(r.c.measure_code, r.c[column])
        ).all():
            counts.setdefault(code, []).append((value, n))
        return counts

    def paper_answers(self) -> dict[str, int]:
        """measure code -> answers entered from paper sheets."""
        r = t.ratings
        return {code: n for code, n in self.conn.execute(
            select(r.c.measure_code, func.count())
            .where(r.c.consultation_id == self.cid, r.c.channel == "paper").group_by(r.c.measure_code)
        ).all()}

    def verified_answers(self) -> dict[str, int]:
        """measure code -> answers from citizens whose identity a provider verified."""
        r, c = t.ratings, t.citizens
        return {code: n for code, n in self.conn.execute(
            select(r.c.measure_code, func.count()).join(c, c.c.id == r.c.participant_id)
            .where(r.c.consultation_id == self.cid, c.c.trust_level.is_not(None))
            .group_by(r.c.measure_code)
        ).all()}

    def answers_by_trust(self) -> dict[str, int]:
        """Answers of the consultation by the trust level the provider stated ("": none, paper
        sheets included)."""
        r, c = t.ratings, t.citizens
        return {level or "": n for level, n in self.conn.execute(
            select(c.c.trust_level, func.count()).select_from(r)
            .outerjoin(c, c.c.id == r.c.participant_id)
            .where(r.c.consultation_id == self.cid).group_by(c.c.trust_level)
        ).all()}

    def visible_comments(self) -> dict[str, int]:
        cm = t.comments
        return {code: n for code, n in self.conn.execute(
            select(cm.c.measure_code, func.count())
            .where(cm.c.consultation_id == self.cid, cm.c.hidden.is_(False)).group_by(cm.c.measure_code)
        ).all()}

    def participants(self) -> int:
        """Citizens who rated or commented."""
        r, cm = t.ratings, t.comments
        raters = set(self.conn.execute(
            select(r.c.participant_id).where(r.c.consultation_id == self.cid).distinct()).scalars())
        commenters = set(self.conn.execute(
            select(cm.c.citizen_id).where(cm.c.consultation_id == self.cid).distinct()).scalars())
        return len(raters | commenters)

    def stamps(self, start: datetime, end: datetime) -> dict[str, list[datetime]]:
        """When each rating and comment came, and each confirmation and idea from start to end."""
        r, cm, c, i = t.ratings, t.comments, t.citizens, t.ideas
        series = {
            "ratings": select(r.c.created_at).where(r.c.consultation_id == self.cid),
            "comments": select(cm.c.created_at).where(cm.c.consultation_id == self.cid),
            "citizens": select(c.c.confirmed_at).where(c.c.confirmed_at >= start, c.c.confirmed_at < end),
            "ideas": select(i.c.created_at).where(i.c.created_at >= start, i.c.created_at < end),
        }
        return {kind: [aware(s) for s in self.conn.execute(query).scalars().all()]
                for kind, query in series.items()}
