"""Citizens' sessions: a signed cookie (pages) or `Bearer c.<value>` (API), no server state.

The town's instance redeems an emailed sign-in link and answers with a `CitizenSession`;
the gateway signs it with SOESMART_SECRET_KEY, so every gateway process can read it.
Signed, not encrypted: it carries only the citizen's id, town, display name and whether
their address is confirmed. A session ends when the cookie is deleted or after
`SOESMART_CITIZEN_SESSION_DAYS`; to end all sessions at once, change the secret key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass

from werkzeug.wrappers import Response

from soesmart.config import Settings
from soesmart.contracts import CitizenSession
from soesmart.secrets_compare import same_secret

CITIZEN_COOKIE = "soesmart_citizen"
BEARER_PREFIX = "c."


@dataclass(frozen=True)
class SignedCitizen:
    citizen_id: uuid.UUID
    town: str
    display_name: str
    confirmed: bool
    issued_at: int


def _key(settings: Settings) -> bytes:
    # A key of its own, so a signature made for another purpose never passes here.
    return hmac.new(settings.secret_key.encode("utf-8"), b"soesmart citizen session v1",
                    hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign_citizen(session: CitizenSession, settings: Settings, issued_at: int | None = None) -> str:
    payload = {"id": str(session.citizen_id), "town": session.town, "name": session.display_name,
               "confirmed": session.confirmed,
               "iat": int(time.time()) if issued_at is None else issued_at}
    body = _b64(json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
    signature = _b64(hmac.new(_key(settings), body.encode("ascii"), hashlib.sha256).digest())
    return f"{body}.{signature}"


def read_citizen(value: str, settings: Settings, now: float | None = None) -> SignedCitizen | None:
    """The citizen of a signed value, or None if it is forged, malformed or too old."""
    if not value or len(value) > 2000 or "." not in value:
        return None
    body, _, signature = value.rpartition(".")
    expected = _b64(hmac.new(_key(settings), body.encode("ascii", "replace"),
                             hashlib.sha256).digest())
    if not same_secret(signature, expected):
        return None
    try:
        data = json.loads(_unb64(body))
        citizen = SignedCitizen(uuid.UUID(data["id"]), str(data["town"]), str(data["name"]),
                                bool(data["confirmed"]), int(data["iat"]))
    except (ValueError, KeyError, TypeError):
        return None
    age = (time.time() if now is None else now) - citizen.issued_at
    if age < -300 or age > settings.citizen_session_days * 86400:
        return None
    return citizen


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
