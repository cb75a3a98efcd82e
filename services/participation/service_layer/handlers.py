"""Use cases of one town's participation instance: one transaction per command.

Every state change that others must know about writes its event into the outbox in
the same transaction; a refused command writes nothing (no row, no event, no
rate-limit hit).
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any, overload
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, delete, func, insert, select, update

from services.participation.adapters import tables as t
from services.participation.adapters.citizens import CitizenRepository
from services.participation.adapters.consultations import ConsultationRepository, OpenConsultations
from services.participation.adapters.rate_limits import Check, RateLimits
from services.participation.adapters.unit_of_work import Instance, UnitOfWork
from services.participation.domain.model import (
    ERASED_DISPLAY_NAME,
    MILESTONE_OF_PHASE,
    SUPPORT_ANSWERS,
    CommentNotFound,
    Consultation,
    ConsultationNotFound,
    IdeaNotFound,
    InvalidInput,
    Limit,
    MeasureUnknown,
    ParentComment,
    check_dates,
    check_idea_undecided,
    email_key,
    not_asked_in_town,
    support_share,
    tally,
)
from services.participation.service_layer import citizens, ratings, wire
from soesmart import demo
from soesmart.config import Settings
from soesmart.contracts import (
    CLIMATE_FIELDS,
    MOBILITY_FIELDS,
    ChangeConsultationPhase,
    CitizenSession,
    CitizenView,
    CommentPosted,
    CommentReplied,
    CommentView,
    ConsultationMilestone,
    ConsultationView,
    CreateConsultation,
    DecideIdea,
    Event,
    FlagComment,
    IdeaAccepted,
    IdeaDeclined,
    IdeaSubmitted,
    IdeaView,
    LinkSent,
    MeasurePublished,
    MeasureStatusChanged,
    MeasureSummary,
    Moderate,
    ModerationAct,
    ModerationItem,
    ModerationQueue,
    PostComment,
    ProposeIdea,
    RateMeasure,
    RatingAccepted,
    RatingsPage,
    RedeemLink,
    RegisterCitizen,
    RequestSignIn,
    Source,
    TownDay,
    TownMeasureResult,
    TownResults,
    UpdateCitizen,
    UpdateConsultation,
    idea_measure_code,
)
from soesmart.i18n import label
from soesmart.messaging.outbox import OutboxRelay, add_events, claim_event
from soesmart.spreadsheet import csv_text, format_decimal
from soesmart.storage import make_engine, migrate
from soesmart.towns import Town, towns

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
BERLIN = ZoneInfo("Europe/Berlin")
CONFIRM_LINK_VALID = timedelta(hours=24)
SIGN_IN_LINK_VALID = timedelta(minutes=30)
HOUR, TEN_MINUTES = 3600.0, 600.0
RATE_LIMIT_MEMORY = timedelta(days=1)  # hits older than any window are deleted
MODERATION_NEW_LIMIT = 50

TOWN_RESULTS_CSV_HEADER = (
    "Code", "Maßnahme", "Handlungsfeld", "Antworten", "Wirksamkeit (Mittelwert 1–5)",
    "Wirksamkeit 1", "Wirksamkeit 2", "Wirksamkeit 3", "Wirksamkeit 4", "Wirksamkeit 5",
    "Ja", "Eher ja", "Eher nein", "Nein", "Zustimmung (%)", "Kommentare",
)


def _now() -> datetime:
    return datetime.now(UTC)


@overload
def _aware(value: datetime) -> datetime: ...
@overload
def _aware(value: None) -> None: ...
def _aware(value: datetime | None) -> datetime | None:
    """SQLite gives back naive datetimes; everything stored is UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def _id(value: uuid.UUID | str | None, field: str) -> str:
    """An id from a caller, as stored (a refusal names the field when it is not a UUID)."""
    if isinstance(value, uuid.UUID):
        return str(value)
    try:
        return str(uuid.UUID(str(value)))
    except (TypeError, ValueError):
        raise InvalidInput("Die Angaben sind ungültig.",
                           [{"field": field, "problem": "must be a UUID"}]) from None


