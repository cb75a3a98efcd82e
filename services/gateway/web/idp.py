"""What the staff's and the citizens' sign-in through an OpenID provider share in the web core.

The browser that starts a sign-in keeps its `state` in a short-lived cookie; a refused
sign-in is one page (German, English) whose text depends on the reason, and clears it.
"""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Response

from services.gateway.adapters.identity_config import identity_config
from services.gateway.domain.identity import ProviderConfig, SignInRefused
from services.gateway.web.errors import ApiError
from services.gateway.web.page import Page
from soesmart.config import Settings

STATE_COOKIE = "soesmart_oidc_state"
STATE_SECONDS = 600

# reason code (or its prefix) -> text key of the page
REASON_TEXT = (
    ("state_", "idp_err_state"),
    ("provider_said_access_denied", "idp_err_cancelled"),
    ("provider_", "idp_err_unavailable"),
    ("discovery_", "idp_err_unavailable"),
    ("jwks_", "idp_err_unavailable"),
    ("token_endpoint_", "idp_err_unavailable"),
    ("no_role", "idp_err_no_role"),
    ("no_email", "idp_err_no_email"),
    ("email_of_", "idp_err_email_taken"),
    ("no_residence", "idp_err_no_residence"),
    ("not_resident", "idp_err_not_resident"),
    ("other_town", "idp_err_other_town"),
)


def reason_text(reason: str) -> str:
    return next((key for prefix, key in REASON_TEXT if reason.startswith(prefix)),
                "idp_err_token")  # token_*, id_token_*, callback_iss, code_missing


def provider_or_404(settings: Settings, provider_id: str, audience: str) -> ProviderConfig:
    provider = identity_config(settings).provider(provider_id)
    if provider is None or provider.audience != audience:
        raise ApiError("NOT_FOUND", "Diesen Anmeldedienst gibt es hier nicht.")
    return provider


def _cookie_options(settings: Settings) -> dict[str, Any]:
    return {"httponly": True, "samesite": "Lax", "path": "/",
            "secure": settings.public_url.startswith("https://")}


def to_provider(page: Page, url: str, state: str) -> Response:
    """Send the browser to the provider, keeping the state of this sign-in in a cookie."""
    response = page.redirect(url)
    response.set_cookie(STATE_COOKIE, state, max_age=STATE_SECONDS, **_cookie_options(page.settings))
    response.headers["Cache-Control"] = "no-store"
    return response


def browser_state(page: Page) -> str | None:
    return page.request.cookies.get(STATE_COOKIE)


def done(page: Page, response: Response) -> Response:
    """The callback is answered (signed in or refused): the state cookie is spent."""
    response.delete_cookie(STATE_COOKIE, **_cookie_options(page.settings))
    response.headers["Cache-Control"] = "no-store"
    return response


def refused_page(page: Page, exc: SignInRefused, again: str | None = None,
                 **context: Any) -> Response:
    """One page for every refusal: what happened, in words, and the way to try again."""
    key = reason_text(exc.reason)
    response = page.render("idp_refused.html", status=exc.status, heading=page.t("idp_err_heading"),
                           message=page.t(key, **context), again=again, is_error=True,
                           **context)
    return done(page, response)

