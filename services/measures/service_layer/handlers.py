"""Use cases of the measures service: catalogue, status changes, the results projection."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TypeVar

from pydantic import ValidationError
from sqlalchemy import Connection, Engine, and_, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from services.measures.adapters import catalogue_io
from services.measures.adapters import tables as t
from services.measures.adapters.unit_of_work import UnitOfWork
from services.measures.domain.model import (
    SUPPORT_COLUMNS,
    Answer,
    ImportRefused,
    MeasureNotFound,
    check_transition,
    day_move,
    effectiveness_mean,
    is_newer,
    local_day,
    problem,
    programme_for_field,
    spread,
    summary_of,
    support_share,
    tally_delta,
)
from services.measures.service_layer import catalogue
from soesmart import demo
from soesmart.config import Settings
from soesmart.contracts import (
    CatalogueEntry,
    CataloguePage,
    CatalogueQuery,
    ChangeMeasureStatus,
    CitizenConfirmed,
    CommentPosted,
    DailyParticipation,
    Disagreement,
    Disagreements,
    ExportedRating,
    IdeaAccepted,
    IdeaSubmitted,
    ImportReport,
    MeasureDetail,
    MeasurePublished,
    MeasureResults,
    MeasureStatus,
    MeasureStatusChanged,
    MeasureSummary,
    ParticipationPerDay,
    Programme,
    RankedMeasure,
    RatingRecorded,
    RegionalResults,
    Source,
    StatusEntry,
    Support,
    Tally,
    TopMeasures,
    TownComparison,
    TownFigures,
    idea_measure_code,
)
from soesmart.messaging.outbox import OutboxRelay, add_events, claim_event
from soesmart.spreadsheet import csv_text, format_decimal
from soesmart.storage import make_engine, migrate
from soesmart.towns import UnknownTown, towns

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
SOURCE = Source(service="measures")
RESULTS_CACHE_SECONDS = 2.0
R = TypeVar("R")


def _now() -> datetime:
    return datetime.now(UTC)


def _town_name(slug: str) -> str:
    try:
        return towns().get(slug).name
    except UnknownTown:
        return slug


# Which per-day counter a participation event of a town adds to.
PARTICIPATION_COUNTER: dict[type, str] = {
    CitizenConfirmed: "citizens", CommentPosted: "comments", IdeaSubmitted: "ideas",
}


def _towns(row_value: str) -> tuple[str, ...]:
    return tuple(x for x in (row_value or "").split(",") if x)


# The catalogue fields of a measure as stored; an import compares exactly these.
CATALOGUE_COLUMNS = (
    "title", "summary", "description", "programme", "field_of_action", "towns",
    "co2_saving_t_per_year", "cost_class", "responsible_body", "place",
)


def _row_values(entry: CatalogueEntry) -> dict[str, Any]:
    return {
        "title": entry.title, "summary": entry.summary, "description": entry.description,
        "programme": entry.programme.value, "field_of_action": entry.field_of_action,
        "towns": ",".join(entry.towns),
        "co2_saving_t_per_year": (
            round(entry.co2_saving_t_per_year, 3) if entry.co2_saving_t_per_year is not None
            else None
        ),
        "cost_class": entry.cost_class.value if entry.cost_class else None,
        "responsible_body": entry.responsible_body, "place": entry.place or None,
    }


def _same_catalogue_values(row: Any, values: dict[str, Any]) -> bool:
    for name in CATALOGUE_COLUMNS:
        stored, new = row[name], values[name]
        if name == "co2_saving_t_per_year" and stored is not None and new is not None:
            if abs(float(stored) - new) > 1e-6:
                return False
        elif (stored or None) != (new or None):
            return False
    return True


def _entry_of(r: Any) -> CatalogueEntry:
    return CatalogueEntry.model_validate({
        "code": r["code"], "status": r["status"], **{k: r[k] for k in CATALOGUE_COLUMNS},
        "towns": _towns(r["towns"]),
    })


def _demo_entry(m: demo.DemoMeasure) -> CatalogueEntry:
    return CatalogueEntry.model_validate({
        "code": m.code, "status": m.status, "towns": m.towns,
        **{k: getattr(m, k) for k in CATALOGUE_COLUMNS if k != "towns"},
    })


# Pydantic's error types, as a coordinator reads them in an import report.
PROBLEM_TEXTS = {
    "missing": "Pflichtangabe fehlt",
    "string_too_short": "zu kurz",
    "string_too_long": "zu lang",
    "string_pattern_mismatch": "ungültiges Format (Beispiel für einen Code: VEP-RAD-12)",
    "float_parsing": "keine Zahl",
    "float_type": "keine Zahl",
    "greater_than_equal": "darf nicht negativ sein",
    "less_than_equal": "zu groß",
    "extra_forbidden": "unbekannte Spalte",
    "string_type": "Text erwartet",
    "tuple_type": "Liste von Städten erwartet",
}


def _problem_text(error: Any) -> str:
    kind = error["type"]
    if kind == "enum":
        return f"unbekannter Wert „{error['input']}“; erlaubt: {error['ctx']['expected']}"
    if kind == "value_error":
        return str(error["msg"]).removeprefix("Value error, ")
    return PROBLEM_TEXTS.get(kind, error["msg"])


class MeasuresApp:
    """The measures service, wired to its database and outbox."""

    def __init__(self, settings: Settings, engine: Engine | None = None) -> None:
        self.settings = settings
        self.engine = engine or make_engine(settings.database_url_for("measures"),
                                            **settings.engine_options())
        migrate(self.engine, MIGRATIONS)
        self.relay = OutboxRelay(
            self.engine, t.outbox, settings.broker_url, batch_size=settings.outbox_batch
        )
        self._generation = 0
        self._results_cache: dict[tuple[Any, ...], tuple[float, int, Any]] = {}
        if settings.demo:
            self.load_demo_catalogue()

    def unit_of_work(self) -> UnitOfWork:
        """A fresh unit of work on this service's database and outbox."""
        return UnitOfWork(self.engine, self.relay, self._changed)

    # ------------------------------------------------------------------ lifecycle
    def background_loops(self) -> list:
        return [self.relay.run]

    def stop(self) -> None:
        self.relay.stop()

    # ------------------------------------------------------------------ catalogue
    def load_demo_catalogue(self) -> int:
        """Add the demo measures that are missing; returns how many were added.

        Measures already there are left alone (a coordinator may have edited them).
        The featured ones come first, so the towns' demo consultations fill first.
        """
        catalogue = demo.demo_catalogue()
        with self.engine.begin() as conn:
            existing = set(conn.execute(select(t.measures.c.code)).scalars())
            missing = [m for m in catalogue if m.code not in existing]
            events = [
                self._insert_measure(conn, _demo_entry(m), "Demo", "Demo-Katalog angelegt",
                                     m.progress)
                for m in missing
            ]
            add_events(conn, t.outbox, events)
        if events:
            self.relay.wake()
        return len(events)

    def _insert_measure(self, conn: Connection, entry: CatalogueEntry, who: str, note: str,
                        progress: int | None = None) -> MeasurePublished:
        now = _now()
        status = entry.status or MeasureStatus.PROPOSED
        conn.execute(insert(t.measures).values(
            code=entry.code, status=status.value, revision=1, created_at=now, updated_at=now,
            **_row_values(entry),
        ))
        conn.execute(insert(t.status_history).values(
            measure_code=entry.code, status=status.value, note=note, progress=progress,
            changed_by=who, changed_at=now,
        ))
        return self._published_event({"code": entry.code, "status": status.value, "revision": 1,
                                      **_row_values(entry)})

    def import_catalogue(self, content: str, fmt: str, imported_by: str) -> ImportReport:
        """Check every row of a catalogue file, then apply all of it in one transaction.

        A file with any problem is refused whole (`ImportRefused` names row, column
        and problem of each). A row equal to the catalogue changes nothing, so the
        same file imported twice gives no new revision and no event.
        """
        raw_rows = catalogue_io.read(content, fmt)
        registry = towns()
        by_name = {town.name.casefold(): town.slug for town in registry} | {
            town.slug: town.slug for town in registry
        }
        with self.engine.begin() as conn:
            stored = {r["code"]: r for r in conn.execute(select(t.measures)).mappings()}
            problems: list[dict[str, object]] = []
            entries: list[CatalogueEntry] = []
            first_row: dict[str, int] = {}
            for raw in raw_rows:
                entry = self._check_row(raw, stored, by_name, first_row, problems)
                if entry is not None:
                    entries.append(entry)
            if not raw_rows:
                problems.append(problem(0, "", "die Datei enthält keine Maßnahmen"))
            if problems:
                raise ImportRefused(
                    f"Die Datei wurde nicht übernommen: {len(problems)} Problem(e). "
                    "Bitte korrigieren Sie die genannten Zeilen und laden Sie sie erneut hoch.",
                    problems,
                )
            created, updated, events = [], [], []
            for entry in entries:
                row = stored.get(entry.code)
                if row is None:
                    events.append(self._insert_measure(conn, entry, imported_by, "Import"))
                    created.append(entry.code)
                    continue
                values = _row_values(entry)
                if _same_catalogue_values(row, values):
                    continue
                revision = row["revision"] + 1
                conn.execute(update(t.measures).where(t.measures.c.code == entry.code).values(
                    revision=revision, updated_at=_now(), **values))
                events.append(self._published_event(
                    {"code": entry.code, "status": row["status"], "revision": revision, **values}))
                updated.append(entry.code)
            add_events(conn, t.outbox, events)
        if events:
            self.relay.wake()
        return ImportReport(rows=len(entries), created=tuple(created), updated=tuple(updated),
                            unchanged=len(entries) - len(created) - len(updated))

    @staticmethod
    def _check_row(raw: catalogue_io.RawRow, stored: dict[str, Any], by_name: dict[str, str],
                   first_row: dict[str, int], problems: list[dict[str, object]]
                   ) -> CatalogueEntry | None:
        if raw.values.get("_not_an_object"):
            problems.append(problem(raw.row, "", "Eintrag ist kein Objekt"))
            return None
        values = dict(raw.values)
        extra = values.pop("_extra_cells", 0)
        if extra:
            problems.append(problem(raw.row, "", f"{extra} Zelle(n) mehr als Spalten"))
        before = len(problems)
        towns_given = values.get("towns") or []
        if isinstance(towns_given, list | tuple):
            slugs = []
            for name in towns_given:
                slug = by_name.get(str(name).strip().casefold())
                if slug is None:
                    problems.append(problem(raw.row, raw.columns.get("towns", "towns"),
                                            f"unbekannte Stadt „{name}“"))
                else:
                    slugs.append(slug)
            values["towns"] = tuple(dict.fromkeys(slugs))
        try:
            entry = CatalogueEntry.model_validate(values)
        except ValidationError as exc:
            for error in exc.errors():
                key = str(error["loc"][0]) if error["loc"] else ""
                problems.append(problem(raw.row, raw.columns.get(key, key), _problem_text(error)))
            return None
        if len(problems) > before:
            return None
        code_column = raw.columns.get("code", "code")
        if entry.code in first_row:
            problems.append(problem(raw.row, code_column,
                                    f"Code doppelt (schon in Zeile {first_row[entry.code]})"))
            return None
        first_row[entry.code] = raw.row
        current = stored.get(entry.code)
        if current is not None and entry.status is not None and entry.status.value != current["status"]:
            problems.append(problem(
                raw.row, raw.columns.get("status", "status"),
                f"Status weicht vom Katalog ab (dort: {current['status']}); den Status ändert "
                "die Koordination mit Vermerk über die Statusänderung, nicht per Import",
            ))
            return None
        return entry

    def accept_idea(self, event: IdeaAccepted) -> MeasurePublished | None:
        """Add a town's accepted idea to the catalogue as a proposed measure, announced to all towns.

        The code comes from the idea (`idea_measure_code`), so a redelivered event, or
        one that arrives after the measure was edited, finds the code taken and
        changes nothing (returns None).
        """
        code = idea_measure_code(event.town, event.idea_id)
        town_name = _town_name(event.town)
        entry = CatalogueEntry(
            code=code, title=event.title, summary=summary_of(event.description),
            description=event.description, programme=programme_for_field(event.field_of_action),
            field_of_action=event.field_of_action, towns=(event.town,),
            status=MeasureStatus.PROPOSED, responsible_body="", place=event.place or None,
        )
        with self.engine.begin() as conn:
            if conn.execute(select(t.measures.c.code).where(t.measures.c.code == code)).first():
                return None
            try:
                with conn.begin_nested():
                    published = self._insert_measure(
                        conn, entry, f"Bürgerbeteiligung {town_name}",
                        f"Idee aus der Bürgerbeteiligung {town_name}")
            except IntegrityError:
                return None  # added by a concurrent delivery of the same event
            add_events(conn, t.outbox, [published])
        self.relay.wake()
        return published

    def export_catalogue(self, fmt: str) -> str:
        """The whole catalogue as a file that `import_catalogue` takes back unchanged."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(t.measures).order_by(t.measures.c.code)).mappings().all()
        return catalogue_io.write([_entry_of(r) for r in rows], fmt)

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
            description=r["description"], co2_saving_t_per_year=r["co2_saving_t_per_year"],
            cost_class=r["cost_class"], responsible_body=r["responsible_body"], place=r["place"],
        )

    def list_catalogue(self, query: CatalogueQuery) -> CataloguePage:
        return catalogue.list_catalogue(query, self.unit_of_work())

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
            description=r["description"], co2_saving_t_per_year=r["co2_saving_t_per_year"],
            cost_class=r["cost_class"], responsible_body=r["responsible_body"], place=r["place"],
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
        """Apply a town's rating event to the combined results; True if it moved the tally.

        Idempotent without recording event ids: the projection keeps the highest
        `version` per `rating_id`, so a repeated or late event changes nothing. (With
        a million ratings, a table of processed ids would only grow and cost a
        second write per event.)
        """
        fact = RatingFact(
            town=event.town, rating_id=str(event.rating_id), measure_code=event.measure_code,
            answer=Answer(event.effectiveness, event.support), version=event.version,
            day=local_day(event.occurred_at), day_version=event.version,
        )
        with self.engine.begin() as conn:
            moved = self._apply_rating(conn, fact)
        self._changed()
        return moved

    def record_participation(self, event: CitizenConfirmed | CommentPosted | IdeaSubmitted) -> bool:
        """Count a new citizen, comment or idea for its town and day; False if already counted.

        The day is the Europe/Berlin day of `occurred_at`; the event id is recorded in
        the same transaction, so a redelivered event counts once.
        """
        column = PARTICIPATION_COUNTER[type(event)]
        with self.engine.begin() as conn:
            if not claim_event(conn, t.processed_events, event):
                return False
            self._increment(conn, t.daily_participation,
                            {"town": event.town, "day": local_day(event.occurred_at)}, {column: 1})
        self._changed()
        return True

    def _apply_rating(self, conn: Connection, f: RatingFact) -> bool:
        rp = t.rating_projection
        stored = conn.execute(
            select(rp).where(rp.c.rating_id == f.rating_id).with_for_update()
        ).mappings().first()
        newer = is_newer(stored["version"] if stored else None, f.version)
        move = day_move(
            stored["counted_day"] if stored else None, stored["counted_version"] if stored else None,
            stored is not None, f.day, f.day_version,
        )
        answer_values = dict(
            effectiveness=f.answer.effectiveness,
            support=f.answer.support.value if f.answer.support else None,
            version=f.version, updated_at=_now(),
        )
        if stored is None:
            conn.execute(insert(rp).values(
                rating_id=f.rating_id, town=f.town, measure_code=f.measure_code,
                counted_day=f.day, counted_version=f.day_version, **answer_values,
            ))
        else:
            values: dict[str, Any] = dict(answer_values) if newer else {}
            if move.enter is not None:
                values.update(counted_day=move.enter, counted_version=f.day_version)
            elif stored["counted_version"] is not None and f.day_version < stored["counted_version"]:
                values["counted_version"] = f.day_version  # same day, earlier version
            if values:
                conn.execute(update(rp).where(rp.c.rating_id == f.rating_id).values(**values))
        if move.leave is not None:
            self._increment(conn, t.daily_participation, {"town": f.town, "day": move.leave},
                            {"ratings": -1})
        if move.enter is not None:
            self._increment(conn, t.daily_participation, {"town": f.town, "day": move.enter},
                            {"ratings": 1})
        if not newer:
            return False
        old = (
            Answer(stored["effectiveness"], Support(stored["support"]) if stored["support"] else None)
            if stored
            else None
        )
        self._increment(conn, t.tallies, {"measure_code": f.measure_code, "town": f.town},
                        tally_delta(old, f.answer).as_increments())
        return True

    @staticmethod
    def _increment(conn: Connection, table: Any, key: dict[str, Any],
                   increments: dict[str, int]) -> None:
        """Add to counters of one row, creating it (all counters 0) if it is not there yet."""
        if not increments:
            return
        where = and_(*(table.c[name] == value for name, value in key.items()))
        values = {name: table.c[name] + delta for name, delta in increments.items()}
        result = conn.execute(update(table).where(where).values(**values))
        if result.rowcount:
            return
        zero = {c.name: 0 for c in table.columns if c.name not in key}
        try:
            with conn.begin_nested():
                conn.execute(insert(table).values(**key, **zero))
        except IntegrityError:
            pass  # created concurrently; the update below applies to it
        conn.execute(update(table).where(where).values(**values))

    # ------------------------------------------------------------------ rebuild
    def reset_projection(self, town: str | None = None) -> None:
        """Forget the combined results (of one town, or all) before replaying them.

        Only what a replay of the towns' ratings brings back is forgotten: the per-day
        counts of new citizens, comments and ideas come from events alone and stay.
        """
        dp = t.daily_participation
        with self.engine.begin() as conn:
            for table in (t.rating_projection, t.tallies):
                stmt = delete(table)
                if town is not None:
                    stmt = stmt.where(table.c.town == town)
                conn.execute(stmt)
            where = [dp.c.town == town] if town is not None else []
            conn.execute(update(dp).where(*where).values(ratings=0))
            conn.execute(delete(dp).where(*where, *(dp.c[n] == 0 for n in t.PARTICIPATION_COUNTERS)))
        self._changed()

    def replay_ratings(self, town: str, ratings: Iterable[ExportedRating]) -> int:
        """Apply one page of a town's stored ratings (one transaction); returns how many moved.

        A stored rating is the latest version of an answer; its `created_at` is the
        time of version 1, so it is counted per day on that day, as the live events
        are. Replaying is idempotent like the live projection, and live events that
        arrive meanwhile mix in safely: the higher version wins either way.
        """
        moved = 0
        with self.engine.begin() as conn:
            for r in ratings:
                fact = RatingFact(
                    town=town, rating_id=str(r.rating_id), measure_code=r.measure_code,
                    answer=Answer(r.effectiveness, r.support), version=r.version,
                    day=local_day(r.created_at), day_version=1,
                )
                moved += self._apply_rating(conn, fact)
        self._changed()
        return moved

    # ------------------------------------------------------------------ results
    def regional_results(self) -> RegionalResults:
        return self._cached(("regional_results",), self._regional_results)

    def regional_results_wire(self) -> dict[str, Any]:
        """`regional_results` as the RPC reply sends it, cached too: turning ~2,000
        tallies into JSON-ready dicts cost more than computing them."""
        return self._cached(("regional_results_wire",),
                            lambda: self.regional_results().model_dump(mode="json"))

    def regional_results_json(self) -> str:
        """`regional_results` as one JSON text, cached: the reply crosses the broker as a
        string and the gateway sends it on as it is. As nested JSON (about 2,000 tallies)
        the encoding and decoding on both sides took most of the ~125 ms per call."""
        return self._cached(("regional_results_json",), lambda: json.dumps(
            self.regional_results_wire(), ensure_ascii=False, separators=(",", ":")))

    def _regional_results(self) -> RegionalResults:
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

    # ------------------------------------------------------------------ coordinator queries
    # Every query reads the per-(measure, town) counters, never the ratings: a few
    # thousand rows at most, however many ratings there are.
    def _cached(self, key: tuple[Any, ...], compute: Callable[[], R]) -> R:
        """The answer to a results query, computed again only after a change.

        Coordinators' pages and exports ask the same questions again and again;
        an answer stays valid until this process applies a rating (the generation
        moves) and at most RESULTS_CACHE_SECONDS, for changes made by another
        process such as `soesmart rebuild-results`.
        """
        now = time.monotonic()
        hit = self._results_cache.get(key)
        if hit is not None and hit[1] == self._generation and now - hit[0] < RESULTS_CACHE_SECONDS:
            return hit[2]  # type: ignore[no-any-return]
        generation = self._generation
        value = compute()
        self._results_cache[key] = (now, generation, value)
        return value

    def _changed(self) -> None:
        self._generation += 1

    def _counters(self, code: str | None = None) -> tuple[dict[str, str], list[Any]]:
        with self.engine.connect() as conn:
            titles_q = select(t.measures.c.code, t.measures.c.title)
            tallies_q = select(t.tallies)
            if code is not None:
                titles_q = titles_q.where(t.measures.c.code == code)
                tallies_q = tallies_q.where(t.tallies.c.measure_code == code)
            titles = {c: title for c, title in conn.execute(titles_q)}
            rows = list(conn.execute(tallies_q).mappings())
        return titles, rows

    def top_measures(self, limit: int = 10, min_answers: int = 1,
                     town: str | None = None) -> TopMeasures:
        """The measures with the highest support share (in the region, or in one town)."""
        return self._cached(("top", limit, min_answers, town),
                            lambda: self._top_measures(limit, min_answers, town))

    def _top_measures(self, limit: int, min_answers: int, town: str | None) -> TopMeasures:
        titles, rows = self._counters()
        totals: dict[str, dict[str, int]] = {}
        for r in rows:
            if town is None or r["town"] == town:
                _add(totals.setdefault(r["measure_code"], _zero()), r)
        ranked = [
            (code, _figures(town or "region", c)) for code, c in totals.items()
            if c["answers"] >= max(1, min_answers)
        ]
        ranked = [x for x in ranked if x[1].support_share is not None]
        ranked.sort(key=lambda x: (-(x[1].support_share or 0), -x[1].support_answers, x[0]))
        return TopMeasures(
            min_answers=min_answers, town=town,
            measures=tuple(RankedMeasure(code=code, title=titles.get(code, code), region=f)
                           for code, f in ranked[:limit]),
        )

    def compare_towns(self, code: str) -> TownComparison:
        """One measure, town against town: every configured town, with or without answers."""
        return self._cached(("compare", code), lambda: self._compare_towns(code))

    def _compare_towns(self, code: str) -> TownComparison:
        titles, rows = self._counters(code)
        if code not in titles:
            raise MeasureNotFound(f"Maßnahme {code} ist nicht im Katalog.")
        per_town = {r["town"]: dict(r) for r in rows}
        total = _zero()
        for r in rows:
            _add(total, r)
        slugs = list(towns().slugs) + sorted(set(per_town) - set(towns().slugs))
        return TownComparison(
            code=code, title=titles[code], region=_figures("region", total),
            towns=tuple(_figures(s, per_town.get(s, _zero())) for s in slugs),
        )

    def disagreements(self, limit: int = 10, min_answers: int = 20) -> Disagreements:
        """Measures where towns disagree most (see `_disagreements`)."""
        return self._cached(("disagreements", limit, min_answers),
                            lambda: self._disagreements(limit, min_answers))

    def _disagreements(self, limit: int, min_answers: int) -> Disagreements:
        """Measures where towns disagree most.

        Disagreement is the spread (highest minus lowest) of the support share
        between the towns that have at least `min_answers` answers to the measure;
        a measure needs two such towns. Ties are broken by the spread of the mean
        effectiveness. Shares, not counts, so big and small towns weigh the same.
        """
        titles, rows = self._counters()
        by_measure: dict[str, list[TownFigures]] = {}
        for r in rows:
            if r["answers"] >= max(1, min_answers):
                f = _figures(r["town"], r)
                if f.support_share is not None:
                    by_measure.setdefault(r["measure_code"], []).append(f)
        found = []
        for code, figures in by_measure.items():
            support_spread = spread([f.support_share for f in figures])
            if support_spread is None:
                continue
            found.append(Disagreement(
                code=code, title=titles.get(code, code), support_spread=round(support_spread, 4),
                effectiveness_spread=_round(spread([f.effectiveness_mean for f in figures])),
                towns=tuple(sorted(figures, key=lambda f: -(f.support_share or 0))),
            ))
        found.sort(key=lambda d: (-d.support_spread, -(d.effectiveness_spread or 0), d.code))
        return Disagreements(min_answers=min_answers, measures=tuple(found[:limit]))

    def participation_per_day(self, since: date | None = None,
                              town: str | None = None) -> ParticipationPerDay:
        return self._cached(("per_day", since, town),
                            lambda: self._participation_per_day(since, town))

    def _participation_per_day(self, since: date | None, town: str | None) -> ParticipationPerDay:
        dp = t.daily_participation
        query = select(dp).order_by(dp.c.day, dp.c.town)
        if since is not None:
            query = query.where(dp.c.day >= since)
        if town is not None:
            query = query.where(dp.c.town == town)
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return ParticipationPerDay(days=tuple(
            DailyParticipation(day=r["day"].isoformat(), town=r["town"],
                               **{n: r[n] for n in t.PARTICIPATION_COUNTERS})
            for r in rows if any(r[n] for n in t.PARTICIPATION_COUNTERS)
        ))

    def participation_csv(self, since: date | None = None, town: str | None = None) -> str:
        """Participation per town and day for German spreadsheets, oldest day first."""
        names = {x.slug: x.name for x in towns()}
        rows = [
            [d.day, names.get(d.town, d.town), str(d.citizens), str(d.ratings), str(d.comments),
             str(d.ideas)]
            for d in self.participation_per_day(since, town).days
        ]
        return csv_text(PARTICIPATION_CSV_HEADER, rows)

    def results_csv(self) -> str:
        """Combined results for German spreadsheets: a region row and a row per town."""
        return self._cached(("csv",), self._results_csv)

    def _results_csv(self) -> str:
        titles, rows = self._counters()
        per_measure: dict[str, dict[str, dict[str, int]]] = {}
        for r in rows:
            per_measure.setdefault(r["measure_code"], {})[r["town"]] = dict(r)
        names = {town.slug: town.name for town in towns()}
        table = []
        for code in sorted(per_measure):
            total = _zero()
            for counters in per_measure[code].values():
                _add(total, counters)
            table.append(_csv_row(code, titles.get(code, code), "Region (gesamt)", total))
            for slug in sorted(per_measure[code], key=lambda s: names.get(s, s)):
                table.append(_csv_row(code, titles.get(code, code), names.get(slug, slug),
                                      per_measure[code][slug]))
        return csv_text(RESULTS_CSV_HEADER, table)


_EFF_KEYS = tuple((str(i), f"eff_{i}") for i in range(1, 6))
_SUPPORT_KEYS = tuple((s.value, col) for s, col in SUPPORT_COLUMNS.items())


def _tally(r) -> Tally:  # type: ignore[no-untyped-def]
    # Built without validation: the counters come from our own table, and validating
    # some 2,000 of them took half the time of the regional results.
    eff_count = r["eff_count"]
    return Tally.model_construct(
        answers=r["answers"],
        effectiveness_count=eff_count,
        effectiveness_mean=round(r["eff_sum"] / eff_count, 3) if eff_count else None,
        effectiveness_distribution={k: r[col] for k, col in _EFF_KEYS},
        support={k: r[col] for k, col in _SUPPORT_KEYS},
    )


@dataclass(frozen=True)
class RatingFact:
    """A rating as the projection takes it, from a live event or from a town's export."""

    town: str
    rating_id: str
    measure_code: str
    answer: Answer
    version: int
    day: date  # the day this version is from, as far as known
    day_version: int  # the version `day` belongs to (1 for a stored rating's created_at)


