"""Use cases of the notifications service: consent, fan-out of events into items, bundling, delivery.

The path of a piece of news: an event is fanned out into one `notification_items`
row per address and cause (one transaction with the processed-event record);
`bundle_due` turns the items that are due into one mail per address (one
transaction: the delivery row in, the items out); `send_due` hands deliveries to
the transport and records the outcome. A crash anywhere repeats a step, never
doubles its effect.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import (
    Connection,
    Engine,
    Table,
    and_,
    case,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from services.notifications.adapters import tables as t
from services.notifications.adapters.clock import Clock, SystemClock
from services.notifications.adapters.mail import (
    MailTransport,
    PermanentMailFailure,
    TemporaryMailFailure,
    transport_from_settings,
)
from services.notifications.adapters.mails import (
    ComposeCache,
    ComposedMail,
    compose,
    new_token,
    render_raw,
    sign,
    token_hash,
    verify,
)
from services.notifications.domain import model
from services.notifications.service_layer.sent_marks import SentMarks
from soesmart.config import Settings
from soesmart.contracts import (
    CitizenErased,
    CitizenFollowsMeasure,
    CitizenLinkRequested,
    CommentReplied,
    ConfirmSubscription,
    ConsultationMilestone,
    DeliveryCount,
    DeliveryLog,
    IdeaAccepted,
    IdeaDeclined,
    MeasureStatusChanged,
    Preferences,
    Subscribe,
    SubscriptionAccepted,
    SubscriptionView,
    UpdatePreferences,
    idea_measure_code,
)
from soesmart.i18n import label
from soesmart.messaging.outbox import claim_event
from soesmart.storage import make_engine, migrate
from soesmart.towns import UnknownTown, towns

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
CONFIRM_VALID_FOR = timedelta(hours=48)
RESEND_WINDOW = timedelta(minutes=10)
MAX_ATTEMPTS = 8
# Sender names: mails caused by one town's events come from that town's participation.
REGION_SENDER = "5 für Südwestfalen – Beteiligung"
TOWN_SENDER = "{town} – Bürgerbeteiligung"
CONFIRM_CAUSE = "confirm_subscription"
# Mails a person has just asked for: sent even to an address marked as bouncing (asking
# again is how an address shows it receives mail again), never with an unsubscribe header.
TRANSACTIONAL_CAUSES = frozenset({CONFIRM_CAUSE, "confirm_registration", "sign_in"})
BUNDLE_CAUSE = {model.IMMEDIATE: "measure_status_changed", model.DAILY: "digest_daily",
                model.WEEKLY: "digest_weekly"}
MILESTONE_KIND = "consultation_milestone"
CITIZEN_LINK_PATH = {"confirm_registration": "/stadt/{town}/bestaetigen?token={token}",
                     "sign_in": "/stadt/{town}/anmelden/link?token={token}"}
LAST_DIGEST_COLUMN = {model.DAILY: "last_daily_digest_at", model.WEEKLY: "last_weekly_digest_at"}


class NotificationError(Exception):
    code = "NOTIFICATION_ERROR"
    details: tuple[dict[str, Any], ...] = ()


class InvalidLink(NotificationError):
    code = "INVALID_LINK"


class InvalidScope(NotificationError):
    code = "VALIDATION_FAILED"
    details = ({"field": "scope_value", "problem": "unknown"},)


def _aware(value: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes; everything stored is UTC.
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _town_name(slug: str) -> str:
    try:
        return towns().get(slug).name
    except UnknownTown:
        return slug


def _address_key(email: str) -> str:
    # Idempotency keys name the address by a hash: short, and no address in the log's keys.
    return hashlib.sha256(email.lower().encode()).hexdigest()[:24]


def _chunks(values: Sequence[Any], size: int) -> list[Sequence[Any]]:
    return [values[i:i + size] for i in range(0, len(values), size)]


def _insert_rows(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert many rows with the same keys, in few statements.

    pg8000 runs a plain executemany as one statement per row, one round trip each
    (8 s for the items of a 20,000-address fan-out). With RETURNING, SQLAlchemy
    sends pages of 1,000 rows as one statement ("insertmanyvalues", compiled once;
    a multi-row `.values()` is compiled anew each time). SQLite runs in-process and
    takes the executemany as it is.
    """
    if not rows:
        return
    for chunk in _chunks(rows, 2000):
        if conn.dialect.name == "sqlite":
            conn.execute(insert(table), list(chunk))
        else:
            conn.execute(insert(table).returning(*table.primary_key.columns), list(chunk)).all()


