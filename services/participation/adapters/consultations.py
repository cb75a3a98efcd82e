"""Consultations in the town's database: the rows, their measures, their milestones."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, delete, insert, select, update

from services.participation.adapters import tables as t
from services.participation.domain.model import Consultation, ConsultationNotFound

NOT_FOUND = ("Diese Beteiligung gibt es nicht.",
             [{"field": "consultation_id", "problem": "unknown consultation"}])


class OpenConsultations:
    """The open consultations, cached briefly: every rating needs them.

    Reading them took a fifth of a rating's CPU. A committed change of a consultation
    in this instance drops the cache; the end date is checked on every rating anyway.
    """

    SECONDS = 2.0

    def __init__(self) -> None:
        self._cached: tuple[float, list[Consultation]] | None = None

    def get(self, load: Callable[[], list[Consultation]]) -> list[Consultation]:
        cached, now = self._cached, time.monotonic()
        if cached is not None and now - cached[0] < self.SECONDS:
            return cached[1]
        consultations = load()
        self._cached = (now, consultations)
        return consultations

    def forget(self) -> None:
        self._cached = None


class ConsultationRepository:
    def __init__(self, conn: Connection, open_cache: OpenConsultations) -> None:
        self.conn = conn
        self._open_cache = open_cache
        self.changed = False  # a change drops the cache of open consultations at commit

    # ---------------------------------------------------------------- the aggregate
    def get(self, cid: str, lock: bool = False) -> Consultation:
        query = select(t.consultations).where(t.consultations.c.id == cid)
        row = self.conn.execute(query.with_for_update() if lock else query).mappings().first()
        if row is None:
            raise ConsultationNotFound(*NOT_FOUND)
        codes = self.conn.execute(
            select(t.consultation_measures.c.measure_code).where(
                t.consultation_measures.c.consultation_id == cid)
        ).scalars()
        return Consultation(id=row["id"], title=row["title"], status=row["status"],
                            starts_on=row["starts_on"], ends_on=row["ends_on"],
                            measure_codes=frozenset(codes))

    def open_ids(self, other_than: str | None = None) -> list[str]:
        c = t.consultations
        query = select(c.c.id).where(c.c.status == "open")
        if other_than is not None:
            query = query.where(c.c.id != other_than)
        return list(self.conn.execute(query).scalars().all())

    def open_now(self) -> list[Consultation]:
        """The open consultations (cached for a moment, see `OpenConsultations`)."""
        return self._open_cache.get(lambda: [self.get(cid) for cid in self.open_ids()])

    def asking(self, measure_code: str, cid: str | None) -> Consultation | None:
        """The consultation an answer or comment about `measure_code` belongs to: the one
        named, else the open one asking it, else the latest that asked it (closed or
        draft: its rules say why not); None if none ever did."""
        open_now = self.open_now()
        if cid:
            found = next((c for c in open_now if c.id == cid), None)
            return found or self.get(cid)  # not open: its rules say why
        found = next((c for c in open_now if measure_code in c.measure_codes), None)
        if found is not None:
            return found
        cm, cs = t.consultation_measures, t.consultations
        latest = self.conn.execute(
            select(cs.c.id).join(cm, cm.c.consultation_id == cs.c.id)
            .where(cm.c.measure_code == measure_code).order_by(cs.c.ends_on.desc()).limit(1)
        ).scalar()
        return self.get(latest) if latest is not None else None

    def add(self, cid: str, values: dict[str, Any], codes: Sequence[str]) -> None:
        self.conn.execute(insert(t.consultations).values(id=cid, **values))
        self.set_measures(cid, codes)

    def change(self, cid: str, **values: Any) -> None:
        self.conn.execute(update(t.consultations).where(t.consultations.c.id == cid).values(**values))
        self.changed = True

    def set_measures(self, cid: str, codes: Sequence[str]) -> None:
        cm = t.consultation_measures
        self.conn.execute(delete(cm).where(cm.c.consultation_id == cid))
        if codes:
            self.conn.execute(insert(cm), [{"consultation_id": cid, "measure_code": code, "position": i}
                                           for i, code in enumerate(codes)])
        self.changed = True

    def record_milestone(self, cid: str, milestone: str, at: datetime, actor: str) -> bool:
        """Record a milestone once; False if it was recorded before."""
        ms = t.consultation_milestones
        if self.conn.execute(select(ms.c.milestone).where(ms.c.consultation_id == cid,
                                                          ms.c.milestone == milestone)).first():
            return False
        self.conn.execute(insert(ms).values(consultation_id=cid, milestone=milestone, at=at, actor=actor))
        return True

    # ---------------------------------------------------------------- what pages read
    def row(self, cid: str) -> RowMapping:
        row = self.conn.execute(select(t.consultations).where(t.consultations.c.id == cid)).mappings().first()
        if row is None:
            raise ConsultationNotFound(*NOT_FOUND)
        return row

    def rows(self, include_drafts: bool = True, only_open: bool = False) -> Sequence[RowMapping]:
        c = t.consultations
        if only_open:
            query = select(c).where(c.c.status == "open").order_by(c.c.starts_on)
        else:
            query = select(c).order_by(c.c.starts_on.desc(), c.c.created_at.desc())
            if not include_drafts:
                query = query.where(c.c.status != "draft")
        return self.conn.execute(query).mappings().all()

    def measures_of(self, cid: str) -> Sequence[RowMapping]:
        """The catalogue entries a consultation asks about, in its order."""
        cm, mr = t.consultation_measures, t.measures_replica
        return self.conn.execute(
            select(mr).join(cm, cm.c.measure_code == mr.c.code)
            .where(cm.c.consultation_id == cid).order_by(cm.c.position)
        ).mappings().all()

    def catalogue(self) -> Iterable[Any]:
        """(code, programme, field_of_action, towns) of every measure in the catalogue copy."""
        mr = t.measures_replica
        return self.conn.execute(select(mr.c.code, mr.c.programme, mr.c.field_of_action, mr.c.towns)).all()