def _zero() -> dict[str, int]:
    return {n: 0 for n in t.TALLY_COUNTERS}


def _add(acc: dict[str, int], counters: Any) -> None:
    for n in t.TALLY_COUNTERS:
        acc[n] += counters[n]


def _round(value: float | None, digits: int = 3) -> float | None:
    return round(value, digits) if value is not None else None


def _figures(town: str, counters: Any) -> TownFigures:
    answers, share = support_share(counters)
    return TownFigures(
        town=town, answers=counters["answers"],
        effectiveness_mean=_round(effectiveness_mean(counters)),
        support_answers=answers, support_share=_round(share, 4),
    )


PARTICIPATION_CSV_HEADER = (
    "Tag", "Stadt", "Neue Teilnehmende", "Bewertungen", "Kommentare", "Ideen",
)

RESULTS_CSV_HEADER = (
    "Code", "Maßnahme", "Stadt", "Antworten", "Wirksamkeit (Mittelwert 1–5)",
    "Wirksamkeit 1", "Wirksamkeit 2", "Wirksamkeit 3", "Wirksamkeit 4", "Wirksamkeit 5",
    "Ja", "Eher ja", "Eher nein", "Nein", "Zustimmung (%)",
)


def _csv_row(code: str, title: str, place: str, c: Any) -> list[str]:
    _, share = support_share(c)
    mean = effectiveness_mean(c)
    return [
        code, title, place, str(c["answers"]),
        format_decimal(round(mean, 2) if mean is not None else None),
        *(str(c[f"eff_{i}"]) for i in range(1, 6)),
        str(c["sup_yes"]), str(c["sup_rather_yes"]), str(c["sup_rather_no"]), str(c["sup_no"]),
        format_decimal(round(100 * share, 1) if share is not None else None),
    ]
