"""Use cases of the measures service: catalogue, status changes, the results projection."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Connection, Engine, and_, insert, select, update
from sqlalchemy.exc import IntegrityError

from services.measures.adapters import tables as t
from services.measures.domain.model import (
    SUPPORT_COLUMNS,
    Answer,
    MeasureNotFound,
    check_transition,
    is_newer,
    tally_delta,
)
from soesmart import demo
from soesmart.config import Settings
from soesmart.contracts import (
    ChangeMeasureStatus,
    MeasureDetail,
    MeasurePublished,
    MeasureResults,
    MeasureStatus,
    MeasureStatusChanged,
    MeasureSummary,
    Programme,
    RatingRecorded,
    RegionalResults,
    Source,
    StatusEntry,
    Support,
    Tally,
)
from soesmart.messaging.outbox import OutboxRelay, add_events
from soesmart.storage import make_engine, migrate

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
SOURCE = Source(service="measures")


def _now() -> datetime:
    return datetime.now(UTC)


def _towns(row_value: str) -> tuple[str, ...]:
    return tuple(x for x in (row_value or "").split(",") if x)


class MeasuresApp:
    """The measures service, wired to its database and outbox."""

    def __init__(self, settings: Settings, engine: Engine | None = None) -> None:
        self.settings = settings
        self.engine = engine or make_engine(settings.database_url_for("measures"))
        migrate(self.engine, MIGRATIONS)
        self.relay = OutboxRelay(
            self.engine, t.outbox, settings.broker_url, batch_size=settings.outbox_batch
        )
        if settings.demo:
            self.load_demo_catalogue()

    # ------------------------------------------------------------------ lifecycle
    def background_loops(self) -> list:
        return [self.relay.run]

    def stop(self) -> None:
        self.relay.stop()

    # ------------------------------------------------------------------ catalogue
    def load_demo_catalogue(self) -> int:
        """Add the demo measures that are missing; returns how many were added."""
        added = 0
        with self.engine.begin() as conn:
            existing = set(conn.execute(select(t.measures.c.code)).scalars())
            events = []
            for m in demo.DEMO_MEASURES:
                if m.code in existing:
                    continue
                now = _now()
                conn.execute(
                    insert(t.measures).values(
                        code=m.code, title=m.title, summary=m.summary, programme=m.programme,
                        field_of_action=m.field_of_action, towns=",".join(m.towns),
                        status=MeasureStatus.IN_CONSULTATION.value, revision=1,
                        created_at=now, updated_at=now,
                    )
                )
                conn.execute(
                    insert(t.status_history).values(
                        measure_code=m.code, status=MeasureStatus.IN_CONSULTATION.value,
                        note="Demo-Katalog angelegt", progress=None,
                        changed_by="Demo", changed_at=now,
                    )
                )
                events.append(
                    MeasurePublished(
                        source=SOURCE, code=m.code, title=m.title, summary=m.summary,
                        programme=Programme(m.programme), field_of_action=m.field_of_action,
                        status=MeasureStatus.IN_CONSULTATION, towns=m.towns, revision=1,
                    )
                )
                added += 1
            add_events(conn, t.outbox, events)
        if added:
            self.relay.wake()
        return added

    def republish_catalogue(self) -> int:
        """Publish every measure's snapshot again (e.g. for a new town's replica)."""
        with self.engine.begin() as conn:
            rows = conn.execute(select(t.measures)).mappings().all()
            events = [self._published_event(r) for r in rows]
            add_events(conn, t.outbox, events)
        self.relay.wake()
        return len(events)

    @staticmethod
    def _published_event(r) -> MeasurePublished:  # type: ignore[no-untyped-def]
        return MeasurePublished(
            source=SOURCE, code=r["code"], title=r["title"], summary=r["summary"],
            programme=r["programme"], field_of_action=r["field_of_action"],
            status=r["status"], towns=_towns(r["towns"]), revision=r["revision"],
        )

    def list_measures(self) -> list[MeasureSummary]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(t.measures).order_by(t.measures.c.code)).mappings().all()
        return [
            MeasureSummary(
                code=r["code"], title=r["title"], summary=r["summary"], programme=r["programme"],
                field_of_action=r["field_of_action"], status=r["status"],
            )
            for r in rows
        ]

    def get_measure(self, code: str) -> MeasureDetail:
        with self.engine.connect() as conn:
            r = conn.execute(select(t.measures).where(t.measures.c.code == code)).mappings().first()
            if r is None:
                raise MeasureNotFound(f"Maßnahme {code} ist nicht im Katalog.")
            history = conn.execute(
                select(t.status_history)
                .where(t.status_history.c.measure_code == code)
                .order_by(t.status_history.c.id)
            ).mappings().all()
        return MeasureDetail(
            code=r["code"], title=r["title"], summary=r["summary"], programme=r["programme"],
            field_of_action=r["field_of_action"], status=r["status"],
            towns=_towns(r["towns"]), revision=r["revision"],
            history=tuple(
                StatusEntry(
                    status=h["status"], note=h["note"], changed_by=h["changed_by"],
                    changed_at=h["changed_at"], progress=h["progress"],
                )
                for h in history
            ),
        )

    def change_status(self, cmd: ChangeMeasureStatus) -> MeasureStatusChanged:
        with self.engine.begin() as conn:
            row = conn.execute(
                select(t.measures).where(t.measures.c.code == cmd.code).with_for_update()
            ).mappings().first()
            if row is None:
                raise MeasureNotFound(f"Maßnahme {cmd.code} ist nicht im Katalog.")
            old = MeasureStatus(row["status"])
            check_transition(old, cmd.status)
            revision = row["revision"] + 1
            now = _now()
            conn.execute(
                update(t.measures)
                .where(t.measures.c.code == cmd.code)
                .values(status=cmd.status.value, revision=revision, updated_at=now)
            )
            conn.execute(
                insert(t.status_history).values(
                    measure_code=cmd.code, status=cmd.status.value, note=cmd.note,
                    progress=cmd.progress, changed_by=cmd.changed_by, changed_at=now,
                )
            )
            event = MeasureStatusChanged(
                source=SOURCE, code=cmd.code, title=row["title"],
                programme=Programme(row["programme"]), field_of_action=row["field_of_action"],
                towns=_towns(row["towns"]), old_status=old,
                new_status=cmd.status, note=cmd.note, progress=cmd.progress,
                changed_by=cmd.changed_by, revision=revision,
            )
            add_events(conn, t.outbox, [event])
        self.relay.wake()
        return event

    # ------------------------------------------------------------------ projection
    def record_rating(self, event: RatingRecorded) -> bool:
        """Apply a town's rating event to the combined results; True if it moved them.

        Idempotent without recording event ids: the projection keeps the highest
        `version` per `rating_id`, so a repeated or late event changes nothing. (With
        a million ratings, a table of processed ids would only grow and cost a
        second write per event.)
        """
        with self.engine.begin() as conn:
            return self._apply_rating(conn, event)

    def _apply_rating(self, conn: Connection, event: RatingRecorded) -> bool:
        rp = t.rating_projection
        stored = conn.execute(
            select(rp).where(rp.c.rating_id == str(event.rating_id)).with_for_update()
        ).mappings().first()
        if not is_newer(stored["version"] if stored else None, event.version):
            return False
        old = (
            Answer(stored["effectiveness"], Support(stored["support"]) if stored["support"] else None)
            if stored
            else None
        )
        new = Answer(event.effectiveness, event.support)
        values = dict(
            town=event.town, measure_code=event.measure_code, effectiveness=event.effectiveness,
            support=event.support.value if event.support else None, version=event.version,
            updated_at=_now(),
        )
        if stored:
            conn.execute(update(rp).where(rp.c.rating_id == str(event.rating_id)).values(**values))
        else:
            conn.execute(insert(rp).values(rating_id=str(event.rating_id), **values))
        self._move_tally(conn, event.measure_code, event.town, tally_delta(old, new).as_increments())
        return True

    @staticmethod
    def _move_tally(conn: Connection, code: str, town: str, increments: dict[str, int]) -> None:
        if not increments:
            return
        key = and_(t.tallies.c.measure_code == code, t.tallies.c.town == town)
        values = {name: t.tallies.c[name] + delta for name, delta in increments.items()}
        result = conn.execute(update(t.tallies).where(key).values(**values))
        if result.rowcount:
            return
        zero = {name: 0 for name in t.TALLY_COUNTERS}
        try:
            with conn.begin_nested():
                conn.execute(insert(t.tallies).values(measure_code=code, town=town, **zero))
        except IntegrityError:
            pass  # created concurrently; the update below applies to it
        conn.execute(update(t.tallies).where(key).values(**values))

    # ------------------------------------------------------------------ results
    def regional_results(self) -> RegionalResults:
        with self.engine.connect() as conn:
            titles: dict[str, str] = {
                code: title
                for code, title in conn.execute(select(t.measures.c.code, t.measures.c.title))
            }
            rows = conn.execute(select(t.tallies)).mappings().all()
        per_measure: dict[str, dict[str, Tally]] = {}
        totals: dict[str, dict[str, int]] = {}
        for r in rows:
            per_measure.setdefault(r["measure_code"], {})[r["town"]] = _tally(r)
            acc = totals.setdefault(r["measure_code"], {n: 0 for n in t.TALLY_COUNTERS})
            for n in t.TALLY_COUNTERS:
                acc[n] += r[n]
        measures = tuple(
            MeasureResults(
                code=code, title=titles.get(code, code), total=_tally(totals[code]),
                towns=per_measure[code],
            )
            for code in sorted(per_measure)
        )
        return RegionalResults(measures=measures, generated_at=_now())


def _tally(r) -> Tally:  # type: ignore[no-untyped-def]
    eff_count = r["eff_count"]
    return Tally(
        answers=r["answers"],
        effectiveness_count=eff_count,
        effectiveness_mean=round(r["eff_sum"] / eff_count, 3) if eff_count else None,
        effectiveness_distribution={str(i): r[f"eff_{i}"] for i in range(1, 6)},
        support={s.value: r[col] for s, col in SUPPORT_COLUMNS.items()},
    )
