"""Use cases of the notifications service: consent, fan-out of events into mails, delivery."""

from __future__ import annotations

import logging
import threading
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, and_, insert, select, update
from sqlalchemy.exc import IntegrityError

from services.notifications.adapters import tables as t
from services.notifications.adapters.mail import (
    MailTransport,
    PermanentMailFailure,
    TemporaryMailFailure,
    transport_from_settings,
)
from services.notifications.adapters.mails import (
    ComposedMail,
    build_message,
    compose,
    new_token,
    sign,
    token_hash,
    verify,
)
from soesmart.config import Settings
from soesmart.contracts import (
    ConfirmSubscription,
    MeasureStatusChanged,
    Subscribe,
    SubscriptionAccepted,
)
from soesmart.i18n import label
from soesmart.messaging.outbox import claim_event
from soesmart.storage import make_engine, migrate

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
CONFIRM_VALID_FOR = timedelta(hours=48)
RESEND_WINDOW = timedelta(minutes=10)
MAX_ATTEMPTS = 8
SENDER_NAME = "Bürgerbeteiligung 5 für Südwestfalen"


class NotificationError(Exception):
    code = "NOTIFICATION_ERROR"


class InvalidLink(NotificationError):
    code = "INVALID_LINK"


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes; everything stored is UTC.
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


