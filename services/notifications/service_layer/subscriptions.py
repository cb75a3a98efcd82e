"""Subscriptions and consent: double opt-in, preferences, unsubscribing, consent given at a town."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from services.notifications.adapters.mails import compose, new_token, token_hash
from services.notifications.adapters.unit_of_work import UnitOfWork
from services.notifications.domain import consent, model
from services.notifications.domain.errors import InvalidLink, InvalidScope
from services.notifications.service_layer import personal_mails
from services.notifications.service_layer.context import Context, aware, town_name
from services.notifications.service_layer.delivery import CONFIRM_CAUSE, queue_mail
from soesmart.contracts import (
    CitizenFollowsMeasure,
    ConfirmSubscription,
    Preferences,
    Subscribe,
    SubscriptionAccepted,
    SubscriptionView,
    UpdatePreferences,
)
from soesmart.i18n import label
from soesmart.towns import UnknownTown, towns

CONFIRM_VALID_FOR = timedelta(hours=48)
RESEND_WINDOW = timedelta(minutes=10)
# Link mails of a town's registration: dropped when the citizen is erased before they go out.


def subscribe(cmd: Subscribe, uow: UnitOfWork, ctx: Context, measure_title: str = "",
              scope_title: str = "") -> SubscriptionAccepted:
    """Ask for consent by mail. The answer never reveals whether the address was known."""
    email = cmd.email.lower()
    scope_type, scope_value = cmd.scope_type.value, cmd.scope_value
    if scope_type == "town":
        try:
            towns().get(scope_value)
        except UnknownTown:
            raise InvalidScope(f"Die Stadt „{scope_value}“ gehört nicht zum Netzwerk.") from None
    now = ctx.now()
    with uow:
        row = uow.subscriptions.of_scope(email, scope_type, scope_value)
        if row is not None and row["status"] == "confirmed":
            return SubscriptionAccepted()
        sent_at = aware(row["confirmation_sent_at"]) if row else None
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
            uow.subscriptions.add(dict(id=sub_id, email=email, scope_type=scope_type,
                                       scope_value=scope_value, created_at=now, **values))
        else:
            sub_id = row["id"]
            uow.subscriptions.change(sub_id, values)
        title = scope_title or measure_title
        mail = compose(
            "confirm_subscription", cmd.language, scope_type=scope_type,
            scope_label=_scope_label(scope_type, scope_value, cmd.language, title),
            scope_value=scope_value, frequency=cmd.frequency.value,
            confirm_url=ctx.links.url(f"/abo/bestaetigen?token={token}"),
            expires=now + CONFIRM_VALID_FOR,
        )
        queue_mail(uow, ctx, f"confirm:{sub_id}:{token_hash(token)[:12]}", CONFIRM_CAUSE,
                   email, mail, unsubscribe_url=None)
        uow.commit()
    return SubscriptionAccepted()


def _scope_label(scope_type: str, scope_value: str, lang: str, title: str) -> str:
    if scope_type == "town":
        return towns().get(scope_value).name
    if scope_type == "field_of_action":
        return label("field_of_action", scope_value, lang)
    if scope_type == "region":
        return "Südwestfalen"
    return title or scope_value


def confirm(cmd: ConfirmSubscription, uow: UnitOfWork, ctx: Context) -> dict[str, Any]:
    """Record consent (time and scope); the address becomes a recipient that does not bounce."""
    now = ctx.now()
    with uow:
        row = uow.subscriptions.by_confirm_token(token_hash(cmd.token))
        expires = aware(row["confirm_expires_at"]) if row else None
        if row is None or row["status"] != "pending" or expires is None or expires < now:
            raise InvalidLink(
                "Dieser Bestätigungslink ist ungültig, abgelaufen oder wurde schon benutzt."
            )
        uow.subscriptions.change(row["id"], dict(
            status="confirmed", confirmed_at=now, confirm_token_hash=None, confirm_expires_at=None,
        ))
        uow.personal.record([dict(
            email=row["email"], subscription_id=row["id"],
            purpose=f"{row['scope_type']}:{row['scope_value']}", action=consent.GIVEN, at=now,
            channel="double-opt-in", source=row["consent_source"],
            text_version=consent.text_version("confirm_subscription", row["language"]))])
        recipient = uow.subscriptions.recipients([row["email"]], row["language"], now)[row["email"]]
        # Following a link from this mailbox shows the address receives mail again.
        uow.subscriptions.change_recipient(recipient["id"], dict(
            language=row["language"], bouncing_since=None, bounce_reason=None,
        ))
        uow.commit()
    return {"scope_type": row["scope_type"], "scope_value": row["scope_value"],
            "preferences_token": ctx.links.preferences_token(recipient["id"])}


def unsubscribe(token: str, uow: UnitOfWork, ctx: Context) -> dict[str, Any]:
    """One subscription (its own link) or all of an address (the link of a bundled mail)."""
    now = ctx.now()
    sub_id = ctx.links.signed_id(token, "unsubscribe")
    recipient_id = None if sub_id else ctx.links.signed_id(token, "unsubscribe-all")
    personal_id = None if sub_id or recipient_id else ctx.links.signed_id(token, "personal-mails")
    if personal_id is not None:
        return personal_mails.stop(personal_id, uow, now)
    if sub_id is None and recipient_id is None:
        raise InvalidLink("Dieser Abmeldelink ist ungültig.")
    with uow:
        if sub_id is not None:
            row = uow.subscriptions.by_id(sub_id)
            if row is None:
                raise InvalidLink("Dieser Abmeldelink ist ungültig.")
            uow.subscriptions.end([sub_id], now)
            uow.commit()
            return {"scope_type": row["scope_type"], "scope_value": row["scope_value"]}
        email = _recipient_email(uow, recipient_id)
        uow.subscriptions.end(uow.subscriptions.ids_of(email), now)
        uow.commit()
    return {"scope_type": "all", "scope_value": ""}


def _recipient_email(uow: UnitOfWork, recipient_id: str | None) -> str:
    email = uow.subscriptions.recipient_email(recipient_id)
    if email is None:
        raise InvalidLink("Dieser Link ist ungültig.")
    return email


def preferences(token: str, uow: UnitOfWork, ctx: Context) -> Preferences:
    recipient_id = ctx.links.signed_id(token, "preferences")
    if recipient_id is None:
        raise InvalidLink("Dieser Link zu Ihren Einstellungen ist ungültig.")
    with uow:
        rec = uow.subscriptions.recipient(recipient_id)
        if rec is None:
            raise InvalidLink("Dieser Link zu Ihren Einstellungen ist ungültig.")
        subs = uow.subscriptions.confirmed_of(rec["email"])
    return Preferences(
        email=rec["email"], language=rec["language"],
        subscriptions=tuple(
            SubscriptionView(id=x["id"], scope_type=x["scope_type"], scope_value=x["scope_value"],
                             frequency=x["frequency"], confirmed_at=aware(x["confirmed_at"]))
            for x in subs
        ),
    )


def update_preferences(cmd: UpdatePreferences, uow: UnitOfWork, ctx: Context) -> Preferences:
    """Change language, frequencies and subscriptions of one address; returns its preferences."""
    recipient_id = ctx.links.signed_id(cmd.token, "preferences")
    if recipient_id is None:
        raise InvalidLink("Dieser Link zu Ihren Einstellungen ist ungültig.")
    now = ctx.now()
    with uow:
        email = _recipient_email(uow, recipient_id)
        own = set(uow.subscriptions.ids_of(email))
        if not (set(cmd.frequencies) | set(cmd.unsubscribe)) <= own:
            # Another address's subscription: refuse the whole change, touch nothing.
            raise InvalidLink("Diese Änderung gehört nicht zu diesem Link.")
        if cmd.language:
            uow.subscriptions.set_language(email, cmd.language)
        for sub_id, frequency in cmd.frequencies.items():
            uow.subscriptions.change(sub_id, dict(frequency=frequency.value))
            # Waiting news follows the new choice.
            uow.items.reschedule(sub_id, frequency.value, now + ctx.batch_wait)
        ended = sorted(own) if cmd.unsubscribe_all else list(cmd.unsubscribe)
        uow.subscriptions.end(ended, now, channel="preferences")
        uow.commit()
    return preferences(cmd.token, uow, ctx)  # read after the commit, as the caller will


def on_citizen_follows_measure(event: CitizenFollowsMeasure, uow: UnitOfWork, ctx: Context) -> bool:
    """A confirmed subscription to the measure, from consent given at the town; True if added.

    Never overrides a choice: an address that has any subscription of that scope
    (also one it ended) or that bounces keeps what it has, and no mail is sent.
    """
    email = event.email.lower()
    now = ctx.now()
    with uow:
        if not uow.claim(event):
            return False
        if (uow.subscriptions.is_bouncing(email)
                or uow.subscriptions.has_scope(email, "measure", event.measure_code)
                or uow.personal.is_suppressed(consent.address_hash(ctx.links.secret_key, email))):
            uow.commit()  # the event counts as handled
            return False
        consent_text = (f"bewertet in {town_name(event.town)}; "
                        "Einwilligung mit der bestätigten Registrierung")
        if not uow.subscriptions.add_if_absent(dict(
                id=str(uuid.uuid4()), email=email, scope_type="measure",
                scope_value=event.measure_code, language=event.language,
                status="confirmed", frequency=model.IMMEDIATE, created_at=now,
                confirmed_at=aware(event.occurred_at), consent_source=consent_text)):
            uow.commit()
            return False  # added concurrently
        sub = uow.subscriptions.of_scope(email, "measure", event.measure_code)
        uow.personal.record([dict(
            email=email, subscription_id=sub["id"] if sub else None,
            purpose=f"measure:{event.measure_code}", action=consent.GIVEN,
            at=aware(event.occurred_at), channel="registration", source=consent_text,
            text_version=f"{event.town}/follow_rated")])
        uow.subscriptions.recipients([email], event.language, now)
        uow.commit()
    return True