class NotificationsApp:
    def __init__(
        self,
        settings: Settings,
        engine: Engine | None = None,
        transport: MailTransport | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.settings = settings
        self.engine = engine or make_engine(settings.database_url_for("notifications"),
                                            **settings.engine_options())
        migrate(self.engine, MIGRATIONS)
        # An injected transport (tests) is used alone; otherwise one per SMTP connection.
        self.transports = [transport] if transport is not None else [
            transport_from_settings(settings.smtp_url, settings.mail_dir)
            for _ in range(settings.mail_connections)
        ]
        self.transport = self.transports[0]
        self.clock = clock or SystemClock()
        self.batch_wait = timedelta(seconds=settings.mail_batch_seconds)
        self._sent_marks = SentMarks(self.engine, self._now)
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self.poll_interval = 0.5

    def background_loops(self) -> list[Callable[[], None]]:
        return [self.run_sender]

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()

    def _now(self) -> datetime:
        return self.clock.now()

    # ------------------------------------------------------------------ links
    def _url(self, path: str) -> str:
        return self.settings.public_url.rstrip("/") + path

    def unsubscribe_token(self, subscription_id: str) -> str:
        return f"{subscription_id}.{sign(self.settings.secret_key, 'unsubscribe', subscription_id)}"

    def unsubscribe_all_token(self, recipient_id: str) -> str:
        return f"{recipient_id}.{sign(self.settings.secret_key, 'unsubscribe-all', recipient_id)}"

    def preferences_token(self, recipient_id: str) -> str:
        return f"{recipient_id}.{sign(self.settings.secret_key, 'preferences', recipient_id)}"

    def _signed_id(self, token: str, purpose: str) -> str | None:
        value, _, signature = (token or "").partition(".")
        return value if value and verify(self.settings.secret_key, purpose, value, signature) else None

    # ------------------------------------------------------------------ consent
    def _scope_label(self, scope_type: str, scope_value: str, lang: str, title: str) -> str:
        if scope_type == "town":
            return towns().get(scope_value).name
        if scope_type == "field_of_action":
            return label("field_of_action", scope_value, lang)
        if scope_type == "region":
            return "Südwestfalen"
        return title or scope_value

    def subscribe(self, cmd: Subscribe, measure_title: str = "",
                  scope_title: str = "") -> SubscriptionAccepted:
        """Ask for consent by mail. The answer never reveals whether the address was known."""
        email = cmd.email.lower()
        scope_type, scope_value = cmd.scope_type.value, cmd.scope_value
        if scope_type == "town":
            try:
                towns().get(scope_value)
            except UnknownTown:
                raise InvalidScope(f"Die Stadt „{scope_value}“ gehört nicht zum Netzwerk.") from None
        s = t.subscriptions
        now = self._now()
        with self.engine.begin() as conn:
            row = conn.execute(
                select(s).where(
                    s.c.email == email, s.c.scope_type == scope_type, s.c.scope_value == scope_value,
                ).with_for_update()
            ).mappings().first()
            if row is not None and row["status"] == "confirmed":
                return SubscriptionAccepted()
            sent_at = _aware(row["confirmation_sent_at"]) if row else None
            if sent_at is not None and now - sent_at < RESEND_WINDOW:
                return SubscriptionAccepted()
            token = new_token()
            values = dict(
                language=cmd.language, frequency=cmd.frequency.value, status="pending",
                confirm_token_hash=token_hash(token), confirm_expires_at=now + CONFIRM_VALID_FOR,
                confirmation_sent_at=now,
            )
            if row is None:
                sub_id = str(uuid.uuid4())
                conn.execute(
                    insert(s).values(
                        id=sub_id, email=email, scope_type=scope_type, scope_value=scope_value,
                        created_at=now, **values,
                    )
                )
            else:
                sub_id = row["id"]
                conn.execute(update(s).where(s.c.id == sub_id).values(**values))
            title = scope_title or measure_title
            mail = compose(
                "confirm_subscription", cmd.language, scope_type=scope_type,
                scope_label=self._scope_label(scope_type, scope_value, cmd.language, title),
                scope_value=scope_value, frequency=cmd.frequency.value,
                confirm_url=self._url(f"/abo/bestaetigen?token={token}"),
                expires=now + CONFIRM_VALID_FOR,
            )
            self._queue(conn, f"confirm:{sub_id}:{token_hash(token)[:12]}", CONFIRM_CAUSE,
                        email, mail, unsubscribe_url=None)
        self._wake.set()
        return SubscriptionAccepted()

    def confirm(self, cmd: ConfirmSubscription) -> dict[str, Any]:
        """Record consent (time and scope); the address becomes a recipient that does not bounce."""
        s = t.subscriptions
        now = self._now()
        with self.engine.begin() as conn:
            row = conn.execute(
                select(s).where(s.c.confirm_token_hash == token_hash(cmd.token)).with_for_update()
            ).mappings().first()
            expires = _aware(row["confirm_expires_at"]) if row else None
            if row is None or row["status"] != "pending" or expires is None or expires < now:
                raise InvalidLink(
                    "Dieser Bestätigungslink ist ungültig, abgelaufen oder wurde schon benutzt."
                )
            conn.execute(
                update(s).where(s.c.id == row["id"]).values(
                    status="confirmed", confirmed_at=now, confirm_token_hash=None,
                    confirm_expires_at=None,
                )
            )
            recipient = self._recipients(conn, [row["email"]], row["language"])[row["email"]]
            # Following a link from this mailbox shows the address receives mail again.
            conn.execute(
                update(t.recipients).where(t.recipients.c.id == recipient["id"]).values(
                    language=row["language"], bouncing_since=None, bounce_reason=None,
                )
            )
        return {"scope_type": row["scope_type"], "scope_value": row["scope_value"],
                "preferences_token": self.preferences_token(recipient["id"])}

    def _recipients(self, conn: Connection, emails: Sequence[str],
                    language: str = "de") -> dict[str, Any]:
        """The recipient rows of `emails`, created where missing (older subscriptions)."""
        r = t.recipients
        found: dict[str, Any] = {}
        for chunk in _chunks(list(emails), 500):
            for row in conn.execute(select(r).where(r.c.email.in_(chunk))).mappings():
                found[row["email"]] = row
        missing = [e for e in emails if e not in found]
        if missing:
            now = self._now()
            rows = [dict(id=str(uuid.uuid4()), email=e, language=language, created_at=now)
                    for e in missing]
            try:
                with conn.begin_nested():
                    _insert_rows(conn, r, rows)
            except IntegrityError:  # created concurrently: read them back
                pass
            for chunk in _chunks(missing, 500):
                for row in conn.execute(select(r).where(r.c.email.in_(chunk))).mappings():
                    found[row["email"]] = row
        return found

    def unsubscribe(self, token: str) -> dict[str, Any]:
        """One subscription (its own link) or all of an address (the link of a bundled mail)."""
        s = t.subscriptions
        now = self._now()
        sub_id = self._signed_id(token, "unsubscribe")
        recipient_id = None if sub_id else self._signed_id(token, "unsubscribe-all")
        if sub_id is None and recipient_id is None:
            raise InvalidLink("Dieser Abmeldelink ist ungültig.")
        with self.engine.begin() as conn:
            if sub_id is not None:
                row = conn.execute(select(s).where(s.c.id == sub_id)).mappings().first()
                if row is None:
                    raise InvalidLink("Dieser Abmeldelink ist ungültig.")
                self._end_subscriptions(conn, [sub_id], now)
                return {"scope_type": row["scope_type"], "scope_value": row["scope_value"]}
            email = self._recipient_email(conn, recipient_id)
            ids = conn.execute(select(s.c.id).where(s.c.email == email)).scalars().all()
            self._end_subscriptions(conn, list(ids), now)
        return {"scope_type": "all", "scope_value": ""}

    def _recipient_email(self, conn: Connection, recipient_id: str | None) -> str:
        r = t.recipients
        email = conn.execute(select(r.c.email).where(r.c.id == recipient_id)).scalar()
        if email is None:
            raise InvalidLink("Dieser Link ist ungültig.")
        return str(email)

    def _end_subscriptions(self, conn: Connection, ids: list[str], now: datetime) -> None:
        s, i = t.subscriptions, t.notification_items
        if not ids:
            return
        conn.execute(update(s).where(s.c.id.in_(ids), s.c.status != "unsubscribed").values(
            status="unsubscribed", unsubscribed_at=now, confirm_token_hash=None))
        # News not yet sent for these subscriptions is dropped: they asked for no more mail.
        conn.execute(delete(i).where(i.c.subscription_id.in_(ids)))

    # ------------------------------------------------------------------ preferences
    def preferences(self, token: str) -> Preferences:
        recipient_id = self._signed_id(token, "preferences")
        if recipient_id is None:
            raise InvalidLink("Dieser Link zu Ihren Einstellungen ist ungültig.")
        s, r = t.subscriptions, t.recipients
        with self.engine.connect() as conn:
            rec = conn.execute(select(r).where(r.c.id == recipient_id)).mappings().first()
            if rec is None:
                raise InvalidLink("Dieser Link zu Ihren Einstellungen ist ungültig.")
            subs = conn.execute(
                select(s).where(s.c.email == rec["email"], s.c.status == "confirmed")
                .order_by(s.c.scope_type, s.c.scope_value)
            ).mappings().all()
        return Preferences(
            email=rec["email"], language=rec["language"],
            subscriptions=tuple(
                SubscriptionView(id=x["id"], scope_type=x["scope_type"],
                                 scope_value=x["scope_value"], frequency=x["frequency"],
                                 confirmed_at=_aware(x["confirmed_at"]))
                for x in subs
            ),
        )

    def update_preferences(self, cmd: UpdatePreferences) -> Preferences:
        recipient_id = self._signed_id(cmd.token, "preferences")
        if recipient_id is None:
            raise InvalidLink("Dieser Link zu Ihren Einstellungen ist ungültig.")
        s, r, i = t.subscriptions, t.recipients, t.notification_items
        now = self._now()
        with self.engine.begin() as conn:
            email = self._recipient_email(conn, recipient_id)
            own = set(conn.execute(select(s.c.id).where(s.c.email == email)).scalars())
            if not (set(cmd.frequencies) | set(cmd.unsubscribe)) <= own:
                # Another address's subscription: refuse the whole change, touch nothing.
                raise InvalidLink("Diese Änderung gehört nicht zu diesem Link.")
            if cmd.language:
                conn.execute(update(r).where(r.c.id == recipient_id).values(language=cmd.language))
                conn.execute(update(s).where(s.c.email == email).values(language=cmd.language))
            for sub_id, frequency in cmd.frequencies.items():
                conn.execute(update(s).where(s.c.id == sub_id).values(frequency=frequency.value))
                # Waiting news follows the new choice.
                conn.execute(update(i).where(i.c.subscription_id == sub_id).values(
                    frequency=frequency.value, due_at=now + self.batch_wait))
            ended = sorted(own) if cmd.unsubscribe_all else list(cmd.unsubscribe)
            self._end_subscriptions(conn, ended, now)
        return self.preferences(cmd.token)

    # ------------------------------------------------------------------ fan-out
    def on_measure_status_changed(self, event: MeasureStatusChanged) -> int:
        """Queue one item per confirmed follower (measure, field, towns, region); returns how many."""
        s, r, i = t.subscriptions, t.recipients, t.notification_items
        scopes = model.scopes_following_measure(
            event.code, event.field_of_action, event.towns, [x.slug for x in towns()]
        )
        now = self._now()
        with self.engine.begin() as conn:
            if not claim_event(conn, t.processed_events, event):
                return 0
            rows = conn.execute(
                select(s.c.id, s.c.email, s.c.scope_type, s.c.scope_value, s.c.frequency)
                .select_from(s.outerjoin(r, r.c.email == s.c.email))
                .where(
                    s.c.status == "confirmed", r.c.bouncing_since.is_(None),
                    or_(*(and_(s.c.scope_type == sc.type, s.c.scope_value == sc.value)
                          for sc in scopes)),
                )
            ).all()
            chosen = model.one_per_recipient(model.Candidate(*row) for row in rows)
            payload = json.dumps({
                "code": event.code, "title": event.title, "old_status": event.old_status.value,
                "new_status": event.new_status.value, "note": event.note,
                "progress": event.progress,
            }, ensure_ascii=False)
            items = [
                dict(recipient=c.email, cause=str(event.event_id), kind="measure_status_changed",
                     subscription_id=c.subscription_id, frequency=c.frequency,
                     area=model.area_of(c.scope_type, c.scope_value, event.towns),
                     measure_code=event.code, payload=payload, occurred_at=event.occurred_at,
                     due_at=now + self.batch_wait if c.frequency == model.IMMEDIATE else now,
                     created_at=now)
                for c in chosen
            ]
            _insert_rows(conn, i, items)
        return len(items)

    # ------------------------------------------------------------------ participation events
    def on_citizen_link_requested(self, event: CitizenLinkRequested) -> bool:
        """Mail the confirmation or sign-in link a citizen asked for, at once; True if queued.

        Not a subscription: no quiet period, no unsubscribe header. A link that has
        expired is never sent, not even by a retry after it expired.
        """
        expires_at = event.expires_at if event.expires_at.tzinfo else event.expires_at.replace(tzinfo=UTC)
        email = event.email.lower()
        with self.engine.begin() as conn:
            if not claim_event(conn, t.processed_events, event):
                return False
            if expires_at <= self._now():
                log.info("link mail for %s not sent: the link expired at %s", event.town, expires_at)
                return False
            path = CITIZEN_LINK_PATH[event.purpose].format(town=event.town,
                                                           token=quote(event.token, safe=""))
            mail = compose("citizen_link", event.language, purpose=event.purpose,
                           display_name=event.display_name, town_name=_town_name(event.town),
                           link_url=self._url(path), expires=expires_at)
            queued = self._queue(conn, f"{event.purpose}:{event.event_id}:{_address_key(email)}",
                                 event.purpose, email, mail, unsubscribe_url=None,
                                 sender_name=self._town_sender(event.town), expires_at=expires_at)
        self._wake.set()
        return queued

    def on_comment_replied(self, event: CommentReplied) -> bool:
        """Tell a citizen of a reply to their comment (they opted in at the town)."""
        email = event.recipient_email.lower()
        lang = event.recipient_language
        with self.engine.begin() as conn:
            if not claim_event(conn, t.processed_events, event):
                return False
            mail = compose(
                "comment_replied", lang, replier=event.replier_display_name,
                excerpt=event.excerpt, measure_title=event.measure_title, code=event.measure_code,
                measure_url=self._url(f"/massnahmen/{event.measure_code}"),
                settings_url=self._url(f"/stadt/{event.town}/meine-daten"),
                town_name=_town_name(event.town),
            )
            queued = self._queue(conn, f"comment_replied:{event.event_id}:{_address_key(email)}",
                                 "comment_replied", email, mail, unsubscribe_url=None,
                                 sender_name=self._town_sender(event.town))
        self._wake.set()
        return queued

    def on_idea_decided(self, event: IdeaAccepted | IdeaDeclined) -> bool:
        """Tell the author of an idea what the town decided (nobody, if they erased their data)."""
        if event.author_email is None:
            return False
        email = event.author_email.lower()
        lang = event.author_language
        context: dict[str, Any] = dict(title=event.title, town_name=_town_name(event.town),
                                       town_url=self._url(f"/stadt/{event.town}"))
        if isinstance(event, IdeaAccepted):
            kind, code = "idea_accepted", idea_measure_code(event.town, event.idea_id)
            context.update(note=event.note, code=code, measure_url=self._url(f"/massnahmen/{code}"))
        else:
            kind = "idea_declined"
            context.update(reason=event.reason)
        with self.engine.begin() as conn:
            if not claim_event(conn, t.processed_events, event):
                return False
            queued = self._queue(conn, f"{kind}:{event.event_id}:{_address_key(email)}", kind,
                                 email, compose(kind, lang, **context), unsubscribe_url=None,
                                 sender_name=self._town_sender(event.town))
        self._wake.set()
        return queued

    def on_consultation_milestone(self, event: ConsultationMilestone) -> int:
        """Queue one item per confirmed subscriber of the town; returns how many.

        The items travel like status changes: bundled after the quiet period, or in
        the subscriber's daily or weekly digest under the town's heading.
        """
        s, r, i = t.subscriptions, t.recipients, t.notification_items
        now = self._now()
        with self.engine.begin() as conn:
            if not claim_event(conn, t.processed_events, event):
                return 0
            rows = conn.execute(
                select(s.c.id, s.c.email, s.c.scope_type, s.c.scope_value, s.c.frequency)
                .select_from(s.outerjoin(r, r.c.email == s.c.email))
                .where(s.c.status == "confirmed", r.c.bouncing_since.is_(None),
                       s.c.scope_type == "town", s.c.scope_value == event.town)
            ).all()
            chosen = model.one_per_recipient(model.Candidate(*row) for row in rows)
            payload = json.dumps({
                "town": event.town, "consultation_id": str(event.consultation_id),
                "title": event.title, "milestone": event.milestone,
                "starts_on": event.starts_on, "ends_on": event.ends_on,
            }, ensure_ascii=False)
            items = [
                dict(recipient=c.email, cause=str(event.event_id), kind=MILESTONE_KIND,
                     subscription_id=c.subscription_id, frequency=c.frequency, area=event.town,
                     measure_code="", payload=payload, occurred_at=event.occurred_at,
                     due_at=now + self.batch_wait if c.frequency == model.IMMEDIATE else now,
                     created_at=now)
                for c in chosen
            ]
            _insert_rows(conn, i, items)
        return len(items)

    def on_citizen_follows_measure(self, event: CitizenFollowsMeasure) -> bool:
        """A confirmed subscription to the measure, from consent given at the town; True if added.

        Never overrides a choice: an address that has any subscription of that scope
        (also one it ended) or that bounces keeps what it has, and no mail is sent.
        """
        s, r = t.subscriptions, t.recipients
        email = event.email.lower()
        now = self._now()
        with self.engine.begin() as conn:
            if not claim_event(conn, t.processed_events, event):
                return False
            bouncing = conn.execute(
                select(r.c.id).where(r.c.email == email, r.c.bouncing_since.is_not(None))
            ).first()
            known = conn.execute(
                select(s.c.id).where(s.c.email == email, s.c.scope_type == "measure",
                                     s.c.scope_value == event.measure_code)
            ).first()
            if bouncing is not None or known is not None:
                return False
            consent = (f"bewertet in {_town_name(event.town)}; "
                       "Einwilligung mit der bestätigten Registrierung")
            try:
                with conn.begin_nested():
                    conn.execute(insert(s).values(
                        id=str(uuid.uuid4()), email=email, scope_type="measure",
                        scope_value=event.measure_code, language=event.language,
                        status="confirmed", frequency=model.IMMEDIATE, created_at=now,
                        confirmed_at=_aware(event.occurred_at), consent_source=consent,
                    ))
            except IntegrityError:
                return False  # added concurrently
            self._recipients(conn, [email], event.language)
        return True

    def on_citizen_erased(self, event: CitizenErased) -> int:
        """End what came from the erased account; returns how many subscriptions ended.

        Subscriptions that "follow what I rate" created (their consent names the town's
        registration) end, and link mails to the address that are not sent yet are
        dropped. Subscriptions the person made themselves stay: their own consent.
        """
        s, d = t.subscriptions, t.deliveries
        email = event.email.lower()
        consent = f"bewertet in {_town_name(event.town)}; %"
        with self.engine.begin() as conn:
            if not claim_event(conn, t.processed_events, event):
                return 0
            ids = conn.execute(select(s.c.id).where(
                s.c.email == email, s.c.consent_source.like(consent),
                s.c.status != "unsubscribed")).scalars().all()
            self._end_subscriptions(conn, list(ids), self._now())
            conn.execute(delete(d).where(
                d.c.recipient == email, d.c.status == "pending",
                d.c.cause.in_(("confirm_registration", "sign_in"))))
        return len(ids)

    def _town_sender(self, town: str | None) -> str | None:
        """The sender name of mails caused by `town`'s events; None: the region's."""
        return TOWN_SENDER.format(town=_town_name(town)) if town else None

    def _queue(self, conn: Connection, key: str, cause: str, recipient: str, mail: Any,
               unsubscribe_url: str | None, sender_name: str | None = None,
               expires_at: datetime | None = None) -> bool:
        try:
            with conn.begin_nested():
                conn.execute(insert(t.deliveries).values(
                    self._delivery_row(key, cause, recipient, mail, unsubscribe_url, sender_name,
                                       expires_at)))
        except IntegrityError:
            return False  # already queued for this cause and recipient
        return True

    def _delivery_row(self, key: str, cause: str, recipient: str, mail: ComposedMail,
                      unsubscribe_url: str | None, sender_name: str | None = None,
                      expires_at: datetime | None = None) -> dict[str, Any]:
        now = self._now()
        return dict(idempotency_key=key, cause=cause, recipient=recipient, subject=mail.subject,
                    text_body=mail.text, html_body=mail.html, unsubscribe_url=unsubscribe_url,
                    status="pending", attempts=0, next_attempt_at=now, created_at=now,
                    sender_name=sender_name, expires_at=expires_at)

    # ------------------------------------------------------------------ bundling
    def bundle_due(self, limit: int = 500) -> int:
        """Turn due items into one mail per address and frequency; returns how many mails."""
        i, r = t.notification_items, t.recipients
        now = self._now()
        with self.engine.connect() as conn:
            immediate = conn.execute(
                select(i.c.recipient).where(i.c.frequency == model.IMMEDIATE)
                .group_by(i.c.recipient).having(func.min(i.c.due_at) <= now)
                .order_by(func.min(i.c.id)).limit(limit)
            ).scalars().all()
            digests = conn.execute(
                select(i.c.recipient, i.c.frequency, func.min(i.c.created_at),
                       r.c.created_at, r.c.last_daily_digest_at, r.c.last_weekly_digest_at)
                .select_from(i.outerjoin(r, r.c.email == i.c.recipient))
                .where(i.c.frequency.in_([model.DAILY, model.WEEKLY]))
                .group_by(i.c.recipient, i.c.frequency, r.c.created_at,
                          r.c.last_daily_digest_at, r.c.last_weekly_digest_at)
            ).all()
        due: dict[str, list[str]] = {model.IMMEDIATE: list(immediate),
                                     model.DAILY: [], model.WEEKLY: []}
        for email, frequency, first_item, since, last_daily, last_weekly in digests:
            last = last_daily if frequency == model.DAILY else last_weekly
            if model.digest_due(frequency, _aware(last), _aware(since or first_item) or now, now):
                due[frequency].append(email)
        made = 0
        for frequency, emails in due.items():
            for chunk in _chunks(emails, 500):
                made += self._bundle(list(chunk), frequency, now)
        if made:
            self._wake.set()
        return made

    def _bundle(self, emails: list[str], frequency: str, now: datetime) -> int:
        i, r = t.notification_items, t.recipients
        with self.engine.begin() as conn:
            rows = conn.execute(
                select(i, t.subscriptions.c.scope_type)
                .select_from(i.outerjoin(t.subscriptions,
                                         t.subscriptions.c.id == i.c.subscription_id))
                .where(i.c.recipient.in_(emails), i.c.frequency == frequency)
                .order_by(i.c.id)
            ).mappings().all()
            if not rows:
                return 0
            by_email: dict[str, list[Any]] = {}
            for row in rows:
                by_email.setdefault(row["recipient"], []).append(row)
            recipients = self._recipients(conn, list(by_email))
            deliveries = []
            cache = ComposeCache()
            for email, items in by_email.items():
                recipient = recipients[email]
                mail, unsubscribe_url, cause, sender = self._compose_bundle(
                    recipient, items, frequency, now, cache)
                key = f"{frequency}:{items[0]['cause']}:{recipient['id']}"
                deliveries.append(self._delivery_row(key, cause, email, mail, unsubscribe_url,
                                                     sender))
            _insert_rows(conn, t.deliveries, deliveries)
            # Only the rows read above leave: an item that arrived meanwhile waits for the next mail.
            for chunk in _chunks([row["id"] for row in rows], 1000):
                conn.execute(delete(i).where(i.c.id.in_(chunk)))
            if frequency in LAST_DIGEST_COLUMN:
                conn.execute(update(r).where(r.c.email.in_(list(by_email))).values(
                    {LAST_DIGEST_COLUMN[frequency]: now}))
        return len(deliveries)

    def _compose_bundle(self, recipient: Any, rows: list[Any], frequency: str, now: datetime,
                        cache: ComposeCache) -> tuple[ComposedMail, str, str, str | None]:
        """One mail of a person's due items: (mail, unsubscribe URL, cause, sender name)."""
        lang = recipient["language"] or "de"
        subscription_ids = {row["subscription_id"] for row in rows}
        if len(subscription_ids) == 1:
            unsubscribe_url = self._url(
                f"/abo/abmelden?token={self.unsubscribe_token(next(iter(subscription_ids)))}")
        else:  # the mail comes from several subscriptions: the link ends them all
            unsubscribe_url = self._url(
                f"/abo/abmelden?token={self.unsubscribe_all_token(recipient['id'])}")
        preferences_url = self._url(
            f"/abo/einstellungen?token={self.preferences_token(recipient['id'])}")
        # The only parts of the mail that differ between the addresses of one cause.
        personal = {"unsubscribe_url": unsubscribe_url, "preferences_url": preferences_url}
        items = [
            model.Item(id=row["id"], subscription_id=row["subscription_id"], area=row["area"],
                       measure_code=row["measure_code"],
                       occurred_at=_aware(row["occurred_at"]) or now,
                       payload=json.loads(row["payload"]))
            for row in rows
        ]
        sender = self._town_sender(model.sender_town(items))
        kinds = {row["kind"] for row in rows}
        if frequency == model.IMMEDIATE:
            cause = kinds.pop() if len(kinds) == 1 else "updates"
        else:
            cause = BUNDLE_CAUSE[frequency]
        if frequency == model.IMMEDIATE and len(items) == 1:
            p = items[0].payload
            if rows[0]["kind"] == MILESTONE_KIND:
                return cache.compose(
                    "consultation_milestone", lang, personal, town_name=_town_name(p["town"]),
                    title=p["title"], milestone=p["milestone"],
                    starts_on=p["starts_on"], ends_on=p["ends_on"],
                    town_url=self._url(f"/stadt/{p['town']}"),
                ), unsubscribe_url, cause, sender
            return cache.compose(
                "measure_status_changed", lang, personal, title=p["title"], code=p["code"],
                old_status=label("status", p["old_status"], lang),
                new_status=label("status", p["new_status"], lang),
                progress=p["progress"], note=p["note"],
                measure_url=self._url(f"/massnahmen/{p['code']}"),
                scope_type=rows[0]["scope_type"] or "measure",
            ), unsubscribe_url, cause, sender
        groups = [
            {
                "name": self._area_name(area.area, lang),
                "measures": [self._group_view(m, lang) for m in area.measures],
            }
            for area in model.group_by_town_and_measure(items)
        ]
        return cache.compose(
            "updates", lang, personal, digest=frequency if frequency != model.IMMEDIATE else "",
            count=len(items), measures=len({it.measure_code for it in items if it.measure_code}),
            consultations=sum(1 for it in items if not it.measure_code), groups=groups,
        ), unsubscribe_url, cause, sender

    def _group_view(self, group: model.MeasureGroup, lang: str) -> dict[str, Any]:
        """What the `updates` template shows of one measure's or consultation's news."""
        if group.kind == "consultation":
            newest = group.items[0].payload
            return {"kind": "consultation", "code": "", "title": group.title,
                    "starts_on": newest["starts_on"], "ends_on": newest["ends_on"],
                    "url": self._url(f"/stadt/{newest['town']}"),
                    "entries": [{"at": it.occurred_at, "milestone": it.payload["milestone"]}
                                for it in group.items]}
        return {"kind": "measure", "code": group.code, "title": group.title,
                "url": self._url(f"/massnahmen/{group.code}"),
                "entries": [
                    {"at": it.occurred_at,
                     "old_status": label("status", it.payload["old_status"], lang),
                     "new_status": label("status", it.payload["new_status"], lang),
                     "progress": it.payload["progress"], "note": it.payload["note"]}
                    for it in group.items
                ]}

    def _area_name(self, area: str, lang: str) -> str:
        if not area:
            return "Ganze Region Südwestfalen" if lang == "de" else "Whole region Südwestfalen"
        names = []
        for slug in area.split(","):
            try:
                names.append(towns().get(slug).name)
            except UnknownTown:
                names.append(slug)
        return ", ".join(names)

    # ------------------------------------------------------------------ delivery
    def send_due(self, limit: int = 500) -> int:
        """Send the mails that are due; returns how many were handed to the transport.

        Each connection takes the next due row in turn; accepted mails are recorded
        in small batches (`SentMarks`), all of them before this returns.
        """
        d, r = t.deliveries, t.recipients
        # Marks a failed round could not write go first: those mails are out already.
        self._sent_marks.flush()
        now = self._now()
        with self.engine.connect() as conn:
            due = conn.execute(
                select(d, r.c.bouncing_since)
                .select_from(d.outerjoin(r, r.c.email == d.c.recipient))
                .where(and_(d.c.status == "pending", d.c.next_attempt_at <= now))
                .order_by(d.c.id)
                .limit(limit)
            ).mappings().all()
        rows = iter(due)
        try:
            if len(self.transports) == 1 or len(due) < 2:
                return self._send_rows(self.transport, rows)
            # Threads are green threads in the service process (eventlet patches them):
            # while the server works on one connection's mail, the next is prepared.
            with ThreadPoolExecutor(len(self.transports)) as pool:
                return sum(pool.map(lambda tr: self._send_rows(tr, rows), self.transports))
        finally:
            self._sent_marks.flush()

    def _send_rows(self, transport: MailTransport, due: Iterator[Any]) -> int:
        sent = 0
        mail_from = self.settings.mail_from
        for row in due:
            if row["bouncing_since"] is not None and row["cause"] not in TRANSACTIONAL_CAUSES:
                self._record_failure(row, "not sent: the address bounces", permanent=True)
                continue
            expires_at = _aware(row["expires_at"])
            if expires_at is not None and expires_at <= self._now():
                self._record_failure(row, "not sent: its link has expired", permanent=True)
                continue
            data = render_raw(
                sender_name=row["sender_name"] or REGION_SENDER,
                sender_address=mail_from,
                recipient=row["recipient"],
                mail=ComposedMail(row["subject"], row["text_body"] or "", row["html_body"] or ""),
                unsubscribe_url=row["unsubscribe_url"],
                unsubscribe_post_url=(
                    row["unsubscribe_url"].replace("/abo/abmelden", "/abo/abmelden/one-click")
                    if row["unsubscribe_url"] else None
                ),
                message_id=self._message_id(row["idempotency_key"]),
            )
            try:
                transport.send_raw(mail_from, row["recipient"], data)
            except TemporaryMailFailure as exc:
                self._record_failure(row, str(exc), permanent=False)
                continue
            except PermanentMailFailure as exc:
                self._record_failure(row, str(exc), permanent=True, bounced=True)
                continue
            self._sent_marks.add(row["id"])
            sent += 1
        return sent

    def _message_id(self, idempotency_key: str) -> str:
        # Stable per delivery: if the process dies between the server's "250 OK" and our
        # commit, the mail is sent again with the same Message-ID, which mail clients
        # treat as the same message (SMTP cannot join our transaction).
        digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:40]
        return f"<{digest}@{self.settings.mail_from.rsplit('@', 1)[-1]}>"

    def _record_failure(self, row: Any, error: str, permanent: bool,
                        bounced: bool = False) -> None:
        attempts = row["attempts"] + 1
        give_up = permanent or attempts >= MAX_ATTEMPTS
        delay = timedelta(seconds=min(2 ** attempts, 3600))
        now = self._now()
        with self.engine.begin() as conn:
            conn.execute(
                update(t.deliveries).where(t.deliveries.c.id == row["id"]).values(
                    status="failed" if give_up else "pending", attempts=attempts,
                    last_error=error[:1000], next_attempt_at=now + delay,
                    text_body=None if give_up else row["text_body"],
                    html_body=None if give_up else row["html_body"],
                )
            )
            if bounced:
                # No further mail to an address the receiving server refuses for good.
                rec = self._recipients(conn, [row["recipient"]])[row["recipient"]]
                conn.execute(update(t.recipients).where(t.recipients.c.id == rec["id"]).values(
                    bouncing_since=now, bounce_reason=error[:1000]))
        log.warning("mail to %s %s: %s", row["recipient"],
                    "failed permanently" if give_up else "deferred", error)

    def run_sender(self) -> None:
        while not self._stopping.is_set():
            try:
                bundled = self.bundle_due()
                sent = self.send_due()
            except Exception:
                log.exception("bundling or sending mail failed; trying again")
                bundled = sent = 0
            if not (bundled or sent):
                self._wake.wait(self.poll_interval)
                self._wake.clear()
        for transport in self.transports:
            transport.close()

    def delivery_log(self, limit: int = 100) -> DeliveryLog:
        d, r = t.deliveries, t.recipients
        with self.engine.connect() as conn:
            counts = conn.execute(
                select(d.c.cause, d.c.status, func.count(),
                       func.sum(case((d.c.attempts > 1, 1), else_=0)))
                .group_by(d.c.cause, d.c.status).order_by(d.c.cause, d.c.status)
            ).all()
            bouncing = conn.execute(
                select(func.count()).select_from(r).where(r.c.bouncing_since.is_not(None))
            ).scalar_one()
            recent = conn.execute(
                select(d.c.id, d.c.cause, d.c.recipient, d.c.status, d.c.attempts,
                       d.c.last_error, d.c.created_at, d.c.sent_at)
                .order_by(d.c.id.desc()).limit(limit)
            ).mappings().all()
        return DeliveryLog(
            counts=tuple(DeliveryCount(cause=c, status=s, count=n, retried=int(rt or 0))
                         for c, s, n, rt in counts),
            bouncing_addresses=int(bouncing),
            recent=tuple(
                {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in dict(x).items()}
                for x in recent
            ),
        )