class NotificationsApp:
    def __init__(
        self,
        settings: Settings,
        engine: Engine | None = None,
        transport: MailTransport | None = None,
    ) -> None:
        self.settings = settings
        self.engine = engine or make_engine(settings.database_url_for("notifications"))
        migrate(self.engine, MIGRATIONS)
        self.transport = transport or transport_from_settings(settings.smtp_url, settings.mail_dir)
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self.poll_interval = 0.5

    def background_loops(self) -> list:
        return [self.run_sender]

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()

    # ------------------------------------------------------------------ links
    def _url(self, path: str) -> str:
        return self.settings.public_url.rstrip("/") + path

    def unsubscribe_token(self, subscription_id: str) -> str:
        return f"{subscription_id}.{sign(self.settings.secret_key, 'unsubscribe', subscription_id)}"

    # ------------------------------------------------------------------ consent
    def subscribe(self, cmd: Subscribe, measure_title: str) -> SubscriptionAccepted:
        """Ask for consent by mail. The answer never reveals whether the address was known."""
        email = cmd.email.lower()
        s = t.subscriptions
        now = _now()
        with self.engine.begin() as conn:
            row = conn.execute(
                select(s).where(
                    s.c.email == email, s.c.scope_type == "measure",
                    s.c.scope_value == cmd.measure_code,
                ).with_for_update()
            ).mappings().first()
            if row is not None and row["status"] == "confirmed":
                return SubscriptionAccepted()
            sent_at = _aware(row["confirmation_sent_at"]) if row else None
            if sent_at is not None and now - sent_at < RESEND_WINDOW:
                return SubscriptionAccepted()
            token = new_token()
            values = dict(
                language=cmd.language, status="pending", confirm_token_hash=token_hash(token),
                confirm_expires_at=now + CONFIRM_VALID_FOR, confirmation_sent_at=now,
            )
            if row is None:
                sub_id = str(uuid.uuid4())
                conn.execute(
                    insert(s).values(
                        id=sub_id, email=email, scope_type="measure",
                        scope_value=cmd.measure_code, created_at=now, **values,
                    )
                )
            else:
                sub_id = row["id"]
                conn.execute(update(s).where(s.c.id == sub_id).values(**values))
            mail = compose(
                "confirm_subscription", cmd.language, measure_title=measure_title,
                measure_code=cmd.measure_code,
                confirm_url=self._url(f"/abo/bestaetigen?token={token}"),
                expires=(now + CONFIRM_VALID_FOR).strftime("%d.%m.%Y %H:%M UTC"),
            )
            self._queue(conn, f"confirm:{sub_id}:{token_hash(token)[:12]}", "confirm_subscription",
                        email, mail, unsubscribe_url=None)
        self._wake.set()
        return SubscriptionAccepted()

    def confirm(self, cmd: ConfirmSubscription) -> dict[str, Any]:
        s = t.subscriptions
        now = _now()
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
        return {"scope_type": row["scope_type"], "scope_value": row["scope_value"]}

    def unsubscribe(self, token: str) -> dict[str, Any]:
        sub_id, _, signature = (token or "").partition(".")
        if not verify(self.settings.secret_key, "unsubscribe", sub_id, signature):
            raise InvalidLink("Dieser Abmeldelink ist ungültig.")
        s = t.subscriptions
        with self.engine.begin() as conn:
            row = conn.execute(select(s).where(s.c.id == sub_id)).mappings().first()
            if row is None:
                raise InvalidLink("Dieser Abmeldelink ist ungültig.")
            if row["status"] != "unsubscribed":
                conn.execute(
                    update(s).where(s.c.id == sub_id).values(
                        status="unsubscribed", unsubscribed_at=_now()
                    )
                )
        return {"scope_type": row["scope_type"], "scope_value": row["scope_value"]}

    # ------------------------------------------------------------------ fan-out
    def on_measure_status_changed(self, event: MeasureStatusChanged) -> int:
        """Queue one mail per confirmed subscriber; returns how many were queued."""
        s = t.subscriptions
        queued = 0
        with self.engine.begin() as conn:
            if not claim_event(conn, t.processed_events, event):
                return 0
            subscribers = conn.execute(
                select(s.c.id, s.c.email, s.c.language).where(
                    s.c.scope_type == "measure", s.c.scope_value == event.code,
                    s.c.status == "confirmed",
                )
            ).all()
            for sub_id, email, lang in subscribers:
                unsubscribe_url = self._url(f"/abo/abmelden?token={self.unsubscribe_token(sub_id)}")
                mail = compose(
                    "measure_status_changed", lang, title=event.title, code=event.code,
                    old_status=label("status", event.old_status, lang),
                    new_status=label("status", event.new_status, lang),
                    progress=event.progress, note=event.note,
                    measure_url=self._url(f"/massnahmen/{event.code}"),
                    unsubscribe_url=unsubscribe_url,
                )
                if self._queue(conn, f"{event.event_id}:{email}", "measure_status_changed",
                               email, mail, unsubscribe_url):
                    queued += 1
        if queued:
            self._wake.set()
        return queued

    def _queue(self, conn: Connection, key: str, cause: str, recipient: str, mail: Any,
               unsubscribe_url: str | None) -> bool:
        try:
            with conn.begin_nested():
                conn.execute(
                    insert(t.deliveries).values(
                        idempotency_key=key, cause=cause, recipient=recipient,
                        subject=mail.subject, text_body=mail.text, html_body=mail.html,
                        unsubscribe_url=unsubscribe_url, status="pending", attempts=0,
                        next_attempt_at=_now(), created_at=_now(),
                    )
                )
        except IntegrityError:
            return False  # already queued for this cause and recipient
        return True

    # ------------------------------------------------------------------ delivery
    def send_due(self, limit: int = 200) -> int:
        """Send the mails that are due; returns how many were handed to the transport."""
        d = t.deliveries
        with self.engine.connect() as conn:
            due = conn.execute(
                select(d)
                .where(and_(d.c.status == "pending", d.c.next_attempt_at <= _now()))
                .order_by(d.c.id)
                .limit(limit)
            ).mappings().all()
        sent = 0
        for row in due:
            message = build_message(
                sender_name=SENDER_NAME, sender_address=self.settings.mail_from,
                recipient=row["recipient"],
                mail=ComposedMail(row["subject"], row["text_body"] or "", row["html_body"] or ""),
                unsubscribe_url=row["unsubscribe_url"],
                unsubscribe_post_url=(
                    row["unsubscribe_url"].replace("/abo/abmelden", "/abo/abmelden/one-click")
                    if row["unsubscribe_url"] else None
                ),
            )
            try:
                self.transport.send(message)
            except TemporaryMailFailure as exc:
                self._record_failure(row, str(exc), permanent=False)
                continue
            except PermanentMailFailure as exc:
                self._record_failure(row, str(exc), permanent=True)
                continue
            with self.engine.begin() as conn:
                # The body is not kept once the mail is out (data minimisation).
                conn.execute(
                    update(d).where(d.c.id == row["id"]).values(
                        status="sent", sent_at=_now(), attempts=row["attempts"] + 1,
                        text_body=None, html_body=None,
                    )
                )
            sent += 1
        return sent

    def _record_failure(self, row: Any, error: str, permanent: bool) -> None:
        attempts = row["attempts"] + 1
        give_up = permanent or attempts >= MAX_ATTEMPTS
        delay = timedelta(seconds=min(2 ** attempts, 3600))
        with self.engine.begin() as conn:
            conn.execute(
                update(t.deliveries).where(t.deliveries.c.id == row["id"]).values(
                    status="failed" if give_up else "pending", attempts=attempts,
                    last_error=error[:1000], next_attempt_at=_now() + delay,
                )
            )
        log.warning("mail to %s %s: %s", row["recipient"],
                    "failed permanently" if give_up else "deferred", error)

    def run_sender(self) -> None:
        while not self._stopping.is_set():
            try:
                sent = self.send_due()
            except Exception:
                log.exception("sending mail failed; trying again")
                sent = 0
            if not sent:
                self._wake.wait(self.poll_interval)
                self._wake.clear()
        self.transport.close()

    def delivery_log(self) -> list[dict[str, Any]]:
        d = t.deliveries
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(d.c.id, d.c.cause, d.c.recipient, d.c.status, d.c.attempts,
                       d.c.last_error, d.c.created_at, d.c.sent_at).order_by(d.c.id.desc()).limit(500)
            ).mappings().all()
        return [dict(r) for r in rows]

