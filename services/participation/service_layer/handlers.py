"""Use cases of one town's participation instance: one transaction per command.

Every state change that others must know about writes its event into the outbox in
the same transaction; a refused command writes nothing (no row, no event, no
rate-limit hit).
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any, overload
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from services.participation.adapters import rate_limits
from services.participation.adapters import tables as t
from services.participation.domain.model import (
    ERASED_DISPLAY_NAME,
    LINK_INVALID_MESSAGE,
    MILESTONE_OF_PHASE,
    Answer,
    CitizenNotFound,
    CitizenStanding,
    CommentNotFound,
    Consultation,
    ConsultationNotFound,
    IdeaNotFound,
    InvalidInput,
    Limit,
    Link,
    LinkInvalid,
    MeasureNotInConsultation,
    MeasureUnknown,
    ParentComment,
    check_dates,
    check_idea_undecided,
    check_postcode,
    email_key,
    support_share,
    tally,
    token_hash,
)
from soesmart import demo
from soesmart.config import Settings
from soesmart.contracts import (
    CLIMATE_FIELDS,
    MOBILITY_FIELDS,
    ChangeConsultationPhase,
    CitizenConfirmed,
    CitizenErased,
    CitizenFollowsMeasure,
    CitizenLinkRequested,
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
    ExportedRating,
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
    RatingRecorded,
    RatingsPage,
    RedeemLink,
    RegisterCitizen,
    RequestSignIn,
    Source,
    Support,
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

    CONSULTATION_CACHE_SECONDS = 2.0
    _open_cache: tuple[float, list[Consultation]] | None = None

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
        self._stopping = threading.Event()
        if settings.demo:
            self.create_demo_consultation()
            self.create_demo_participation()

    def background_loops(self) -> list:
        return [self.relay.run, self.consultation_loop]

    def stop(self) -> None:
        self._stopping.set()
        self.relay.stop()

    def _today(self) -> date:
        return self.clock().astimezone(BERLIN).date()

    # ------------------------------------------------------------------ citizens
    def _link_limits(self, key: str, client: str | None) -> list[rate_limits.Check]:
        s = self.settings
        checks: list[rate_limits.Check] = [
            (rate_limits.address_bucket("link", key), Limit(s.limit_links_per_address, HOUR),
             "E-Mail-Links an diese Adresse")]
        if client:
            checks.append((f"link:client:{client}", Limit(s.limit_links_per_client, HOUR),
                           "E-Mail-Links von Ihrem Anschluss"))
        return checks

    def _send_link(self, conn: Connection, citizen: Any, purpose: str, now: datetime) -> bool:
        """A new single-use link by mail, unless one of its kind went out a moment ago."""
        cl = t.citizen_links
        last = conn.execute(
            select(func.max(cl.c.created_at)).where(
                cl.c.citizen_id == citizen["id"], cl.c.purpose == purpose)
        ).scalar()
        if last is not None and now - _aware(last) < timedelta(seconds=self.settings.link_resend_seconds):
            return False
        token = secrets.token_urlsafe(32)
        expires_at = now + (CONFIRM_LINK_VALID if purpose == "confirm_registration" else SIGN_IN_LINK_VALID)
        conn.execute(insert(cl).values(token_hash=token_hash(token), citizen_id=citizen["id"],
                                       purpose=purpose, created_at=now, expires_at=expires_at))
        add_events(conn, t.outbox, [CitizenLinkRequested(
            source=self.source, town=self.town.slug, purpose=purpose,  # type: ignore[arg-type]
            email=citizen["email"], display_name=citizen["display_name"],
            language=citizen["language"], token=token, expires_at=expires_at,
        )])
        return True

    def register_citizen(self, cmd: RegisterCitizen) -> LinkSent:
        """Register (double opt-in). The answer is the same whether the address is new,
        waiting for confirmation (a fresh link) or confirmed (a sign-in link instead)."""
        other = towns().for_postcode(cmd.postcode)
        check_postcode(cmd.postcode, self.town.slug, self.town.name, self.town.postcodes,
                       (other.slug, other.name) if other else None)
        try:
            self._register(cmd)
        except IntegrityError:  # the same new address twice at once: the second finds the first
            self._register(cmd)
        self.relay.wake()
        return LinkSent()

    def _register(self, cmd: RegisterCitizen) -> None:
        c, now, key = t.citizens, self.clock(), email_key(cmd.email)
        with self.engine.begin() as conn:
            checks = self._link_limits(key, cmd.client)
            rate_limits.check(conn, checks, now)
            row = conn.execute(select(c).where(c.c.email_key == key).with_for_update()).mappings().first()
            values = dict(postcode=cmd.postcode, display_name=cmd.display_name, language=cmd.language,
                          notify_replies=cmd.notify_replies, follow_rated=cmd.follow_rated)
            if row is None:
                cid = str(uuid.uuid4())
                conn.execute(insert(c).values(id=cid, email=cmd.email, email_key=key,
                                              registered_at=now, **values))
                self._send_link(conn, self._citizen_row(conn, cid), "confirm_registration", now)
            elif row["confirmed_at"] is None:
                # not yet anyone's account: the latest registration's details count
                conn.execute(update(c).where(c.c.id == row["id"]).values(email=cmd.email, **values))
                self._send_link(conn, self._citizen_row(conn, row["id"]), "confirm_registration", now)
            else:
                self._send_link(conn, row, "sign_in", now)
            rate_limits.record(conn, [b for b, _, _ in checks], now)

    def request_sign_in(self, cmd: RequestSignIn) -> LinkSent:
        """A sign-in link by mail; for an unknown address the same answer and no mail."""
        c, now, key = t.citizens, self.clock(), email_key(cmd.email)
        with self.engine.begin() as conn:
            checks = self._link_limits(key, cmd.client)
            rate_limits.check(conn, checks, now)
            row = conn.execute(select(c).where(c.c.email_key == key)).mappings().first()
            if row is not None:
                purpose = "sign_in" if row["confirmed_at"] is not None else "confirm_registration"
                self._send_link(conn, row, purpose, now)
            rate_limits.record(conn, [b for b, _, _ in checks], now)
        self.relay.wake()
        return LinkSent()

    def confirm_citizen(self, cmd: RedeemLink) -> CitizenSession:
        return self._redeem(cmd.token, "confirm_registration")

    def redeem_sign_in(self, cmd: RedeemLink) -> CitizenSession:
        return self._redeem(cmd.token, "sign_in")

    def _redeem(self, token: str, purpose: str) -> CitizenSession:
        cl, c, now = t.citizen_links, t.citizens, self.clock()
        digest = token_hash(token)
        with self.engine.begin() as conn:
            link = conn.execute(
                select(cl.c.purpose, cl.c.expires_at, cl.c.used_at, cl.c.citizen_id)
                .where(cl.c.token_hash == digest).with_for_update()
            ).mappings().first()
            if link is None:
                raise LinkInvalid(LINK_INVALID_MESSAGE, [{"field": "token", "problem": "invalid"}])
            citizen = self._citizen_row(conn, link["citizen_id"])
            Link(link["purpose"], _aware(link["expires_at"]), link["used_at"],  # type: ignore[arg-type]
                 citizen["erased_at"] is not None).check_redeemable(purpose, now)
            used = conn.execute(update(cl).where(cl.c.token_hash == digest, cl.c.used_at.is_(None))
                                .values(used_at=now))
            if used.rowcount != 1:  # redeemed by a concurrent request
                raise LinkInvalid(LINK_INVALID_MESSAGE, [{"field": "token", "problem": "invalid"}])
            confirmed = citizen["confirmed_at"] is not None
            if purpose == "confirm_registration" and not confirmed:
                conn.execute(update(c).where(c.c.id == citizen["id"]).values(confirmed_at=now))
                add_events(conn, t.outbox, [CitizenConfirmed(
                    source=self.source, town=self.town.slug, citizen_id=uuid.UUID(citizen["id"]))])
                confirmed = True
        self.relay.wake()
        return CitizenSession(citizen_id=citizen["id"], town=self.town.slug,
                              display_name=citizen["display_name"], confirmed=confirmed)

    def _citizen_row(self, conn: Connection, citizen_id: str) -> Any:
        row = conn.execute(select(t.citizens).where(t.citizens.c.id == citizen_id)).mappings().first()
        if row is None:
            raise CitizenNotFound("Dieses Konto gibt es nicht.",
                                  [{"field": "citizen_id", "problem": "unknown citizen"}])
        return row

    def _live_citizen(self, conn: Connection, citizen_id: uuid.UUID | str) -> Any:
        row = self._citizen_row(conn, _id(citizen_id, "citizen_id"))
        if row["erased_at"] is not None:
            raise CitizenNotFound("Dieses Konto gibt es nicht mehr.",
                                  [{"field": "citizen_id", "problem": "erased"}])
        return row

    def _participant(self, conn: Connection, citizen_id: uuid.UUID | str) -> Any:
        """A confirmed, not erased citizen (who may rate, comment, flag and propose)."""
        row = conn.execute(select(t.citizens).where(
            t.citizens.c.id == _id(citizen_id, "citizen_id"))).mappings().first()
        CitizenStanding(exists=row is not None, confirmed=bool(row and row["confirmed_at"]),
                        erased=bool(row and row["erased_at"])).check_can_participate()
        return row

    def citizen_session(self, citizen_id: uuid.UUID | str) -> CitizenSession:
        with self.engine.connect() as conn:
            row = self._live_citizen(conn, citizen_id)
        return CitizenSession(citizen_id=row["id"], town=self.town.slug,
                              display_name=row["display_name"], confirmed=row["confirmed_at"] is not None)

    def get_citizen(self, citizen_id: uuid.UUID | str) -> CitizenView:
        """"Meine Daten": everything stored about one citizen."""
        with self.engine.connect() as conn:
            row = self._live_citizen(conn, citizen_id)
            cm, ideas = t.comments, t.ideas
            comments = conn.execute(
                select(cm).where(cm.c.citizen_id == row["id"]).order_by(cm.c.created_at)
            ).mappings().all()
            own_ideas = conn.execute(
                select(ideas).where(ideas.c.citizen_id == row["id"]).order_by(ideas.c.created_at)
            ).mappings().all()
            ratings = self._ratings_of(conn, row["id"], None)
        return CitizenView(
            citizen_id=row["id"], town=self.town.slug, email=row["email"], postcode=row["postcode"],
            display_name=row["display_name"], language=row["language"],
            notify_replies=row["notify_replies"], follow_rated=row["follow_rated"],
            registered_at=_aware(row["registered_at"]), confirmed_at=_aware(row["confirmed_at"]),
            ratings=tuple(ratings),
            comments=tuple(
                {"id": x["id"], "consultation_id": x["consultation_id"],
                 "measure_code": x["measure_code"], "parent_id": x["parent_id"], "body": x["body"],
                 "created_at": _aware(x["created_at"]).isoformat(),  # type: ignore[union-attr]
                 "hidden": bool(x["hidden"])}
                for x in comments),
            ideas=tuple(
                {"id": x["id"], "title": x["title"], "description": x["description"],
                 "field_of_action": x["field_of_action"], "place": x["place"], "status": x["status"],
                 "decision_reason": x["decision_reason"], "measure_code": x["measure_code"],
                 "created_at": _aware(x["created_at"]).isoformat(),  # type: ignore[union-attr]
                 "hidden": bool(x["hidden"])}
                for x in own_ideas),
        )

    def update_citizen(self, cmd: UpdateCitizen) -> CitizenView:
        changes = cmd.model_dump(exclude_none=True, exclude={"citizen_id"})
        with self.engine.begin() as conn:
            row = self._live_citizen(conn, cmd.citizen_id)
            if changes:
                conn.execute(update(t.citizens).where(t.citizens.c.id == row["id"]).values(**changes))
        return self.get_citizen(cmd.citizen_id)

    def erase_citizen(self, citizen_id: uuid.UUID | str) -> dict[str, bool]:
        """Remove every personal detail; ratings, comments and ideas stay, by an anonymous author.

        The address is gone from this instance, so it is never mailed again from here;
        its unused links stop working.
        """
        c = t.citizens
        with self.engine.begin() as conn:
            row = self._live_citizen(conn, citizen_id)
            conn.execute(update(c).where(c.c.id == row["id"]).values(
                email=None, email_key=None, postcode=None, display_name=ERASED_DISPLAY_NAME,
                notify_replies=False, follow_rated=False, erased_at=self.clock()))
            conn.execute(delete(t.citizen_links).where(t.citizen_links.c.citizen_id == row["id"]))
            if row["email"]:
                # the notifications service ends what came from this account (same commit)
                add_events(conn, t.outbox, [CitizenErased(
                    source=self.source, town=self.town.slug, email=row["email"])])
        self.relay.wake()
        return {"erased": True}

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
        query = select(t.consultations).where(t.consultations.c.id == cid)
        row = conn.execute(query.with_for_update() if lock else query).mappings().first()
        if row is None:
            raise ConsultationNotFound("Diese Beteiligung gibt es nicht.",
                                       [{"field": "consultation_id", "problem": "unknown consultation"}])
        codes = conn.execute(
            select(t.consultation_measures.c.measure_code).where(
                t.consultation_measures.c.consultation_id == cid
            )
        ).scalars()
        return Consultation(
            id=row["id"], title=row["title"], status=row["status"], starts_on=row["starts_on"],
            ends_on=row["ends_on"], measure_codes=frozenset(codes),
        )

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
            rate_limits.forget_before(conn, self.clock() - RATE_LIMIT_MEMORY)
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

    def _consultation_for(self, conn: Connection, measure_code: str,
                          cid: uuid.UUID | str | None) -> Consultation:
        open_now = self._open_consultations(conn)
        if cid:
            cid = _id(cid, "consultation_id")
            for consultation in open_now:
                if consultation.id == cid:
                    return consultation
            return self._load_consultation(conn, cid)  # not open: its rules say why
        found = next((c for c in open_now if measure_code in c.measure_codes), None)
        if found is not None:
            return found
        cm, cs = t.consultation_measures, t.consultations
        latest = conn.execute(
            select(cs.c.id).join(cm, cm.c.consultation_id == cs.c.id)
            .where(cm.c.measure_code == measure_code).order_by(cs.c.ends_on.desc()).limit(1)
        ).scalar()
        if latest is not None:
            return self._load_consultation(conn, latest)  # closed or draft: says so
        raise MeasureNotInConsultation(
            f"Die Maßnahme {measure_code} steht in {self.town.name} derzeit nicht zur Beteiligung.",
            [{"field": "measure_code", "problem": "not part of an open consultation"}],
        )

    def rate(self, cmd: RateMeasure, consultation_id: uuid.UUID | str | None = None) -> RatingAccepted:
        """Record or change a confirmed citizen's answer; the event goes out with the same commit.

        The hot path: the citizen costs one primary-key lookup.
        """
        answer = Answer(cmd.effectiveness, cmd.support, cmd.reason)
        answer.check_not_empty()
        participant = str(cmd.participant_id)
        with self.engine.begin() as conn:
            c = t.citizens
            citizen = conn.execute(
                select(c.c.confirmed_at, c.c.erased_at, c.c.follow_rated, c.c.email, c.c.language)
                .where(c.c.id == participant)
            ).first()
            CitizenStanding(exists=citizen is not None, confirmed=bool(citizen and citizen.confirmed_at),
                            erased=bool(citizen and citizen.erased_at)).check_can_participate()
            assert citizen is not None
            consultation = self._consultation_for(conn, cmd.measure_code, consultation_id)
            consultation.check_open_for(cmd.measure_code, self._today())
            r = t.ratings
            row = conn.execute(
                select(r)
                .where(
                    r.c.consultation_id == consultation.id,
                    r.c.measure_code == cmd.measure_code,
                    r.c.participant_id == participant,
                )
                .with_for_update()
            ).mappings().first()
            now = self.clock()
            values = dict(
                effectiveness=cmd.effectiveness,
                support=cmd.support.value if cmd.support else None,
                reason=cmd.reason or None,
                updated_at=now,
            )
            events: list[Event] = []
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
                        measure_code=cmd.measure_code, participant_id=participant,
                        version=version, created_at=now, **values,
                    )
                )
                if citizen.follow_rated and citizen.email:
                    events.append(CitizenFollowsMeasure(
                        source=self.source, town=self.town.slug, measure_code=cmd.measure_code,
                        email=citizen.email, language=citizen.language))
            events.insert(0, RatingRecorded(
                source=self.source, town=self.town.slug,
                consultation_id=uuid.UUID(consultation.id), rating_id=uuid.UUID(rating_id),
                measure_code=cmd.measure_code, effectiveness=cmd.effectiveness,
                support=cmd.support, version=version,
            ))
            add_events(conn, t.outbox, events)
        self.relay.wake()
        return RatingAccepted(
            rating_id=rating_id, measure_code=cmd.measure_code, effectiveness=cmd.effectiveness,
            support=cmd.support, version=version, changed=True,
        )

    def _ratings_of(self, conn: Connection, citizen_id: str, cid: str | None) -> list[dict[str, Any]]:
        r = t.ratings
        query = select(r).where(r.c.participant_id == citizen_id).order_by(r.c.created_at)
        if cid:
            query = query.where(r.c.consultation_id == cid)
        return [
            {"measure_code": x["measure_code"], "consultation_id": x["consultation_id"],
             "effectiveness": x["effectiveness"], "support": x["support"], "reason": x["reason"],
             "version": x["version"],
             "updated_at": _aware(x["updated_at"]).isoformat()}  # type: ignore[union-attr]
            for x in conn.execute(query).mappings().all()
        ]

    def my_ratings(self, citizen_id: uuid.UUID | str,
                   consultation_id: uuid.UUID | str | None = None) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            row = self._live_citizen(conn, citizen_id)
            cid = _id(consultation_id, "consultation_id") if consultation_id else None
            return self._ratings_of(conn, row["id"], cid)

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
            checks: list[rate_limits.Check] = [
                (f"comment:citizen:{citizen['id']}", Limit(s.limit_comments_per_citizen, TEN_MINUTES),
                 "Kommentare")]
            if cmd.client:
                checks.append((f"comment:client:{cmd.client}",
                               Limit(s.limit_comments_per_client, TEN_MINUTES), "Kommentare"))
            rate_limits.check(conn, checks, now)
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
            rate_limits.record(conn, [b for b, _, _ in checks], now)
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
            checks: list[rate_limits.Check] = [
                (f"flag:citizen:{citizen['id']}", Limit(s.limit_flags_per_citizen, HOUR), "Meldungen")]
            if cmd.client:
                checks.append((f"flag:client:{cmd.client}", Limit(s.limit_flags_per_client, HOUR),
                               "Meldungen"))
            rate_limits.check(conn, checks, now)
            conn.execute(insert(cf).values(comment_id=comment_id, citizen_id=citizen["id"],
                                           reason=cmd.reason, note=cmd.note, created_at=now))
            rate_limits.record(conn, [b for b, _, _ in checks], now)
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
                tally=tally(eff.get(code, []), sup.get(code, []), answers),
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
                *(str(m.tally.support.get(s.value, 0)) for s in Support),
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
