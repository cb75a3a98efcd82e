"""Citizens: registration with double opt-in, sign-in by mailed link, "Meine Daten", erasure.

No password: a citizen proves their address with single-use links whose tokens go
out only in the `CitizenLinkRequested` event (the notifications service mails them).
"""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime, timedelta

from sqlalchemy import RowMapping
from sqlalchemy.exc import IntegrityError

from services.participation.adapters.erasure import forget_address
from services.participation.adapters.rate_limits import Check, address_bucket
from services.participation.adapters.rows import aware
from services.participation.adapters.unit_of_work import UnitOfWork
from services.participation.domain.model import (
    LINK_INVALID_MESSAGE,
    Limit,
    Link,
    LinkInvalid,
    check_postcode,
    email_key,
    token_hash,
)
from services.participation.service_layer import wire
from soesmart.contracts import (
    CitizenConfirmed,
    CitizenErased,
    CitizenLinkRequested,
    CitizenSession,
    CitizenView,
    LinkSent,
    RedeemLink,
    RegisterCitizen,
    RequestSignIn,
    UpdateCitizen,
)
from soesmart.towns import towns

CONFIRM_LINK_VALID = timedelta(hours=24)
SIGN_IN_LINK_VALID = timedelta(minutes=30)
HOUR = 3600.0


def register_citizen(cmd: RegisterCitizen, uow: UnitOfWork) -> LinkSent:
    """Register (double opt-in). The answer is the same whether the address is new,
    waiting for confirmation (a fresh link) or confirmed (a sign-in link instead)."""
    town = uow.instance.town
    other = towns().for_postcode(cmd.postcode)
    check_postcode(cmd.postcode, town.slug, town.name, town.postcodes,
                   (other.slug, other.name) if other else None)
    try:
        _register(cmd, uow)
    except IntegrityError:  # the same new address twice at once: the second finds the first
        _register(cmd, uow)
    return LinkSent()


def _register(cmd: RegisterCitizen, uow: UnitOfWork) -> None:
    now, key = uow.instance.now(), email_key(cmd.email)
    with uow:
        checks = _link_limits(uow, key, cmd.client)
        uow.rate_limits.check(checks, now)
        row = uow.citizens.by_email_key(key, lock=True)
        values = dict(postcode=cmd.postcode, display_name=cmd.display_name, language=cmd.language,
                      notify_replies=cmd.notify_replies, follow_rated=cmd.follow_rated)
        if row is None:
            cid = str(uuid.uuid4())
            uow.citizens.add(cid, email=cmd.email, email_key=key, registered_at=now, **values)
            _send_link(uow, uow.citizens.get(cid), "confirm_registration", now)
        elif row["confirmed_at"] is None:
            # not yet anyone's account: the latest registration's details count
            uow.citizens.change(row["id"], email=cmd.email, **values)
            _send_link(uow, uow.citizens.get(row["id"]), "confirm_registration", now)
        else:
            _send_link(uow, row, "sign_in", now)
        uow.rate_limits.record(checks, now)
        uow.commit()


def request_sign_in(cmd: RequestSignIn, uow: UnitOfWork) -> LinkSent:
    """A sign-in link by mail; for an unknown address the same answer and no mail."""
    now, key = uow.instance.now(), email_key(cmd.email)
    with uow:
        checks = _link_limits(uow, key, cmd.client)
        uow.rate_limits.check(checks, now)
        row = uow.citizens.by_email_key(key)
        if row is not None:
            purpose = "sign_in" if row["confirmed_at"] is not None else "confirm_registration"
            _send_link(uow, row, purpose, now)
        uow.rate_limits.record(checks, now)
        uow.commit()
    return LinkSent()


def _link_limits(uow: UnitOfWork, key: str, client: str | None) -> list[Check]:
    s = uow.instance.settings
    checks: list[Check] = [(address_bucket("link", key), Limit(s.limit_links_per_address, HOUR),
                            "E-Mail-Links an diese Adresse")]
    if client:
        checks.append((f"link:client:{client}", Limit(s.limit_links_per_client, HOUR),
                       "E-Mail-Links von Ihrem Anschluss"))
    return checks


