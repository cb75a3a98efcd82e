"""The mail queue: mails go in once per cause and address, out through the transport, into the log.

A mail is queued in the transaction of its cause; `send_due` hands due mails to
the transport and records the outcome. A temporary failure is tried again at
growing intervals for the retry window (`RetryPolicy`), a server that asks for
fewer mails holds back its whole domain without failing a mail, and a permanent
refusal of the address marks it as bouncing, with the server's reply as reason.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from services.notifications.adapters.legal_footer import with_legal_footer
from services.notifications.adapters.mail import (
    MailTransport,
    PermanentMailFailure,
    ServerBusy,
    TemporaryMailFailure,
)
from services.notifications.adapters.mail_routes import MailRoutes
from services.notifications.adapters.mails import ComposedMail, render_raw
from services.notifications.adapters.unit_of_work import UnitOfWork
from services.notifications.domain.retry import DomainBackoff, domain_of
from services.notifications.service_layer.context import REGION_SENDER, Context, aware
from services.notifications.service_layer.sent_marks import SentMarks
from soesmart.contracts import DeliveryCount, DeliveryLog

log = logging.getLogger(__name__)

CONFIRM_CAUSE = "confirm_subscription"
# Mails a person has just asked for: sent even to an address marked as bouncing (asking
# again is how an address shows it receives mail again), never with an unsubscribe header.
TRANSACTIONAL_CAUSES = frozenset({CONFIRM_CAUSE, "confirm_registration", "sign_in"})
MAX_LANES = 32  # connections side by side over all servers in one sending round

NewUnitOfWork = Callable[[], UnitOfWork]


def delivery_row(ctx: Context, key: str, cause: str, recipient: str, mail: ComposedMail,
                 unsubscribe_url: str | None, sender_name: str | None = None,
                 expires_at: datetime | None = None, town: str | None = None) -> dict[str, Any]:
    """A mail as the queue keeps it; `key` (cause and address) makes it unique.

    Every mail gets the legal footer of `town` (None: the region) here, so none goes
    out without naming who is responsible.
    """
    now = ctx.now()
    mail = with_legal_footer(mail, ctx.links.public_url, town)
    return dict(idempotency_key=key, cause=cause, recipient=recipient, subject=mail.subject,
                text_body=mail.text, html_body=mail.html, unsubscribe_url=unsubscribe_url,
                status="pending", attempts=0, next_attempt_at=now, created_at=now,
                sender_name=sender_name, expires_at=expires_at)


def queue_mail(uow: UnitOfWork, ctx: Context, key: str, cause: str, recipient: str,
               mail: ComposedMail, unsubscribe_url: str | None, sender_name: str | None = None,
               expires_at: datetime | None = None, town: str | None = None) -> bool:
    """Queue one mail in the unit of work; False if it is queued already."""
    return uow.mails.add(delivery_row(ctx, key, cause, recipient, mail, unsubscribe_url,
                                      sender_name, expires_at, town=town))


def send_due(new_uow: NewUnitOfWork, ctx: Context, routes: MailRoutes, marks: SentMarks,
             backoff: DomainBackoff, limit: int = 500) -> int:
    """Send the mails that are due; returns how many were handed to the transport.

    Mails are grouped by the server their domain goes to; up to `routes.connections`
    connections per server take the next due row of their server in turn. Accepted
    mails are recorded in small batches (`SentMarks`), all of them before this returns.
    """
    # Marks a failed round could not write go first: those mails are out already.
    marks.flush()
    with new_uow() as uow:
        due = uow.mails.due(ctx.now(), limit)
    by_route: dict[str, list[Any]] = {}
    for row in due:
        by_route.setdefault(routes.route_of(domain_of(row["recipient"])), []).append(row)
    held: set[str] = set()  # domains that said "busy" in this round: their rows wait
    lanes = [(routes.transport(route, lane), shared)
             for route, rows in by_route.items()
             for shared in [iter(rows)]
             for lane in range(min(routes.connections, len(rows)))][:MAX_LANES]
    sender = _Sender(new_uow, ctx, marks, backoff, held)
    try:
        if len(lanes) <= 1:
            return sum(sender.send(transport, rows) for transport, rows in lanes)
        # Threads are green threads in the service process (eventlet patches them):
        # while a server works on one connection's mail, the next is prepared.
        with ThreadPoolExecutor(len(lanes)) as pool:
            return sum(pool.map(lambda lane: sender.send(*lane), lanes))
    finally:
        marks.flush()


def mark_sent(new_uow: NewUnitOfWork, ctx: Context, ids: list[int]) -> None:
    """Record mails the server accepted (the `SentMarks` write)."""
    with new_uow() as uow:
        uow.mails.mark_sent(ids, ctx.now())
        uow.commit()


class _Sender:
    """One sending round: hands rows to transports and records what became of each."""

    def __init__(self, new_uow: NewUnitOfWork, ctx: Context, marks: SentMarks,
                 backoff: DomainBackoff, held: set[str]) -> None:
        self.new_uow, self.ctx, self.marks = new_uow, ctx, marks
        self.backoff, self.held = backoff, held

    def send(self, transport: MailTransport, due: Iterator[Any]) -> int:
        sent = 0
        for row in due:
            domain = domain_of(row["recipient"])
            if domain in self.held:
                continue  # its next try was moved when the domain said it is busy
            if row["bouncing_since"] is not None and row["cause"] not in TRANSACTIONAL_CAUSES:
                self.failed(row, "not sent: the address bounces", give_up=True)
                continue
            expires_at = aware(row["expires_at"])
            if expires_at is not None and expires_at <= self.ctx.now():
                self.failed(row, "not sent: its link has expired", give_up=True)
                continue
            try:
                transport.send_raw(self.ctx.mail_from, row["recipient"], self.rendered(row))
            except ServerBusy as exc:
                self.busy(row, domain, str(exc))
            except TemporaryMailFailure as exc:
                self.failed(row, str(exc))
            except PermanentMailFailure as exc:
                self.failed(row, str(exc), give_up=True, bounced=exc.bounce)
            else:
                self.marks.add(row["id"])
                self.backoff.delivered(domain)
                sent += 1
        return sent

    def rendered(self, row: Any) -> bytes:
        mail_from = self.ctx.mail_from
        url = row["unsubscribe_url"]
        data = render_raw(
            sender_name=row["sender_name"] or REGION_SENDER,
            sender_address=mail_from,
            recipient=row["recipient"],
            mail=ComposedMail(row["subject"], row["text_body"] or "", row["html_body"] or ""),
            unsubscribe_url=url,
            unsubscribe_post_url=url.replace("/abo/abmelden", "/abo/abmelden/one-click")
            if url else None,
            message_id=_message_id(mail_from, row["idempotency_key"]),
        )
        return self.ctx.sign(data) if self.ctx.sign else data

    def busy(self, row: Any, domain: str, error: str) -> None:
        """The domain waits (all its pending mails), this mail with it; none fails."""
        self.held.add(domain)
        now = self.ctx.now()
        until = now + self.ctx.retry.throttle_delay(self.backoff.busy(domain))
        with self.new_uow() as uow:
            uow.mails.hold_domain(domain, until)
            uow.commit()
        self.failed(row, error, next_try=until)

    def failed(self, row: Any, error: str, give_up: bool = False, bounced: bool = False,
               next_try: datetime | None = None) -> None:
        attempts = row["attempts"] + 1
        now = self.ctx.now()
        retry = self.ctx.retry
        next_try = next_try or now + retry.delay(attempts)
        queued_at = aware(row["created_at"]) or now
        expires_at = aware(row["expires_at"])
        if not give_up and expires_at is not None and next_try >= expires_at:
            give_up, error = True, f"given up: its link will have expired by the next try: {error}"
        elif not give_up and retry.gives_up(queued_at, next_try):
            give_up, error = True, f"given up after {now - queued_at}: {error}"
        with self.new_uow() as uow:
            uow.mails.change(row["id"], dict(
                status="failed" if give_up else "pending", attempts=attempts,
                last_error=error[:1000], next_attempt_at=next_try,
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


def _message_id(mail_from: str, idempotency_key: str) -> str:
    # Stable per delivery: if the process dies between the server's "250 OK" and our
    # commit, the mail is sent again with the same Message-ID, which mail clients
    # treat as the same message (SMTP cannot join our transaction).
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:40]
    return f"<{digest}@{mail_from.rsplit('@', 1)[-1]}>"


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
