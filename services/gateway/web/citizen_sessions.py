"""Citizens' sessions: a signed cookie (pages) or `Bearer c.<value>` (API), no server state.

The town's instance redeems an emailed sign-in link and answers with a `CitizenSession`;
the gateway signs it with SOESMART_SECRET_KEY (`soesmart.signing`), so every gateway process
can read it.
Signed, not encrypted: it carries only the citizen's id, town, display name and whether
their address is confirmed. A session ends when the cookie is deleted or after
`SOESMART_CITIZEN_SESSION_DAYS`; to end all sessions at once, change the secret key.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from werkzeug.wrappers import Response

from soesmart import signing
from soesmart.config import Settings
from soesmart.contracts import CitizenSession

CITIZEN_COOKIE = "soesmart_citizen"
BEARER_PREFIX = "c."
PURPOSE = "citizen session"


@dataclass(frozen=True)
class SignedCitizen:
    citizen_id: uuid.UUID
    town: str
    display_name: str
    confirmed: bool
    issued_at: int


def sign_citizen(session: CitizenSession, settings: Settings, issued_at: int | None = None) -> str:
    payload = {"id": str(session.citizen_id), "town": session.town, "name": session.display_name,
               "confirmed": session.confirmed}
    return signing.dumps(settings.secret_key, PURPOSE, payload, issued_at=issued_at)


def read_citizen(value: str, settings: Settings, now: float | None = None) -> SignedCitizen | None:
    """The citizen of a signed value, or None if it is forged, malformed or too old."""
    if not value or len(value) > 2000:
        return None
    signed = signing.loads(settings.secret_key, PURPOSE, value,
                           settings.citizen_session_days * 86400, now=now)
    if signed is None:
        return None
    data, issued_at = signed
    try:
        return SignedCitizen(uuid.UUID(data["id"]), str(data["town"]), str(data["name"]),
                             bool(data["confirmed"]), issued_at)
    except (ValueError, KeyError, TypeError):
        return None


def issue_citizen_session(response: Response, session: CitizenSession, settings: Settings) -> str:
    """Sign the citizen in on `response` (cookie) and return the bearer value for API clients."""
    value = sign_citizen(session, settings)
    response.set_cookie(
        CITIZEN_COOKIE, value, max_age=settings.citizen_session_days * 86400, path="/",
        httponly=True, samesite="Lax", secure=settings.public_url.startswith("https://"),
    )
    return BEARER_PREFIX + value


def end_citizen_session(response: Response, settings: Settings | None = None) -> None:
    secure = bool(settings and settings.public_url.startswith("https://"))
    response.delete_cookie(CITIZEN_COOKIE, path="/", httponly=True, samesite="Lax", secure=secure)