def _send_link(uow: UnitOfWork, citizen: RowMapping, purpose: str, now: datetime) -> bool:
    """A new single-use link by mail, unless one of its kind went out a moment ago."""
    last = uow.links.last_sent(citizen["id"], purpose)
    if last is not None and now - last < timedelta(seconds=uow.instance.settings.link_resend_seconds):
        return False
    token = secrets.token_urlsafe(32)
    expires_at = now + (CONFIRM_LINK_VALID if purpose == "confirm_registration" else SIGN_IN_LINK_VALID)
    uow.links.add(token_hash(token), citizen["id"], purpose, now, expires_at)
    uow.add_events([CitizenLinkRequested(
        source=uow.instance.source, town=uow.instance.town.slug, purpose=purpose,  # type: ignore[arg-type]
        email=citizen["email"], display_name=citizen["display_name"],
        language=citizen["language"], token=token, expires_at=expires_at,
    )])
    return True


def confirm_citizen(cmd: RedeemLink, uow: UnitOfWork) -> CitizenSession:
    return _redeem(cmd.token, "confirm_registration", uow)


def redeem_sign_in(cmd: RedeemLink, uow: UnitOfWork) -> CitizenSession:
    return _redeem(cmd.token, "sign_in", uow)


def _redeem(token: str, purpose: str, uow: UnitOfWork) -> CitizenSession:
    now, digest, instance = uow.instance.now(), token_hash(token), uow.instance
    with uow:
        link = uow.links.get(digest)
        if link is None:
            raise LinkInvalid(LINK_INVALID_MESSAGE, [{"field": "token", "problem": "invalid"}])
        citizen = uow.citizens.get(link["citizen_id"])
        Link(link["purpose"], aware(link["expires_at"]), link["used_at"],
             citizen["erased_at"] is not None).check_redeemable(purpose, now)
        if not uow.links.use(digest, now):  # redeemed by a concurrent request
            raise LinkInvalid(LINK_INVALID_MESSAGE, [{"field": "token", "problem": "invalid"}])
        confirmed = citizen["confirmed_at"] is not None
        if purpose == "confirm_registration" and not confirmed:
            uow.citizens.change(citizen["id"], confirmed_at=now)
            uow.add_events([CitizenConfirmed(source=instance.source, town=instance.town.slug,
                                             citizen_id=uuid.UUID(citizen["id"]))])
            confirmed = True
        uow.commit()
    return CitizenSession(citizen_id=citizen["id"], town=instance.town.slug,
                          display_name=citizen["display_name"], confirmed=confirmed)


def citizen_session(citizen_id: uuid.UUID | str, uow: UnitOfWork) -> CitizenSession:
    with uow:
        row = uow.citizens.live(citizen_id)
    return CitizenSession(citizen_id=row["id"], town=uow.instance.town.slug,
                          display_name=row["display_name"], confirmed=row["confirmed_at"] is not None)


def get_citizen(citizen_id: uuid.UUID | str, uow: UnitOfWork) -> CitizenView:
    """"Meine Daten": everything stored about one citizen."""
    with uow:
        row = uow.citizens.live(citizen_id)
        comments = uow.citizens.comments_of(row["id"])
        ideas = uow.citizens.ideas_of(row["id"])
        ratings = uow.ratings.of_citizen(row["id"], None)
    return wire.citizen_view(uow.instance.town.slug, row, ratings, comments, ideas)


def update_citizen(cmd: UpdateCitizen, uow: UnitOfWork) -> CitizenView:
    changes = cmd.model_dump(exclude_none=True, exclude={"citizen_id"})
    with uow:
        row = uow.citizens.live(cmd.citizen_id)
        if changes:
            uow.citizens.change(row["id"], **changes)
        uow.commit()
    return get_citizen(cmd.citizen_id, uow)


def erase_citizen(citizen_id: uuid.UUID | str, uow: UnitOfWork,
                  address_erased_elsewhere: bool = False) -> dict[str, bool]:
    """Remove every personal detail; ratings, comments and ideas stay, by an anonymous author.

    The address is gone from this instance (also from its published events and its
    rate limits), so it is never mailed again from here; its unused links stop working.
    `CitizenErased` (same commit) has the notifications service erase the address; when
    the caller had it erased there already (`address_erased_elsewhere`), the event
    carries no address, so none stays behind in this outbox.
    """
    with uow:
        row = uow.citizens.live(citizen_id)
        uow.citizens.erase(row["id"], uow.instance.now())
        if row["email"]:
            forget_address(uow.connection, row["email_key"] or row["email"].lower())
            # Only a confirmed address is this person's to erase elsewhere: anyone can
            # register someone else's address without confirming it.
            keep = row["confirmed_at"] is not None and not address_erased_elsewhere
            uow.add_events([CitizenErased(source=uow.instance.source,
                                          town=uow.instance.town.slug,
                                          email=row["email"] if keep else None)])
        uow.commit()
    return {"erased": True}
