"""Staff sign-in through their directory's OpenID provider: start, callback, and signing out there.

The start is a link (GET), not a form: the browser leaves for the provider, and the
pages' CSP allows forms to post to our own origin only.
"""

from __future__ import annotations

from werkzeug.wrappers import Response

from services.gateway.adapters.identity_config import identity_config
from services.gateway.adapters.oidc import logout_url
from services.gateway.domain.identity import SignInRefused
from services.gateway.service_layer import oidc_sign_in
from services.gateway.service_layer.staff import staff_accounts_for
from services.gateway.staff.pages import (
    SIGN_IN_PAGE,
    end_staff_cookie,
    next_page,
    set_staff_cookie,
)
from services.gateway.web import idp
from services.gateway.web.page import Page
from services.gateway.web.permissions import STAFF_COOKIE

START = "/verwaltung/anmelden/idp/"


def start(page: Page, provider_id: str) -> Response:
    provider = idp.provider_or_404(page.settings, provider_id, "staff")
    store = staff_accounts_for(page.settings)
    try:
        url, state = oidc_sign_in.begin(store, provider, next_page(page.request.args.get("weiter")))
    except SignInRefused as exc:
        return idp.refused_page(page, exc, again=START + provider.id, provider=provider.name)
    return idp.to_provider(page, url, state)


def callback(page: Page, provider_id: str) -> Response:
    provider = idp.provider_or_404(page.settings, provider_id, "staff")
    store = staff_accounts_for(page.settings)
    try:
        completed = oidc_sign_in.complete(store, provider, dict(page.request.args),
                                          idp.browser_state(page))
        signed = oidc_sign_in.staff_signed_in(store, provider, completed.claims)
    except SignInRefused as exc:
        return idp.refused_page(page, exc, again=START + provider.id, provider=provider.name)
    response = page.redirect(next_page(completed.next_url))
    set_staff_cookie(page, response, signed.token)
    return idp.done(page, response)


def end_session_at_provider(page: Page, provider_id: str | None) -> str | None:
    """Where the browser goes to end its session at the provider too (RP-initiated logout),
    if the account came from one that offers it."""
    provider = identity_config(page.settings).provider(provider_id) if provider_id else None
    if provider is None or provider.audience != "staff":
        return None
    endpoint = oidc_sign_in.client_for(page.settings, provider).end_session_endpoint()
    if endpoint is None:
        return None
    after = page.settings.public_url.rstrip("/") + SIGN_IN_PAGE + "?abgemeldet=1"
    return logout_url(endpoint, provider.client_id, after)


def sign_out(page: Page) -> Response:
    """End the staff session here; an account from a provider with end-session goes on there."""
    page.check_csrf()
    token = page.request.cookies.get(STAFF_COOKIE)
    leave_to = None
    if token:
        store = staff_accounts_for(page.settings)
        account = store.authenticate(token)
        store.revoke(token)
        if account is not None:
            leave_to = end_session_at_provider(page, account.provider)
    response = page.redirect(leave_to or SIGN_IN_PAGE + "?abgemeldet=1")
    end_staff_cookie(page, response)
    return response
