"""The mail queue: mails go in once per cause and address, out through the transport, into the log.

A mail is queued in the transaction of its cause; `send_due` hands due mails to
the transport and records the outcome. A failure is tried again with backoff,
given up after MAX_ATTEMPTS or at once when permanent; a permanent failure marks
the address as bouncing.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

from services.notifications.adapters.mail import (
    MailTransport,
    PermanentMailFailure,
    TemporaryMailFailure,
)
from services.notifications.adapters.mails import ComposedMail, render_raw
from services.notifications.adapters.unit_of_work import UnitOfWork
from services.notifications.service_layer.context import REGION_SENDER, Context, aware
from services.notifications.service_layer.sent_marks import SentMarks
from soesmart.contracts import DeliveryCount, DeliveryLog

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
CONFIRM_CAUSE = "confirm_subscription"
# Mails a person has just asked for: sent even to an address marked as bouncing (asking
# again is how an address shows it receives mail again), never with an unsubscribe header.
TRANSACTIONAL_CAUSES = frozenset({CONFIRM_CAUSE, "confirm_registration", "sign_in"})

NewUnitOfWork = Callable[[], UnitOfWork]


def delivery_row(ctx: Context, key: str, cause: str, recipient: str, mail: ComposedMail,
                 unsubscribe_url: str | None, sender_name: str | None = None,
                 expires_at: datetime | None = None) -> dict[str, Any]:
    """A mail as the queue keeps it; `key` (cause and address) makes it unique."""
    now = ctx.now()
    return dict(idempotency_key=key, cause=cause, recipient=recipient, subject=mail.subject,
                text_body=mail.text, html_body=mail.html, unsubscribe_url=unsubscribe_url,
                status="pending", attempts=0, next_attempt_at=now, created_at=now,
                sender_name=sender_name, expires_at=expires_at)


def queue_mail(uow: UnitOfWork, ctx: Context, key: str, cause: str, recipient: str,
               mail: ComposedMail, unsubscribe_url: str | None, sender_name: str | None = None,
               expires_at: datetime | None = None) -> bool:
    """Queue one mail in the unit of work; False if it is queued already."""
    return uow.mails.add(delivery_row(ctx, key, cause, recipient, mail, unsubscribe_url,
                                      sender_name, expires_at))


def send_due(new_uow: NewUnitOfWork, ctx: Context, transports: list[MailTransport],
             marks: SentMarks, limit: int = 500) -> int:
    """Send the mails that are due; returns how many were handed to the transport.

    Each connection takes the next due row in turn; accepted mails are recorded
    in small batches (`SentMarks`), all of them before this returns.
    """
    # Marks a failed round could not write go first: those mails are out already.
    marks.flush()
    with new_uow() as uow:
        due = uow.mails.due(ctx.now(), limit)
    rows = iter(due)
    try:
        if len(transports) == 1 or len(due) < 2:
            return _send_rows(new_uow, ctx, transports[0], marks, rows)
        # Threads are green threads in the service process (eventlet patches them):
        # while the server works on one connection's mail, the next is prepared.
        with ThreadPoolExecutor(len(transports)) as pool:
            return sum(pool.map(lambda tr: _send_rows(new_uow, ctx, tr, marks, rows), transports))
    finally:
        marks.flush()


def mark_sent(new_uow: NewUnitOfWork, ctx: Context, ids: list[int]) -> None:
    """Record mails the server accepted (the `SentMarks` write)."""
    with new_uow() as uow:
        uow.mails.mark_sent(ids, ctx.now())
        uow.commit()


def _send_rows(new_uow: NewUnitOfWork, ctx: Context, transport: MailTransport, marks: SentMarks,
               due: Iterator[Any]) -> int:
    sent = 0
    mail_from = ctx.mail_from
    for row in due:
        if row["bouncing_since"] is not None and row["cause"] not in TRANSACTIONAL_CAUSES:
            _record_failure(new_uow, ctx, row, "not sent: the address bounces", permanent=True)
            continue
        expires_at = aware(row["expires_at"])
        if expires_at is not None and expires_at <= ctx.now():
            _record_failure(new_uow, ctx, row, "not sent: its link has expired", permanent=True)
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
            message_id=_message_id(mail_from, row["idempotency_key"]),
        )
        try:
            transport.send_raw(mail_from, row["recipient"], data)
        except TemporaryMailFailure as exc:
            _record_failure(new_uow, ctx, row, str(exc), permanent=False)
            continue
        except PermanentMailFailure as exc:
            _record_failure(new_uow, ctx, row, str(exc), permanent=True, bounced=True)
            continue
        marks.add(row["id"])
        sent += 1
    return sent


def _message_id(mail_from: str, idempotency_key: str) -> str:
    # Stable per delivery: if the process dies between the server's "250 OK" and our
    # commit, the mail is sent again with the same Message-ID, which mail clients
    # treat as the same message (SMTP cannot join our transaction).
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:40]
    return f"<{digest}@{mail_from.rsplit('@', 1)[-1]}>"


def _record_failure(new_uow: NewUnitOfWork, ctx: Context, row: Any, error: str, permanent: bool,
                    bounced: bool = False) -> None:
    attempts = row["attempts"] + 1
    give_up = permanent or attempts >= MAX_ATTEMPTS
    delay = timedelta(seconds=min(2 ** attempts, 3600))
    now = ctx.now()
    with new_uow() as uow:
        uow.mails.change(row["id"], dict(
            status="failed" if give_up else "pending", attempts=attempts,
            last_error=error[:1000], next_attempt_at=now + delay,
            text_body=None if give_up else row["text_body"],
            html_body=None if give_up else row["html_body"],
        ))
        if bounced:
            # No further mail to an address the receiving server refuses for good.
            rec = uow.subscriptions.recipients([row["recipient"]], "de", now)[row["recipient"]]
            uow.subscriptions.change_recipient(rec["id"], dict(bouncing_since=now,
                                                               bounce_reason=error[:1000]))
        uow.commit()
    log.warning("mail to %s %s: %s", row["recipient"],
                "failed permanently" if give_up else "deferred", error)


def delivery_log(uow: UnitOfWork, limit: int = 100) -> DeliveryLog:
    with uow:
        counts = uow.mails.counts()
        bouncing = uow.mails.bouncing_addresses()
        recent = uow.mails.recent(limit)
    return DeliveryLog(
        counts=tuple(DeliveryCount(cause=c, status=s, count=n, retried=int(rt or 0))
                     for c, s, n, rt in counts),
        bouncing_addresses=bouncing,
        recent=tuple(
            {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in dict(x).items()}
            for x in recent
        ),
    )
