"""Use cases of one town's participation instance."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import Connection, Engine, insert, select, update

from services.participation.adapters import tables as t
from services.participation.domain.model import (
    Answer,
    Consultation,
    ConsultationNotFound,
    MeasureNotInConsultation,
)
from soesmart import demo
from soesmart.config import Settings
from soesmart.contracts import (
    ConsultationView,
    Event,
    ExportedRating,
    MeasurePublished,
    MeasureStatusChanged,
    MeasureSummary,
    RateMeasure,
    RatingAccepted,
    RatingRecorded,
    RatingsPage,
    Source,
    Support,
)
from soesmart.messaging.outbox import OutboxRelay, add_events, claim_event
from soesmart.storage import make_engine, migrate
from soesmart.towns import Town, towns

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def _now() -> datetime:
    return datetime.now(UTC)


class ParticipationApp:
    """One town's participation instance, wired to its own database and outbox."""

    CONSULTATION_CACHE_SECONDS = 2.0
    _open_cache: tuple[float, list[Consultation]] | None = None

    def __init__(self, settings: Settings, engine: Engine | None = None) -> None:
        self.settings = settings
        self.town: Town = towns().get(settings.town or "")
        self.source = Source(service="participation", town=self.town.slug)
        self.engine = engine or make_engine(settings.database_url_for("participation"),
                                            **settings.engine_options())
        migrate(self.engine, MIGRATIONS)
        self.relay = OutboxRelay(
            self.engine, t.outbox, settings.broker_url, batch_size=settings.outbox_batch
        )
        if settings.demo:
            self.create_demo_consultation()

    def background_loops(self) -> list:
        return [self.relay.run]

    def stop(self) -> None:
        self.relay.stop()

    # ------------------------------------------------------------------ consultations
    def create_demo_consultation(self) -> str | None:
        with self.engine.begin() as conn:
            if conn.execute(select(t.consultations.c.id).limit(1)).first():
                return None
            cid = str(uuid.uuid4())
            today = date.today()
            conn.execute(
                insert(t.consultations).values(
                    id=cid,
                    title=f"Klima und Mobilität in {self.town.name}: Ihre Meinung zählt {demo.DEMO_MARK}",
                    description=(
                        "Welche Maßnahmen halten Sie für besonders zielführend? Welche Maßnahmen "
                        "können Sie unterstützen? Ihre Antworten fließen in die politische "
                        "Beratung ein. Dies ist eine Demo-Beteiligung mit Beispieldaten."
                    ),
                    status="open",
                    starts_on=today - timedelta(days=1),
                    ends_on=today + timedelta(weeks=8),
                    created_at=_now(),
                )
            )
            conn.execute(
                insert(t.consultation_measures),
                [
                    {"consultation_id": cid, "measure_code": m.code, "position": i}
                    for i, m in enumerate(demo.measures_for_town(self.town.slug))
                ],
            )
        self._forget_consultations()
        return cid

    def _load_consultation(self, conn: Connection, cid: str) -> Consultation:
        row = conn.execute(select(t.consultations).where(t.consultations.c.id == cid)).mappings().first()
        if row is None:
            raise ConsultationNotFound("Diese Beteiligung gibt es nicht.")
        codes = conn.execute(
            select(t.consultation_measures.c.measure_code).where(
                t.consultation_measures.c.consultation_id == cid
            )
        ).scalars()
        return Consultation(
            id=row["id"], title=row["title"], status=row["status"], starts_on=row["starts_on"],
            ends_on=row["ends_on"], measure_codes=frozenset(codes),
        )

    def open_consultations(self) -> list[ConsultationView]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(t.consultations)
                .where(t.consultations.c.status == "open")
                .order_by(t.consultations.c.starts_on)
            ).mappings().all()
            return [self._view(conn, r) for r in rows]

    def consultation(self, cid: str) -> ConsultationView:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(t.consultations).where(t.consultations.c.id == cid)
            ).mappings().first()
            if row is None:
                raise ConsultationNotFound("Diese Beteiligung gibt es nicht.")
            return self._view(conn, row)

    def _view(self, conn: Connection, row) -> ConsultationView:  # type: ignore[no-untyped-def]
        cm, mr = t.consultation_measures, t.measures_replica
        measures = conn.execute(
            select(mr)
            .join(cm, cm.c.measure_code == mr.c.code)
            .where(cm.c.consultation_id == row["id"])
            .order_by(cm.c.position)
        ).mappings().all()
        return ConsultationView(
            id=row["id"], town=self.town.slug, title=row["title"],
            description=row["description"], status=row["status"],
            starts_on=row["starts_on"].isoformat(), ends_on=row["ends_on"].isoformat(),
            measures=tuple(
                MeasureSummary(
                    code=m["code"], title=m["title"], summary=m["summary"],
                    programme=m["programme"], field_of_action=m["field_of_action"],
                    status=m["status"],
                )
                for m in measures
            ),
        )

    # ------------------------------------------------------------------ ratings
    def _open_consultations(self, conn: Connection) -> list[Consultation]:
        """The open consultations, cached briefly: every rating needs them.

        Reading them took a fifth of a rating's CPU. A change of a consultation in
        this instance drops the cache (`_forget_consultations`); the end date is
        checked on every rating anyway.
        """
        cached = self._open_cache
        now = time.monotonic()
        if cached is not None and now - cached[0] < self.CONSULTATION_CACHE_SECONDS:
            return cached[1]
        ids = conn.execute(
            select(t.consultations.c.id).where(t.consultations.c.status == "open")
        ).scalars().all()
        consultations = [self._load_consultation(conn, cid) for cid in ids]
        self._open_cache = (now, consultations)
        return consultations

    def _forget_consultations(self) -> None:
        self._open_cache = None

    def _consultation_for(self, conn: Connection, cmd: RateMeasure, cid: str | None) -> Consultation:
        open_now = self._open_consultations(conn)
        if cid:
            for consultation in open_now:
                if consultation.id == cid:
                    return consultation
            return self._load_consultation(conn, cid)  # not open: its rules say why
        found = next((c for c in open_now if cmd.measure_code in c.measure_codes), None)
        if found is None:
            raise MeasureNotInConsultation(
                f"Die Maßnahme {cmd.measure_code} steht in {self.town.name} derzeit nicht zur "
                "Beteiligung.",
                [{"field": "measure_code", "problem": "not part of an open consultation"}],
            )
        return found

    def rate(self, cmd: RateMeasure, consultation_id: str | None = None) -> RatingAccepted:
        """Record or change a citizen's answer; the event goes out with the same commit."""
        answer = Answer(cmd.effectiveness, cmd.support, cmd.reason)
        answer.check_not_empty()
        with self.engine.begin() as conn:
            consultation = self._consultation_for(conn, cmd, consultation_id)
            consultation.check_can_rate(cmd.measure_code, date.today())
            r = t.ratings
            row = conn.execute(
                select(r)
                .where(
                    r.c.consultation_id == consultation.id,
                    r.c.measure_code == cmd.measure_code,
                    r.c.participant_id == str(cmd.participant_id),
                )
                .with_for_update()
            ).mappings().first()
            now = _now()
            values = dict(
                effectiveness=cmd.effectiveness,
                support=cmd.support.value if cmd.support else None,
                reason=cmd.reason or None,
                updated_at=now,
            )
            if row is not None:
                stored = Answer(
                    row["effectiveness"],
                    Support(row["support"]) if row["support"] else None,
                    row["reason"],
                )
                if stored.same_as(answer):
                    return RatingAccepted(
                        rating_id=row["id"], measure_code=cmd.measure_code,
                        effectiveness=row["effectiveness"], support=row["support"],
                        version=row["version"], changed=False,
                    )
                rating_id, version = row["id"], row["version"] + 1
                conn.execute(update(r).where(r.c.id == rating_id).values(version=version, **values))
            else:
                rating_id, version = str(uuid.uuid4()), 1
                conn.execute(
                    insert(r).values(
                        id=rating_id, consultation_id=consultation.id,
                        measure_code=cmd.measure_code, participant_id=str(cmd.participant_id),
                        version=version, created_at=now, **values,
                    )
                )
            add_events(
                conn,
                t.outbox,
                [
                    RatingRecorded(
                        source=self.source, town=self.town.slug,
                        consultation_id=uuid.UUID(consultation.id), rating_id=uuid.UUID(rating_id),
                        measure_code=cmd.measure_code, effectiveness=cmd.effectiveness,
                        support=cmd.support, version=version,
                    )
                ],
            )
        self.relay.wake()
        return RatingAccepted(
            rating_id=rating_id, measure_code=cmd.measure_code, effectiveness=cmd.effectiveness,
            support=cmd.support, version=version, changed=True,
        )

    def export_ratings(self, after_id: str | None, limit: int) -> RatingsPage:
        """Stored ratings ordered by id, `limit` after `after_id`: pages that stay stable
        while citizens keep rating (a new rating lands on some later or earlier page,
        and its event reaches the projection anyway)."""
        r = t.ratings
        query = select(r).order_by(r.c.id).limit(limit)
        if after_id:
            query = query.where(r.c.id > after_id)
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return RatingsPage(
            town=self.town.slug,
            items=tuple(
                ExportedRating(
                    rating_id=row["id"], consultation_id=row["consultation_id"],
                    measure_code=row["measure_code"], effectiveness=row["effectiveness"],
                    support=row["support"], version=row["version"], created_at=row["created_at"],
                )
                for row in rows
            ),
            next_after=rows[-1]["id"] if len(rows) == limit else None,
        )

    # ------------------------------------------------------------------ replica
    def apply_measure_event(self, event: Event) -> bool:
        """Keep the local copy of the catalogue; the highest revision wins."""
        if not isinstance(event, (MeasurePublished, MeasureStatusChanged)):
            return False
        mr = t.measures_replica
        with self.engine.begin() as conn:
            if not claim_event(conn, t.processed_events, event):
                return False
            row = conn.execute(select(mr).where(mr.c.code == event.code).with_for_update()).mappings().first()
            if row is not None and row["revision"] >= event.revision:
                return False
            if isinstance(event, MeasurePublished):
                values = dict(
                    title=event.title, summary=event.summary, programme=event.programme.value,
                    field_of_action=event.field_of_action, status=event.status.value,
                    revision=event.revision,
                )
                if row is None:
                    conn.execute(insert(mr).values(code=event.code, **values))
                else:
                    conn.execute(update(mr).where(mr.c.code == event.code).values(**values))
            elif row is not None:
                conn.execute(
                    update(mr)
                    .where(mr.c.code == event.code)
                    .values(status=event.new_status.value, revision=event.revision)
                )
            else:
                return False  # status of a measure this town has not seen yet; its snapshot follows
        return True
