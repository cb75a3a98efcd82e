"""Staff sign-in for the API: bearer tokens for scripts, revoking them, "who am I".

Both ask the same use case (`StaffAccounts.sign_in`), so failed attempts count
together and the lockout holds whichever door is used.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from werkzeug.wrappers import Request, Response

from services.gateway.adapters.identity_config import identity_config
from services.gateway.domain.staff import InvalidCredentials, PasswordSignInOff, SignInLocked
from services.gateway.service_layer.staff import API, SignedIn, staff_accounts_for
from services.gateway.web.backend import parse_json
from services.gateway.web.clients import client_key
from services.gateway.web.errors import ApiError, json_response
from services.gateway.web.permissions import (
    STAFF_PREFIX,
    principal_from_request,
    require,
)
from soesmart.config import Settings


class TokenOut(BaseModel):
    token: str
    expires_at: str
    role: str
    town: str | None = None


class Whoami(BaseModel):
    role: str
    name: str
    town: str | None = None


class ProviderOut(BaseModel):
    id: str
    audience: str
    name: str
    town: str | None = None
    towns: list[str] = []
    start: str | None = None  # staff: the page that starts the sign-in


class ProvidersOut(BaseModel):
    items: list[ProviderOut]


class SignInBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(min_length=3, max_length=254)
    password: str = Field(min_length=1, max_length=1024)


def _locked(exc: SignInLocked) -> ApiError:
    minutes = max(1, (exc.retry_after + 59) // 60)
    return ApiError(
        "ACCOUNT_LOCKED",
        f"Zu viele fehlgeschlagene Anmeldungen. Bitte versuchen Sie es in {minutes} Minuten "
        "noch einmal.",
        [{"retry_after": exc.retry_after}],
    )


INVALID = "E-Mail-Adresse oder Passwort stimmen nicht."


def sign_in(settings: Settings, request: Request, email: str, password: str,
             kind: str) -> SignedIn:
    try:
        return staff_accounts_for(settings).sign_in(
            email, password, client_key(request, settings), kind)
    except SignInLocked as exc:
        raise _locked(exc) from None
    except InvalidCredentials:
        raise ApiError("INVALID_CREDENTIALS", INVALID) from None
    except PasswordSignInOff:
        raise ApiError("PASSWORD_SIGN_IN_OFF", "Bitte melden Sie sich über den Anmeldedienst "
                                               "Ihrer Verwaltung an.") from None


def issue_token(settings: Settings, request: Request) -> Response:
    body = parse_json(request, SignInBody, settings.max_body_bytes)
    signed = sign_in(settings, request, body.email, body.password, API)
    return json_response({
        "token": STAFF_PREFIX + signed.token,
        "expires_at": signed.expires_at.isoformat(),
        "role": signed.account.role.value,
        "town": signed.account.town,
    }, 201, headers={"Cache-Control": "no-store"})


def revoke_token(settings: Settings, request: Request) -> Response:
    """End the staff token this request was sent with."""
    principal = require(principal_from_request(request, settings), "staff.area")
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    value = value.strip()
    if principal.staff_id is None or not value.startswith(STAFF_PREFIX):
        raise ApiError("VALIDATION_FAILED", "Nur ein persönliches Token kann widerrufen werden.",
                       [{"field": "Authorization", "problem": "must be Bearer s.<token>"}])
    staff_accounts_for(settings).revoke(value[len(STAFF_PREFIX):])
    return json_response({"status": "revoked"})


def whoami(settings: Settings, request: Request) -> Response:
    p = principal_from_request(request, settings)
    return json_response({"role": p.role, "name": p.name, "town": p.town,
                          "confirmed": p.confirmed if p.role == "citizen" else None})


def providers(settings: Settings) -> Response:
    """The OpenID providers people can sign in with here (nothing secret)."""
    items = [{"id": p.id, "audience": p.audience, "name": p.name, "town": p.town,
              "towns": list(p.towns),
              "start": f"/verwaltung/anmelden/idp/{p.id}" if p.audience == "staff" else None}
             for p in identity_config(settings).providers]
    return json_response({"items": items})
