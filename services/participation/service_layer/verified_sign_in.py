"""Citizens who sign in with an identity an OpenID provider verified (ServiceKonto / BundID style).

The same person is found again by the keyed hash of their subject at the provider;
a first sign-in with an email the provider vouches for joins an account registered
by mail with that address, or makes a new one, confirmed at once. An email the
provider does not vouch for gets the usual confirmation link. The trust level the
provider stated is kept with the account, for the town's results.
"""

from __future__ import annotations

import uuid

from services.participation.adapters.unit_of_work import UnitOfWork
from services.participation.domain.errors import IdentityConflict
from services.participation.domain.model import check_postcode, email_key
from services.participation.service_layer.citizens import _send_link
from soesmart.contracts import CitizenConfirmed, CitizenSession, VerifiedSignIn
from soesmart.towns import towns

CONFLICT = "Zu dieser E-Mail-Adresse gibt es schon ein Konto einer anderen Person."


def display_name_for(town_name: str) -> str:
    """The public name of a new verified account: never the legal name the provider knows."""
    return f"Person aus {town_name}"[:40]


def sign_in_verified(cmd: VerifiedSignIn, uow: UnitOfWork) -> CitizenSession:
    instance = uow.instance
    town = instance.town
    if cmd.postcode is not None:
        other = towns().for_postcode(cmd.postcode)
        check_postcode(cmd.postcode, town.slug, town.name, town.postcodes,
                       (other.slug, other.name) if other else None)
    now, key = instance.now(), email_key(cmd.email)
    with uow:
        row = uow.citizens.by_subject_hash(cmd.subject_hash)
        if row is None:
            by_email = uow.citizens.by_email_key(key, lock=True)
            if by_email is not None and (by_email["subject_hash"] is not None
                                         or not cmd.email_verified):
                raise IdentityConflict(CONFLICT, [{"field": "email", "problem": "taken"}])
            row = by_email
        verified = {"subject_hash": cmd.subject_hash, "trust_level": cmd.trust_level,
                    "identity_verified_at": now}
        if cmd.postcode is not None:
            verified["postcode"] = cmd.postcode
        confirm = cmd.email_verified and (row is None or row["email_key"] == key)
        if row is None:
            cid = str(uuid.uuid4())
            uow.citizens.add(cid, email=cmd.email, email_key=key, display_name=display_name_for(
                town.name), language=cmd.language, notify_replies=False, follow_rated=False,
                registered_at=now, confirmed_at=now if confirm else None, **verified)
        else:
            cid = row["id"]
            uow.citizens.change(cid, **verified)
            confirm = confirm and row["confirmed_at"] is None
            if confirm:
                uow.citizens.change(cid, confirmed_at=now)
        if confirm:
            uow.add_events([CitizenConfirmed(source=instance.source, town=town.slug,
                                             citizen_id=uuid.UUID(cid))])
        citizen = uow.citizens.get(cid)
        if citizen["confirmed_at"] is None:  # the provider does not vouch for the address
            _send_link(uow, citizen, "confirm_registration", now)
        uow.commit()
    return CitizenSession(citizen_id=citizen["id"], town=town.slug,
                          display_name=citizen["display_name"],
                          confirmed=citizen["confirmed_at"] is not None)