def _display(row: Any) -> str:
    return ERASED_DISPLAY_NAME if row["erased_at"] is not None else row["display_name"]


class ParticipationApp:
    """One town's participation instance, wired to its own database and outbox."""

    def __init__(self, settings: Settings, engine: Engine | None = None,
                 clock: Callable[[], datetime] = _now) -> None:
        self.settings = settings
        self.town: Town = towns().get(settings.town or "")
        self.source = Source(service="participation", town=self.town.slug)
        self.clock = clock  # a port: tests move time
        self.engine = engine or make_engine(settings.database_url_for("participation"),
                                            **settings.engine_options())
        migrate(self.engine, MIGRATIONS)
        self.relay = OutboxRelay(
            self.engine, t.outbox, settings.broker_url, batch_size=settings.outbox_batch
        )
        self.open_consultations_cache = OpenConsultations()
        self.instance = Instance(settings, self.town, clock)
        self._stopping = threading.Event()
        if settings.demo:
            self.create_demo_consultation()
            self.create_demo_participation()

    def uow(self) -> UnitOfWork:
        """A fresh unit of work on this instance's database and outbox."""
        return UnitOfWork(self.engine, self.instance, self.open_consultations_cache, self.relay.wake)

    def background_loops(self) -> list:
        return [self.relay.run, self.consultation_loop]

    def stop(self) -> None:
        self._stopping.set()
        self.relay.stop()

    def _today(self) -> date:
        return self.clock().astimezone(BERLIN).date()

    # ------------------------------------------------------------------ citizens
    def register_citizen(self, cmd: RegisterCitizen) -> LinkSent:
        return citizens.register_citizen(cmd, self.uow())

    def request_sign_in(self, cmd: RequestSignIn) -> LinkSent:
        return citizens.request_sign_in(cmd, self.uow())

    def confirm_citizen(self, cmd: RedeemLink) -> CitizenSession:
        return citizens.confirm_citizen(cmd, self.uow())

    def redeem_sign_in(self, cmd: RedeemLink) -> CitizenSession:
        return citizens.redeem_sign_in(cmd, self.uow())

    def citizen_session(self, citizen_id: uuid.UUID | str) -> CitizenSession:
        return citizens.citizen_session(citizen_id, self.uow())

    def get_citizen(self, citizen_id: uuid.UUID | str) -> CitizenView:
        return citizens.get_citizen(citizen_id, self.uow())

    def update_citizen(self, cmd: UpdateCitizen) -> CitizenView:
        return citizens.update_citizen(cmd, self.uow())

    def erase_citizen(self, citizen_id: uuid.UUID | str) -> dict[str, bool]:
        return citizens.erase_citizen(citizen_id, self.uow())

    def _citizen_row(self, conn: Connection, citizen_id: str) -> Any:
        return CitizenRepository(conn).get(citizen_id)

    def _participant(self, conn: Connection, citizen_id: uuid.UUID | str) -> Any:
        return CitizenRepository(conn).participant(citizen_id)

    # ------------------------------------------------------------------ consultations
    def create_demo_consultation(self) -> str | None:
        with self.engine.begin() as conn:
            if conn.execute(select(t.consultations.c.id).limit(1)).first():
                return None
            cid = str(uuid.uuid4())
            today = self._today()
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

    def _load_consultation(self, conn: Connection, cid: str, lock: bool = False) -> Consultation:
        return ConsultationRepository(conn, self.open_consultations_cache).get(cid, lock)

    def list_consultations(self, include_drafts: bool = False) -> list[ConsultationView]:
        query = select(t.consultations).order_by(t.consultations.c.starts_on.desc(),
                                                 t.consultations.c.created_at.desc())
        if not include_drafts:
            query = query.where(t.consultations.c.status != "draft")
        with self.engine.connect() as conn:
            return [self._view(conn, r) for r in conn.execute(query).mappings().all()]

    def open_consultations(self) -> list[ConsultationView]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(t.consultations)
                .where(t.consultations.c.status == "open")
                .order_by(t.consultations.c.starts_on)
            ).mappings().all()
            return [self._view(conn, r) for r in rows]

    def consultation(self, cid: uuid.UUID | str) -> ConsultationView:
        cid = _id(cid, "consultation_id")
        with self.engine.connect() as conn:
            row = conn.execute(
                select(t.consultations).where(t.consultations.c.id == cid)
            ).mappings().first()
            if row is None:
                raise ConsultationNotFound("Diese Beteiligung gibt es nicht.",
                                           [{"field": "consultation_id", "problem": "unknown consultation"}])
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

    def _select_measures(self, conn: Connection, programmes: Iterable[str], fields: Iterable[str],
                         codes: Iterable[str]) -> list[str]:
        """Single measures (any in the catalogue copy) plus whole programmes and fields of
        action (the measures of this town and the region-wide ones)."""
        programmes, fields, codes = set(programmes), set(fields), list(dict.fromkeys(codes))
        unknown_fields = sorted(fields - set(MOBILITY_FIELDS + CLIMATE_FIELDS))
        if unknown_fields:
            raise InvalidInput("Die Angaben sind ungültig.", [
                {"field": "fields_of_action", "problem": f"unknown field of action '{f}'"}
                for f in unknown_fields])
        mr = t.measures_replica
        rows = conn.execute(select(mr.c.code, mr.c.programme, mr.c.field_of_action, mr.c.towns)).all()
        known = {r.code for r in rows}
        missing = [code for code in codes if code not in known]
        if missing:
            raise MeasureUnknown(
                "Diese Maßnahmen sind nicht im Katalog: " + ", ".join(missing),
                [{"field": "measure_codes", "problem": "not in the catalogue", "code": code}
                 for code in missing])
        picked = set()
        for r in rows:
            for_town = not r.towns.split() or self.town.slug in r.towns.split()
            if for_town and (r.programme in programmes or r.field_of_action in fields):
                picked.add(r.code)
        # single measures in the order given, then the picked ones by code
        return codes + sorted(picked - set(codes))

    def create_consultation(self, cmd: CreateConsultation) -> ConsultationView:
        """A new consultation in draft with the measures it asks about."""
        cid = str(uuid.uuid4())
        with self.engine.begin() as conn:
            codes = self._select_measures(conn, [p.value for p in cmd.programmes], cmd.fields_of_action,
                                          cmd.measure_codes)
            conn.execute(insert(t.consultations).values(
                id=cid, title=cmd.title, description=cmd.description, status="draft",
                starts_on=cmd.starts_on, ends_on=cmd.ends_on, created_at=self.clock()))
            self._set_measures(conn, cid, codes)
        return self.consultation(cid)

    def _set_measures(self, conn: Connection, cid: str, codes: list[str]) -> None:
        cm = t.consultation_measures
        conn.execute(delete(cm).where(cm.c.consultation_id == cid))
        if codes:
            conn.execute(insert(cm), [{"consultation_id": cid, "measure_code": code, "position": i}
                                      for i, code in enumerate(codes)])

    def update_consultation(self, cmd: UpdateConsultation) -> ConsultationView:
        """Texts and dates while draft or open; the measures only while draft.

        Given any of programmes, fields of action or measure codes, the selection is
        made anew from those given (the others count as empty).
        """
        cid = str(cmd.consultation_id)
        changes_measures = any(x is not None for x in (cmd.programmes, cmd.fields_of_action,
                                                       cmd.measure_codes))
        with self.engine.begin() as conn:
            consultation = self._load_consultation(conn, cid, lock=True)
            consultation.check_editable(changes_measures)
            starts_on = cmd.starts_on or consultation.starts_on
            ends_on = cmd.ends_on or consultation.ends_on
            check_dates(starts_on, ends_on)
            values: dict[str, Any] = {"starts_on": starts_on, "ends_on": ends_on}
            if cmd.title is not None:
                values["title"] = cmd.title
            if cmd.description is not None:
                values["description"] = cmd.description
            conn.execute(update(t.consultations).where(t.consultations.c.id == cid).values(**values))
            if changes_measures:
                codes = self._select_measures(conn, [p.value for p in cmd.programmes or ()],
                                              cmd.fields_of_action or (), cmd.measure_codes or ())
                self._set_measures(conn, cid, codes)
        self._forget_consultations()
        return self.consultation(cid)

    def change_consultation_phase(self, cmd: ChangeConsultationPhase) -> ConsultationView:
        """draft -> open -> closed -> results_published; each step is a milestone event."""
        cid = str(cmd.consultation_id)
        with self.engine.begin() as conn:
            consultation = self._load_consultation(conn, cid, lock=True)
            consultation.check_phase_change(cmd.phase, self._today())
            if cmd.phase == "open":
                others = conn.execute(select(t.consultations.c.id).where(
                    t.consultations.c.status == "open", t.consultations.c.id != cid)).scalars().all()
                consultation.check_no_overlap([self._load_consultation(conn, o) for o in others])
            conn.execute(update(t.consultations).where(t.consultations.c.id == cid)
                         .values(status=cmd.phase))
            self._milestone(conn, consultation, MILESTONE_OF_PHASE[cmd.phase], cmd.actor)
        self._forget_consultations()
        self.relay.wake()
        return self.consultation(cid)

    def _milestone(self, conn: Connection, consultation: Consultation, milestone: str,
                   actor: str) -> bool:
        """Record a milestone once and tell the others; False if it was recorded before."""
        ms = t.consultation_milestones
        if conn.execute(select(ms.c.milestone).where(ms.c.consultation_id == consultation.id,
                                                     ms.c.milestone == milestone)).first():
            return False
        conn.execute(insert(ms).values(consultation_id=consultation.id, milestone=milestone,
                                       at=self.clock(), actor=actor))
        add_events(conn, t.outbox, [ConsultationMilestone(
            source=self.source, town=self.town.slug, consultation_id=uuid.UUID(consultation.id),
            milestone=milestone,  # type: ignore[arg-type]
            title=consultation.title, starts_on=consultation.starts_on.isoformat(),
            ends_on=consultation.ends_on.isoformat(),
            measure_codes=tuple(sorted(consultation.measure_codes)),
        )])
        return True

    def check_consultations(self) -> list[tuple[str, str]]:
        """Close open consultations whose end date has passed; say "closes soon" once.

        Returns the (consultation id, milestone) pairs announced.
        """
        today, announced = self._today(), []
        with self.engine.begin() as conn:
            ids = conn.execute(select(t.consultations.c.id).where(t.consultations.c.status == "open")
                               ).scalars().all()
            for cid in ids:
                consultation = self._load_consultation(conn, cid, lock=True)
                if consultation.is_over(today):
                    conn.execute(update(t.consultations).where(t.consultations.c.id == cid)
                                 .values(status="closed"))
                    if self._milestone(conn, consultation, "closed", "system"):
                        announced.append((cid, "closed"))
                elif consultation.closes_soon(today):
                    if self._milestone(conn, consultation, "closing_soon", "system"):
                        announced.append((cid, "closing_soon"))
            RateLimits(conn).forget_before(self.clock() - RATE_LIMIT_MEMORY)
        if announced:
            self._forget_consultations()
            self.relay.wake()
        return announced

    def consultation_loop(self) -> None:
        """Background loop: the consultation calendar, every `consultation_check_seconds`."""
        while not self._stopping.is_set():
            try:
                self.check_consultations()
            except Exception:  # database away: try again next round
                log.warning("checking the consultations failed", exc_info=True)
            self._stopping.wait(self.settings.consultation_check_seconds)

    # ------------------------------------------------------------------ ratings
    def _forget_consultations(self) -> None:
        """Drop the cached open consultations (after a change behind the instance's back)."""
        self.open_consultations_cache.forget()

    def _consultation_for(self, conn: Connection, measure_code: str,
                          cid: uuid.UUID | str | None) -> Consultation:
        repository = ConsultationRepository(conn, self.open_consultations_cache)
        found = repository.asking(measure_code, _id(cid, "consultation_id") if cid else None)
        if found is None:
            raise not_asked_in_town(measure_code, self.town.name)
        return found

    def rate(self, cmd: RateMeasure, consultation_id: uuid.UUID | str | None = None) -> RatingAccepted:
        return ratings.rate(cmd, self.uow(), consultation_id)

    def my_ratings(self, citizen_id: uuid.UUID | str,
                   consultation_id: uuid.UUID | str | None = None) -> list[dict[str, Any]]:
        return ratings.my_ratings(citizen_id, self.uow(), consultation_id)

    def export_ratings(self, after_id: str | None, limit: int) -> RatingsPage:
        return ratings.export_ratings(after_id, limit, self.uow())

    # ------------------------------------------------------------------ comments
    def _measure_title(self, conn: Connection, code: str) -> str:
        mr = t.measures_replica
        return conn.execute(select(mr.c.title).where(mr.c.code == code)).scalar() or code

    def post_comment(self, cmd: PostComment) -> CommentView:
        """A comment on a measure of an open consultation, or a reply (one level deep)."""
        now, cm = self.clock(), t.comments
        with self.engine.begin() as conn:
            citizen = self._participant(conn, cmd.citizen_id)
            s = self.settings
            checks: list[Check] = [
                (f"comment:citizen:{citizen['id']}", Limit(s.limit_comments_per_citizen, TEN_MINUTES),
                 "Kommentare")]
            if cmd.client:
                checks.append((f"comment:client:{cmd.client}",
                               Limit(s.limit_comments_per_client, TEN_MINUTES), "Kommentare"))
            RateLimits(conn).check(checks, now)
            consultation = self._consultation_for(conn, cmd.measure_code, cmd.consultation_id)
            consultation.check_open_for(cmd.measure_code, self._today())
            parent = None
            if cmd.parent_id is not None:
                parent = conn.execute(select(cm).where(cm.c.id == str(cmd.parent_id),
                                                       cm.c.hidden.is_(False))).mappings().first()
                if parent is None:
                    raise CommentNotFound("Den Kommentar, auf den Sie antworten, gibt es nicht.",
                                          [{"field": "parent_id", "problem": "unknown comment"}])
                ParentComment(parent["id"], parent["measure_code"], parent["consultation_id"],
                              parent["parent_id"]).check_can_take_reply(cmd.measure_code, consultation.id)
            comment_id = str(uuid.uuid4())
            conn.execute(insert(cm).values(
                id=comment_id, consultation_id=consultation.id, measure_code=cmd.measure_code,
                citizen_id=citizen["id"], parent_id=parent["id"] if parent else None, body=cmd.body,
                created_at=now, hidden=False))
            events: list[Event] = [CommentPosted(
                source=self.source, town=self.town.slug, comment_id=uuid.UUID(comment_id),
                consultation_id=uuid.UUID(consultation.id), measure_code=cmd.measure_code,
                parent_id=cmd.parent_id)]
            if parent is not None and parent["citizen_id"] != citizen["id"]:
                author = self._citizen_row(conn, parent["citizen_id"])
                if author["notify_replies"] and author["email"] and author["erased_at"] is None:
                    excerpt = cmd.body if len(cmd.body) <= 300 else cmd.body[:299] + "…"
                    events.append(CommentReplied(
                        source=self.source, town=self.town.slug, comment_id=uuid.UUID(comment_id),
                        parent_id=uuid.UUID(parent["id"]), measure_code=cmd.measure_code,
                        measure_title=self._measure_title(conn, cmd.measure_code),
                        replier_display_name=citizen["display_name"], excerpt=excerpt,
                        recipient_email=author["email"], recipient_language=author["language"]))
            add_events(conn, t.outbox, events)
            RateLimits(conn).record(checks, now)
        self.relay.wake()
        return CommentView(id=uuid.UUID(comment_id), measure_code=cmd.measure_code,
                           display_name=citizen["display_name"], body=cmd.body, created_at=now,
                           parent_id=cmd.parent_id)

    def list_comments(self, measure_code: str,
                      consultation_id: uuid.UUID | str | None = None) -> list[CommentView]:
        """Visible comments, newest first, each with its visible replies, oldest first."""
        cm, c = t.comments, t.citizens
        query = (
            select(cm, c.c.display_name, c.c.erased_at)
            .join(c, c.c.id == cm.c.citizen_id)
            .where(cm.c.measure_code == measure_code, cm.c.hidden.is_(False))
            .order_by(cm.c.created_at, cm.c.id)
        )
        if consultation_id:
            query = query.where(cm.c.consultation_id == _id(consultation_id, "consultation_id"))
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        replies: dict[str, list[CommentView]] = {}
        for row in rows:
            if row["parent_id"]:
                replies.setdefault(row["parent_id"], []).append(self._comment_view(row))
        top = [row for row in rows if not row["parent_id"]]
        return [self._comment_view(row, tuple(replies.get(row["id"], ()))) for row in reversed(top)]

    @staticmethod
    def _comment_view(row: Any, replies: tuple[CommentView, ...] = ()) -> CommentView:
        return CommentView(id=row["id"], measure_code=row["measure_code"], display_name=_display(row),
                           body=row["body"], created_at=_aware(row["created_at"]),
                           parent_id=row["parent_id"], replies=replies)

    def flag_comment(self, cmd: FlagComment) -> dict[str, bool]:
        """A citizen flags a comment for the moderators; a second flag of theirs changes nothing."""
        now, cf = self.clock(), t.comment_flags
        with self.engine.begin() as conn:
            citizen = self._participant(conn, cmd.citizen_id)
            comment_id = str(cmd.comment_id)
            if not conn.execute(select(t.comments.c.id).where(t.comments.c.id == comment_id)).first():
                raise CommentNotFound("Diesen Kommentar gibt es nicht.",
                                      [{"field": "comment_id", "problem": "unknown comment"}])
            if conn.execute(select(cf.c.comment_id).where(cf.c.comment_id == comment_id,
                                                          cf.c.citizen_id == citizen["id"])).first():
                return {"flagged": True}
            s = self.settings
            checks: list[Check] = [
                (f"flag:citizen:{citizen['id']}", Limit(s.limit_flags_per_citizen, HOUR), "Meldungen")]
            if cmd.client:
                checks.append((f"flag:client:{cmd.client}", Limit(s.limit_flags_per_client, HOUR),
                               "Meldungen"))
            RateLimits(conn).check(checks, now)
            conn.execute(insert(cf).values(comment_id=comment_id, citizen_id=citizen["id"],
                                           reason=cmd.reason, note=cmd.note, created_at=now))
            RateLimits(conn).record(checks, now)
        return {"flagged": True}

    # ------------------------------------------------------------------ ideas
    def propose_idea(self, cmd: ProposeIdea) -> IdeaView:
        """A confirmed citizen proposes a new measure (not tied to a consultation)."""
        now, idea_id = self.clock(), str(uuid.uuid4())
        with self.engine.begin() as conn:
            citizen = self._participant(conn, cmd.citizen_id)
            conn.execute(insert(t.ideas).values(
                id=idea_id, citizen_id=citizen["id"], title=cmd.title, description=cmd.description,
                field_of_action=cmd.field_of_action, place=cmd.place, status="submitted",
                decision_reason="", created_at=now, hidden=False))
            add_events(conn, t.outbox, [IdeaSubmitted(
                source=self.source, town=self.town.slug, idea_id=uuid.UUID(idea_id), title=cmd.title,
                field_of_action=cmd.field_of_action)])
        self.relay.wake()
        return self.idea(idea_id)

    def _idea_rows(self, conn: Connection, *where: Any) -> list[Any]:
        i, c = t.ideas, t.citizens
        return list(conn.execute(
            select(i, c.c.display_name, c.c.erased_at, c.c.email, c.c.language)
            .join(c, c.c.id == i.c.citizen_id).where(*where).order_by(i.c.created_at.desc())
        ).mappings().all())

    @staticmethod
    def _idea_view(row: Any) -> IdeaView:
        return IdeaView(
            id=row["id"], title=row["title"], description=row["description"],
            field_of_action=row["field_of_action"], place=row["place"], display_name=_display(row),
            status=row["status"], decision_reason=row["decision_reason"],
            measure_code=row["measure_code"], created_at=_aware(row["created_at"]),
            hidden=bool(row["hidden"]))

    def idea(self, idea_id: uuid.UUID | str) -> IdeaView:
        with self.engine.connect() as conn:
            rows = self._idea_rows(conn, t.ideas.c.id == _id(idea_id, "idea_id"))
        if not rows:
            raise IdeaNotFound("Diese Idee gibt es nicht.", [{"field": "idea_id", "problem": "unknown idea"}])
        return self._idea_view(rows[0])

    def list_ideas(self, status: str | None = None, include_hidden: bool = False) -> list[IdeaView]:
        where = []
        if status is not None:
            if status not in ("submitted", "accepted", "declined"):
                raise InvalidInput("Die Angaben sind ungültig.", [
                    {"field": "status", "problem": "one of submitted, accepted, declined"}])
            where.append(t.ideas.c.status == status)
        if not include_hidden:
            where.append(t.ideas.c.hidden.is_(False))
        with self.engine.connect() as conn:
            return [self._idea_view(row) for row in self._idea_rows(conn, *where)]

    def decide_idea(self, cmd: DecideIdea) -> IdeaView:
        """Accept (it becomes a proposed measure of the catalogue) or decline with a reason."""
        i, idea_id, now = t.ideas, str(cmd.idea_id), self.clock()
        with self.engine.begin() as conn:
            rows = self._idea_rows(conn, i.c.id == idea_id)
            if not rows:
                raise IdeaNotFound("Diese Idee gibt es nicht.",
                                   [{"field": "idea_id", "problem": "unknown idea"}])
            row = rows[0]
            check_idea_undecided(row["status"])
            author_email = row["email"] if row["erased_at"] is None else None
            event: Event
            if cmd.decision == "accept":
                code = idea_measure_code(self.town.slug, cmd.idea_id)
                values: dict[str, Any] = dict(status="accepted", measure_code=code)
                event = IdeaAccepted(
                    source=self.source, town=self.town.slug, idea_id=cmd.idea_id, title=row["title"],
                    description=row["description"], field_of_action=row["field_of_action"],
                    place=row["place"], note=cmd.reason, author_email=author_email,
                    author_language=row["language"])
            else:
                values = dict(status="declined")
                event = IdeaDeclined(
                    source=self.source, town=self.town.slug, idea_id=cmd.idea_id, title=row["title"],
                    reason=cmd.reason, author_email=author_email, author_language=row["language"])
            updated = conn.execute(update(i).where(i.c.id == idea_id, i.c.status == "submitted").values(
                decision_reason=cmd.reason, decided_by=cmd.actor, decided_at=now, reviewed_at=now,
                **values))
            if updated.rowcount != 1:  # decided by a concurrent request
                check_idea_undecided("decided")
            add_events(conn, t.outbox, [event])
        self.relay.wake()
        return self.idea(idea_id)

    # ------------------------------------------------------------------ moderation
    def moderation_queue(self) -> ModerationQueue:
        """Flagged comments first (most flags first), then content nobody has reviewed yet."""
        cm, cf, c = t.comments, t.comment_flags, t.citizens
        with self.engine.connect() as conn:
            counts: dict[str, dict[str, int]] = {}
            for comment_id, reason, n in conn.execute(
                select(cf.c.comment_id, cf.c.reason, func.count())
                .where(cf.c.dismissed_at.is_(None)).group_by(cf.c.comment_id, cf.c.reason)
            ).all():
                counts.setdefault(comment_id, {})[reason] = n
            columns = (cm, c.c.display_name, c.c.erased_at)
            flagged_rows = conn.execute(
                select(*columns).join(c, c.c.id == cm.c.citizen_id).where(cm.c.id.in_(list(counts)))
            ).mappings().all() if counts else []
            new_comments = conn.execute(
                select(*columns).join(c, c.c.id == cm.c.citizen_id)
                .where(cm.c.reviewed_at.is_(None)).order_by(cm.c.created_at.desc())
                .limit(MODERATION_NEW_LIMIT)
            ).mappings().all()
            new_ideas = self._idea_rows(conn, t.ideas.c.reviewed_at.is_(None))[:MODERATION_NEW_LIMIT]

        def comment_item(row: Any) -> ModerationItem:
            reasons = counts.get(row["id"], {})
            return ModerationItem(
                target_type="comment", target_id=row["id"], measure_code=row["measure_code"],
                display_name=_display(row), text=row["body"], created_at=_aware(row["created_at"]),
                hidden=bool(row["hidden"]), flags=sum(reasons.values()), flag_reasons=reasons)

        flagged = sorted((comment_item(r) for r in flagged_rows),
                         key=lambda item: (-item.flags, -item.created_at.timestamp()))
        new = [comment_item(r) for r in new_comments if r["id"] not in counts] + [
            ModerationItem(target_type="idea", target_id=r["id"], display_name=_display(r),
                           text=f"{r['title']}\n\n{r['description']}", created_at=_aware(r["created_at"]),
                           hidden=bool(r["hidden"]), flags=0)
            for r in new_ideas]
        new.sort(key=lambda item: item.created_at, reverse=True)
        return ModerationQueue(flagged=tuple(flagged), new=tuple(new[:MODERATION_NEW_LIMIT]))

    def moderate(self, cmd: Moderate) -> ModerationAct:
        """Hide (with a reason), restore, or dismiss the flags; every act goes into the log."""
        now, target_id = self.clock(), str(cmd.target_id)
        table = t.comments if cmd.target_type == "comment" else t.ideas
        with self.engine.begin() as conn:
            if not conn.execute(select(table.c.id).where(table.c.id == target_id)).first():
                if cmd.target_type == "comment":
                    raise CommentNotFound("Diesen Kommentar gibt es nicht.",
                                          [{"field": "target_id", "problem": "unknown comment"}])
                raise IdeaNotFound("Diese Idee gibt es nicht.",
                                   [{"field": "target_id", "problem": "unknown idea"}])
            values: dict[str, Any] = {"reviewed_at": now}
            if cmd.action in ("hide", "restore"):
                values["hidden"] = cmd.action == "hide"
            conn.execute(update(table).where(table.c.id == target_id).values(**values))
            if cmd.action == "dismiss_flags" and cmd.target_type == "comment":
                cf = t.comment_flags
                conn.execute(update(cf).where(cf.c.comment_id == target_id, cf.c.dismissed_at.is_(None))
                             .values(dismissed_at=now))
            conn.execute(insert(t.moderation_log).values(
                target_type=cmd.target_type, target_id=target_id, action=cmd.action,
                reason=cmd.reason, actor=cmd.actor, at=now))
        return ModerationAct(target_type=cmd.target_type, target_id=cmd.target_id, action=cmd.action,
                             reason=cmd.reason, actor=cmd.actor, at=now)

    def moderation_log(self, limit: int = 100) -> list[ModerationAct]:
        if not isinstance(limit, int) or not 1 <= limit <= 1000:
            raise InvalidInput("Die Angaben sind ungültig.",
                               [{"field": "limit", "problem": "must be a whole number from 1 to 1000"}])
        ml = t.moderation_log
        with self.engine.connect() as conn:
            rows = conn.execute(select(ml).order_by(ml.c.id.desc()).limit(limit)).mappings().all()
        return [ModerationAct(target_type=r["target_type"], target_id=r["target_id"], action=r["action"],
                              reason=r["reason"], actor=r["actor"], at=_aware(r["at"])) for r in rows]

    # ------------------------------------------------------------------ town results
    def town_results(self, consultation_id: uuid.UUID | str) -> TownResults:
        """Per measure: tally and comment count; participants; per day (Europe/Berlin) what happened."""
        cid = _id(consultation_id, "consultation_id")
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
