"""Sign-in through an OpenID provider as use cases: send the person there, take them back.

`begin` stores the pending sign-in (hash of `state`, nonce, PKCE verifier, where to go
after) in the gateway's database, so any gateway process may take the callback, and
the same `state` goes into a cookie of the browser that started it. `complete` takes
the callback: the `state` must be the browser's own and unused, the code is redeemed
once, and the ID token is checked. `staff_signed_in` turns checked claims into a staff
account (created, updated or disabled) and a session, in one transaction.
Every refusal is logged with the provider and a reason code, never with personal data.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from services.gateway.adapters.oidc import OpenIDClient
from services.gateway.adapters.pending_sign_ins import PendingSignIns
from services.gateway.adapters.repository import StaffRepository
from services.gateway.domain.identity import ProviderConfig, SignInRefused, staff_role, text_claim
from services.gateway.domain.staff import StaffAccount, normalise_email
from services.gateway.service_layer.staff import PAGE, SignedIn, StaffAccounts
from soesmart.config import Settings
from soesmart.secrets_compare import same_secret

log = logging.getLogger(__name__)
PENDING_FOR = timedelta(minutes=10)
UNUSABLE_PASSWORD = "!openid"  # not an argon2 hash: no password ever matches it


def callback_path(provider: ProviderConfig) -> str:
    if provider.audience == "staff":
        return f"/verwaltung/anmelden/idp/{provider.id}/rueckkehr"
    return f"/anmelden/idp/{provider.id}/rueckkehr"


def client_for(settings: Settings, provider: ProviderConfig) -> OpenIDClient:
    redirect = settings.public_url.rstrip("/") + callback_path(provider)
    return OpenIDClient(provider, redirect, settings.oidc_timeout)


def _hash(state: str) -> str:
    return hashlib.sha256(state.encode("utf-8")).hexdigest()


def refused(provider: ProviderConfig | None, exc: SignInRefused) -> SignInRefused:
    log.warning("OpenID sign-in refused: provider=%s reason=%s",
                provider.id if provider else "-", exc.reason)
    return exc


def begin(store: StaffAccounts, provider: ProviderConfig, next_url: str,
          town: str | None = None) -> tuple[str, str]:
    """The provider's authorization URL and the `state` for the browser's cookie."""
    state, nonce, verifier = (secrets.token_urlsafe(32), secrets.token_urlsafe(24),
                              secrets.token_urlsafe(48))
    try:
        request = client_for(store.settings, provider).authorization_request(state, nonce, verifier)
    except SignInRefused as exc:
        raise refused(provider, exc) from None
    now = store.clock()
    with store.engine.begin() as conn:
        pending = PendingSignIns(conn)
        pending.add(_hash(state), provider=provider.id, town=town, nonce=nonce,
                    code_verifier=verifier, next_url=next_url, created_at=now,
                    expires_at=now + PENDING_FOR)
        pending.purge(expired_before=now - timedelta(days=1))
    return request.url, state


@dataclass(frozen=True)
class Completed:
    claims: dict[str, Any]
    next_url: str
    town: str | None


def complete(store: StaffAccounts, provider: ProviderConfig, args: dict[str, str],
             browser_state: str | None) -> Completed:
    """The checked claims of a callback, or SignInRefused (logged)."""
    try:
        return _complete(store, provider, args, browser_state)
    except SignInRefused as exc:
        raise refused(provider, exc) from None


def _complete(store: StaffAccounts, provider: ProviderConfig, args: dict[str, str],
              browser_state: str | None) -> Completed:
    state = args.get("state", "")
    if not state or not browser_state or not same_secret(state, browser_state):
        raise SignInRefused("state_not_this_browsers")
    with store.engine.begin() as conn:
        pending = PendingSignIns(conn).take(_hash(state), provider.id, store.clock())
    if pending is None:
        raise SignInRefused("state_used_or_expired")
    if args.get("error"):
        raise SignInRefused("provider_said_" + ("access_denied" if args["error"] == "access_denied"
                                                else "error"))
    if args.get("iss") and args["iss"].rstrip("/") != provider.issuer:  # RFC 9207 mix-up defence
        raise SignInRefused("callback_iss")
    code = args.get("code", "")
    if not code or len(code) > 2000:
        raise SignInRefused("code_missing")
    claims = client_for(store.settings, provider).redeem(code, pending["code_verifier"],
                                                        pending["nonce"])
    return Completed(claims, pending["next_url"], pending["town"])


def staff_signed_in(store: StaffAccounts, provider: ProviderConfig,
                    claims: dict[str, Any]) -> SignedIn:
    """Create or update the account the claims describe and open a page session.

    Claims that grant no role disable an account this provider made before (and end its
    sessions); nothing is created for them.
    """
    subject = str(claims["sub"])
    granted = staff_role(provider, claims)
    now = store.clock()
    if granted is None:
        with store.engine.begin() as conn:  # committed before the refusal is raised
            repo = StaffRepository(conn)
            account = repo.by_subject(provider.id, subject)
            if account is not None and account.active:
                repo.set_active(account.email, False)
                repo.revoke_sessions_of(account.id, now)
                log.warning("OpenID sign-in: provider=%s no longer grants a role; "
                            "account %s disabled", provider.id, account.id)
        raise refused(provider, SignInRefused("no_role", 403))
    with store.engine.begin() as conn:
        repo = StaffRepository(conn)
        account = repo.by_subject(provider.id, subject)
        email = text_claim(claims, "email", 254)
        if email is None or "@" not in email:
            raise refused(provider, SignInRefused("no_email"))
        email = normalise_email(email)
        name = text_claim(claims, "name") or email
        values = {"provider": provider.id, "subject": subject, "role": granted.role.value,
                  "town": granted.town, "display_name": name, "active": True, "email": email}
        if account is None:
            found = repo.by_email(email)
            if found is not None and found[0].provider not in (None, provider.id):
                raise refused(provider, SignInRefused("email_of_other_provider", 409))
            if found is not None:  # an account made by hand before: this provider takes it over
                account = found[0]
        if account is None:
            account = StaffAccount(id=str(uuid.uuid4()), email=email, display_name=name,
                                   role=granted.role, town=granted.town, active=True,
                                   created_at=now, provider=provider.id)
            repo.add(account, UNUSABLE_PASSWORD, subject=subject)
        else:
            if account.email != email and repo.by_email(email) is not None:
                raise refused(provider, SignInRefused("email_of_other_account", 409))
            repo.link_and_update(account.id, **values)
            account = repo.by_id(account.id)
        return store.open_session(repo, account, PAGE, now)
