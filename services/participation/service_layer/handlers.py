"""One town's participation instance wired to its database, outbox relay and clock.

The use cases live in one module each (citizens, consultations, ratings, discussion,
ideas, moderation); each takes its command and a unit of work. `ParticipationApp` opens
them for callers in this process (tests, benchmark); the nameko entrypoints call the use
cases directly. Still here: the town's results, the measure replica and the demo data.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select, update

from services.participation.adapters import tables as t
from services.participation.adapters.consultations import OpenConsultations
from services.participation.adapters.rows import aware as _aware
from services.participation.adapters.unit_of_work import BERLIN, Instance, UnitOfWork
from services.participation.domain.model import (
    SUPPORT_ANSWERS,
    ConsultationNotFound,
    as_id,
    email_key,
    support_share,
    tally,
)
from services.participation.service_layer import (
    citizens,
    consultations,
    discussion,
    ideas,
    moderation,
    ratings,
    wire,
)
from soesmart import contracts as c
from soesmart import demo
from soesmart.config import Settings
from soesmart.contracts import (
    Event,
    MeasurePublished,
    MeasureStatusChanged,
    TownDay,
    TownMeasureResult,
    TownResults,
)
from soesmart.i18n import label
from soesmart.messaging.outbox import OutboxRelay, claim_event
from soesmart.spreadsheet import csv_text, format_decimal
from soesmart.storage import make_engine, migrate
from soesmart.towns import towns

log = logging.getLogger(__name__)

TOWN_RESULTS_CSV_HEADER = (
    "Code", "Maßnahme", "Handlungsfeld", "Antworten", "Wirksamkeit (Mittelwert 1–5)",
    "Wirksamkeit 1", "Wirksamkeit 2", "Wirksamkeit 3", "Wirksamkeit 4", "Wirksamkeit 5",
    "Ja", "Eher ja", "Eher nein", "Nein", "Zustimmung (%)", "Kommentare",
)

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def _now() -> datetime:
    return datetime.now(UTC)


class ParticipationApp:
    """One town's participation instance, wired to its own database and outbox."""

    def __init__(self, settings: Settings, engine: Engine | None = None,
                 clock: Callable[[], datetime] = _now) -> None:
        self.settings = settings
        self.town = towns().get(settings.town or "")
        self.clock = clock  # a port: tests move time
        self.instance = Instance(settings, self.town, clock)
        self.engine = engine or make_engine(settings.database_url_for("participation"),
                                            **settings.engine_options())
        migrate(self.engine, MIGRATIONS)
        self.relay = OutboxRelay(self.engine, t.outbox, settings.broker_url, batch_size=settings.outbox_batch)
        self.open_consultations_cache = OpenConsultations()
        self._stopping = threading.Event()
        if settings.demo:
            self.create_demo_consultation()
            self.create_demo_participation()

    def uow(self) -> UnitOfWork:
        """A fresh unit of work on this instance's database and outbox."""
        return UnitOfWork(self.engine, self.instance, self.open_consultations_cache, self.relay.wake)

    def background_loops(self) -> list[Callable[[], None]]:
        return [self.relay.run, self.consultation_loop]

    def stop(self) -> None:
        self._stopping.set()
        self.relay.stop()

    def consultation_loop(self) -> None:
        """Background loop: the consultation calendar, every `consultation_check_seconds`."""
        while not self._stopping.is_set():
            try:
                consultations.check_consultations(self.uow())
            except Exception:  # database away: try again next round
                log.warning("checking the consultations failed", exc_info=True)
            self._stopping.wait(self.settings.consultation_check_seconds)

    def _forget_consultations(self) -> None:
        """Drop the cached open consultations (after a change behind the instance's back)."""
        self.open_consultations_cache.forget()

    # ---------------------------------------------------------------- the use cases, in process
    def register_citizen(self, cmd: c.RegisterCitizen) -> c.LinkSent:
        return citizens.register_citizen(cmd, self.uow())

    def request_sign_in(self, cmd: c.RequestSignIn) -> c.LinkSent:
        return citizens.request_sign_in(cmd, self.uow())

    def confirm_citizen(self, cmd: c.RedeemLink) -> c.CitizenSession:
        return citizens.confirm_citizen(cmd, self.uow())

    def redeem_sign_in(self, cmd: c.RedeemLink) -> c.CitizenSession:
        return citizens.redeem_sign_in(cmd, self.uow())

    def citizen_session(self, citizen_id: uuid.UUID | str) -> c.CitizenSession:
        return citizens.citizen_session(citizen_id, self.uow())

    def get_citizen(self, citizen_id: uuid.UUID | str) -> c.CitizenView:
        return citizens.get_citizen(citizen_id, self.uow())

    def update_citizen(self, cmd: c.UpdateCitizen) -> c.CitizenView:
        return citizens.update_citizen(cmd, self.uow())

    def erase_citizen(self, citizen_id: uuid.UUID | str) -> dict[str, bool]:
        return citizens.erase_citizen(citizen_id, self.uow())

    def list_consultations(self, include_drafts: bool = False) -> list[c.ConsultationView]:
        return consultations.list_consultations(self.uow(), include_drafts)

    def open_consultations(self) -> list[c.ConsultationView]:
        return consultations.open_consultations(self.uow())

    def consultation(self, cid: uuid.UUID | str) -> c.ConsultationView:
        return consultations.consultation(cid, self.uow())

    def create_consultation(self, cmd: c.CreateConsultation) -> c.ConsultationView:
        return consultations.create_consultation(cmd, self.uow())

    def update_consultation(self, cmd: c.UpdateConsultation) -> c.ConsultationView:
        return consultations.update_consultation(cmd, self.uow())

    def change_consultation_phase(self, cmd: c.ChangeConsultationPhase) -> c.ConsultationView:
        return consultations.change_consultation_phase(cmd, self.uow())

    def check_consultations(self) -> list[tuple[str, str]]:
        return consultations.check_consultations(self.uow())

    def rate(self, cmd: c.RateMeasure, consultation_id: uuid.UUID | str | None = None) -> c.RatingAccepted:
        return ratings.rate(cmd, self.uow(), consultation_id)

    def my_ratings(self, citizen_id: uuid.UUID | str,
                   consultation_id: uuid.UUID | str | None = None) -> list[dict[str, Any]]:
        return ratings.my_ratings(citizen_id, self.uow(), consultation_id)

    def export_ratings(self, after_id: str | None, limit: int) -> c.RatingsPage:
        return ratings.export_ratings(after_id, limit, self.uow())

    def post_comment(self, cmd: c.PostComment) -> c.CommentView:
        return discussion.post_comment(cmd, self.uow())

    def list_comments(self, measure_code: str,
                      consultation_id: uuid.UUID | str | None = None) -> list[c.CommentView]:
        return discussion.list_comments(measure_code, self.uow(), consultation_id)

    def flag_comment(self, cmd: c.FlagComment) -> dict[str, bool]:
        return discussion.flag_comment(cmd, self.uow())

    def propose_idea(self, cmd: c.ProposeIdea) -> c.IdeaView:
        return ideas.propose_idea(cmd, self.uow())

    def idea(self, idea_id: uuid.UUID | str) -> c.IdeaView:
        return ideas.idea(idea_id, self.uow())

    def list_ideas(self, status: str | None = None, include_hidden: bool = False) -> list[c.IdeaView]:
        return ideas.list_ideas(self.uow(), status, include_hidden)

    def decide_idea(self, cmd: c.DecideIdea) -> c.IdeaView:
        return ideas.decide_idea(cmd, self.uow())

    def moderation_queue(self) -> c.ModerationQueue:
        return moderation.moderation_queue(self.uow())

    def moderate(self, cmd: c.Moderate) -> c.ModerationAct:
        return moderation.moderate(cmd, self.uow())

    def moderation_log(self, limit: int = 100) -> list[c.ModerationAct]:
        return moderation.moderation_log(self.uow(), limit)

    def create_demo_consultation(self) -> str | None:
        with self.engine.begin() as conn:
            if conn.execute(select(t.consultations.c.id).limit(1)).first():
                return None
            cid = str(uuid.uuid4())
            today = self.instance.today()
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

    # ------------------------------------------------------------------ town results
    def town_results(self, consultation_id: uuid.UUID | str) -> TownResults:
        """Per measure: tally and comment count; participants; per day (Europe/Berlin) what happened."""
        cid = as_id(consultation_id, "consultation_id")
        r, cm, cs, mr, c = t.ratings, t.comments, t.consultation_measures, t.measures_replica, t.citizens
        with self.engine.connect() as conn:
            row = conn.execute(select(t.consultations).where(t.consultations.c.id == cid)).mappings().first()
            if row is None:
                raise ConsultationNotFound("Diese Beteiligung gibt es nicht.",
                                           [{"field": "consultation_id", "problem": "unknown consultation"}])
            measures = conn.execute(
                select(cs.c.measure_code, mr.c.title, mr.c.field_of_action)
                .outerjoin(mr, mr.c.code == cs.c.measure_code)
                .where(cs.c.consultation_id == cid).order_by(cs.c.position)
            ).all()
            in_consultation = r.c.consultation_id == cid
            eff: dict[str, list[tuple[int | None, int]]] = {}
            for code, value, n in conn.execute(
                select(r.c.measure_code, r.c.effectiveness, func.count()).where(in_consultation)
                .group_by(r.c.measure_code, r.c.effectiveness)
            ).all():
                eff.setdefault(code, []).append((value, n))
            sup: dict[str, list[tuple[str | None, int]]] = {}
            for code, value, n in conn.execute(
                select(r.c.measure_code, r.c.support, func.count()).where(in_consultation)
                .group_by(r.c.measure_code, r.c.support)
            ).all():
                sup.setdefault(code, []).append((value, n))
            comment_counts: dict[str, int] = dict(conn.execute(  # type: ignore[arg-type]
                select(cm.c.measure_code, func.count())
                .where(cm.c.consultation_id == cid, cm.c.hidden.is_(False)).group_by(cm.c.measure_code)
            ).all())
            raters = set(conn.execute(select(r.c.participant_id).where(in_consultation).distinct()).scalars())
            commenters = set(conn.execute(
                select(cm.c.citizen_id).where(cm.c.consultation_id == cid).distinct()).scalars())
            start = datetime.combine(row["starts_on"], dtime(0), BERLIN).astimezone(UTC)
            end = datetime.combine(row["ends_on"] + timedelta(days=1), dtime(0), BERLIN).astimezone(UTC)
            series = {
                "ratings": conn.execute(select(r.c.created_at).where(in_consultation)).scalars().all(),
                "comments": conn.execute(
                    select(cm.c.created_at).where(cm.c.consultation_id == cid)).scalars().all(),
                "citizens": conn.execute(select(c.c.confirmed_at).where(
                    c.c.confirmed_at >= start, c.c.confirmed_at < end)).scalars().all(),
                "ideas": conn.execute(select(t.ideas.c.created_at).where(
                    t.ideas.c.created_at >= start, t.ideas.c.created_at < end)).scalars().all(),
            }
        days: dict[str, dict[str, int]] = {}
        for kind, stamps in series.items():
            for stamp in stamps:
                day = _aware(stamp).astimezone(BERLIN).date().isoformat()  # type: ignore[union-attr]
                counts = days.setdefault(day, {})
                counts[kind] = counts.get(kind, 0) + 1
        results = []
        for code, title, field in measures:
            answers = sum(n for _, n in eff.get(code, []))
            results.append(TownMeasureResult(
                code=code, title=title or code, field_of_action=field or "",
                tally=wire.tally(tally(eff.get(code, []), sup.get(code, []), answers)),
                comments=comment_counts.get(code, 0)))
        return TownResults(
            town=self.town.slug, consultation_id=uuid.UUID(cid), title=row["title"], status=row["status"],
            participants=len(raters | commenters), measures=tuple(results),
            days=tuple(TownDay(day=day, **counts) for day, counts in sorted(days.items())),
            generated_at=_now())

    def town_results_csv(self, consultation_id: uuid.UUID | str) -> str:
        """The town's results for German spreadsheets: BOM, semicolon, decimal comma."""
        results = self.town_results(consultation_id)
        rows = []
        for m in results.measures:
            share = support_share(m.tally)
            mean = m.tally.effectiveness_mean
            rows.append([
                m.code, m.title, label("field_of_action", m.field_of_action), str(m.tally.answers),
                format_decimal(round(mean, 2) if mean is not None else None),
                *(str(m.tally.effectiveness_distribution.get(str(i), 0)) for i in range(1, 6)),
                *(str(m.tally.support.get(s, 0)) for s in SUPPORT_ANSWERS),
                format_decimal(round(100 * share, 1) if share is not None else None),
                str(m.comments),
            ])
        return csv_text(TOWN_RESULTS_CSV_HEADER, rows)

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
                    revision=event.revision, towns=" ".join(event.towns),
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

    # ------------------------------------------------------------------ demo
    def seed_confirmed_citizens(self, addresses: list[tuple[str, str]], notify_replies: bool = False,
                                conn: Connection | None = None) -> list[str]:
        """Confirmed citizens without opt-in mails or events, marked as demo: for the demo
        data and the benchmark only (no RPC method offers it). `addresses`: (email, name)."""
        now = self.clock()
        rows: list[dict[str, Any]] = [dict(id=str(uuid.uuid4()), email=email, email_key=email_key(email),
                     postcode=self.town.postcodes[0], display_name=name, language="de",
                     notify_replies=notify_replies, follow_rated=False, registered_at=now,
                     confirmed_at=now, demo=True) for email, name in addresses]
        if conn is None:
            with self.engine.begin() as own:
                own.execute(insert(t.citizens), rows)
        elif rows:
            conn.execute(insert(t.citizens), rows)
        return [row["id"] for row in rows]

    DEMO_CITIZENS = (("Demo-Bürgerin 1", True), ("Demo-Bürger 2", False), ("Demo-Bürgerin 3", True))

    def create_demo_participation(self) -> bool:
        """Demo citizens (confirmed, addresses under example.org), comments with a reply and
        two ideas, all marked as demo; created once. No events: like the demo consultation,
        they stay in the town."""
        c, cm = t.citizens, t.comments
        now = self.clock()
        with self.engine.begin() as conn:
            if conn.execute(select(c.c.id).where(c.c.demo.is_(True)).limit(1)).first():
                return False
            ids = [
                self.seed_confirmed_citizens([(f"demo-{self.town.slug}-{i}@example.org", name)],
                                             notify_replies=notify, conn=conn)[0]
                for i, (name, notify) in enumerate(self.DEMO_CITIZENS, start=1)
            ]
            consultation = conn.execute(
                select(t.consultations.c.id).where(t.consultations.c.title.contains(demo.DEMO_MARK))
                .order_by(t.consultations.c.created_at).limit(1)
            ).scalar()
            codes = conn.execute(
                select(t.consultation_measures.c.measure_code)
                .where(t.consultation_measures.c.consultation_id == consultation)
                .order_by(t.consultation_measures.c.position).limit(2)
            ).scalars().all() if consultation else []
            texts = (
                ("Gute Idee, aber bitte mit Beleuchtung für den Winter. " + demo.DEMO_MARK,
                 "Stimmt, und mit Abstellanlagen an beiden Enden. " + demo.DEMO_MARK),
                ("Wie lange würde der Umbau dauern? " + demo.DEMO_MARK, None),
            )
            for k, code in enumerate(codes):
                first, reply = texts[k]
                parent_id = str(uuid.uuid4())
                conn.execute(insert(cm).values(
                    id=parent_id, consultation_id=consultation, measure_code=code, citizen_id=ids[0],
                    body=first, created_at=now - timedelta(hours=2 + k), hidden=False))
                if reply:
                    conn.execute(insert(cm).values(
                        id=str(uuid.uuid4()), consultation_id=consultation, measure_code=code,
                        citizen_id=ids[1], parent_id=parent_id, body=reply,
                        created_at=now - timedelta(hours=1), hidden=False))
            ideas = (
                ("Trinkbrunnen in der Innenstadt", "Öffentliche Trinkbrunnen an zentralen Plätzen, "
                 "damit niemand an heißen Tagen Wasser kaufen muss.", "climate_adaptation", "Marktplatz"),
                ("Lastenräder zum Ausleihen", "Drei Lastenräder an der Bücherei, kostenlos für "
                 "Einkäufe und Transporte auszuleihen.", "cycling", None),
            )
            for k, (title, description, field, place) in enumerate(ideas):
                conn.execute(insert(t.ideas).values(
                    id=str(uuid.uuid4()), citizen_id=ids[k + 1], title=f"{title} {demo.DEMO_MARK}",
                    description=description, field_of_action=field, place=place, status="submitted",
                    decision_reason="", created_at=now - timedelta(days=1), hidden=False))
        return True
