"""Mails to one person about their own doing at a town: sign-in links, replies, decided ideas.

Not subscriptions: queued at once (no quiet period, no digest), from the town's
participation as sender. The links a person asked for carry no unsubscribe header;
replies and decided ideas carry a one-click unsubscribe (RFC 8058) that stops them
for the address.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from services.notifications.adapters.mails import compose
from services.notifications.adapters.unit_of_work import UnitOfWork
from services.notifications.domain.errors import InvalidLink
from services.notifications.service_layer.context import Context, address_key, town_name, town_sender
from services.notifications.service_layer.delivery import queue_mail
from soesmart.contracts import (
    CitizenLinkRequested,
    CommentReplied,
    IdeaAccepted,
    IdeaDeclined,
    idea_measure_code,
)

log = logging.getLogger(__name__)

PERSONAL_CAUSES = ("comment_replied", "idea_accepted", "idea_declined")
CITIZEN_LINK_PATH = {"confirm_registration": "/stadt/{town}/bestaetigen?token={token}",
                     "sign_in": "/stadt/{town}/anmelden/link?token={token}"}


def on_citizen_link_requested(event: CitizenLinkRequested, uow: UnitOfWork, ctx: Context) -> bool:
    """Mail the confirmation or sign-in link a citizen asked for, at once; True if queued.

    A link that has expired is never sent, not even by a retry after it expired.
    """
    expires_at = event.expires_at if event.expires_at.tzinfo else event.expires_at.replace(tzinfo=UTC)
    email = event.email.lower()
    with uow:
        if not uow.claim(event):
            return False
        if expires_at <= ctx.now():
            log.info("link mail for %s not sent: the link expired at %s", event.town, expires_at)
            uow.commit()  # the event counts as handled: its link is gone for good
            return False
        path = CITIZEN_LINK_PATH[event.purpose].format(town=event.town,
                                                       token=quote(event.token, safe=""))
        mail = compose("citizen_link", event.language, purpose=event.purpose,
                       display_name=event.display_name, town_name=town_name(event.town),
                       link_url=ctx.links.url(path), expires=expires_at)
        queued = queue_mail(uow, ctx, f"{event.purpose}:{event.event_id}:{address_key(email)}",
                            event.purpose, email, mail, unsubscribe_url=None,
                            sender_name=town_sender(event.town), expires_at=expires_at,
                            town=event.town)
        uow.commit()
    return queued


def on_comment_replied(event: CommentReplied, uow: UnitOfWork, ctx: Context) -> bool:
    """Tell a citizen of a reply to their comment (they opted in at the town)."""
    email = event.recipient_email.lower()
    url = ctx.links.url
    with uow:
        if not uow.claim(event):
            return False
        unsubscribe_url = _unsubscribe_url(uow, ctx, email, event.recipient_language)
        if unsubscribe_url is None:
            uow.commit()  # the address stopped these mails
            return False
        mail = compose(
            "comment_replied", event.recipient_language, replier=event.replier_display_name,
            excerpt=event.excerpt, measure_title=event.measure_title, code=event.measure_code,
            measure_url=url(f"/massnahmen/{event.measure_code}"),
            settings_url=url(f"/stadt/{event.town}/meine-daten"),
            town_name=town_name(event.town),
        )
        queued = queue_mail(uow, ctx, f"comment_replied:{event.event_id}:{address_key(email)}",
                            "comment_replied", email, mail, unsubscribe_url=unsubscribe_url,
                            sender_name=town_sender(event.town), town=event.town)
        uow.commit()
    return queued


def on_idea_decided(event: IdeaAccepted | IdeaDeclined, uow: UnitOfWork, ctx: Context) -> bool:
    """Tell the author of an idea what the town decided (nobody, if they erased their data)."""
    if event.author_email is None:
        return False
    email = event.author_email.lower()
    url = ctx.links.url
    context: dict[str, Any] = dict(title=event.title, town_name=town_name(event.town),
                                   town_url=url(f"/stadt/{event.town}"))
    if isinstance(event, IdeaAccepted):
        kind, code = "idea_accepted", idea_measure_code(event.town, event.idea_id)
        context.update(note=event.note, code=code, measure_url=url(f"/massnahmen/{code}"))
    else:
        kind = "idea_declined"
        context.update(reason=event.reason)
    with uow:
        if not uow.claim(event):
            return False
        unsubscribe_url = _unsubscribe_url(uow, ctx, email, event.author_language)
        if unsubscribe_url is None:
            uow.commit()  # the address stopped these mails
            return False
        queued = queue_mail(uow, ctx, f"{kind}:{event.event_id}:{address_key(email)}", kind,
                            email, compose(kind, event.author_language, **context),
                            unsubscribe_url=unsubscribe_url, sender_name=town_sender(event.town),
                            town=event.town)
        uow.commit()
    return queued


def stop(recipient_id: str, uow: UnitOfWork, now: datetime) -> dict[str, Any]:
    """The one-click unsubscribe of a reply or idea mail: no more such mail to the address."""
    with uow:
        recipient = uow.subscriptions.recipient(recipient_id)
        if recipient is None:
            raise InvalidLink("Dieser Abmeldelink ist ungültig.")
        if recipient["personal_mails_stopped_at"] is None:
            uow.subscriptions.change_recipient(recipient_id, dict(personal_mails_stopped_at=now))
        uow.mails.drop_pending(recipient["email"], PERSONAL_CAUSES)  # at once, also what waits
        uow.commit()
    return {"scope_type": "personal", "scope_value": ""}


def _unsubscribe_url(uow: UnitOfWork, ctx: Context, email: str, language: str) -> str | None:
    """The unsubscribe link of a reply or idea mail; None if the address stopped them."""
    recipient = uow.subscriptions.recipients([email], language, ctx.now())[email]
    if recipient["personal_mails_stopped_at"] is not None:
        return None
    return ctx.links.url(f"/abo/abmelden?token={ctx.links.personal_mails_token(recipient['id'])}")
