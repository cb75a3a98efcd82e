"""Signed links and cookies: one purpose each, every character counts, old formats refused.

Citizens' session cookies and the links in mails were signed by hand (HMAC-SHA-256)
before `soesmart.signing`; such values are refused exactly like tampered ones.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid

import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from services.gateway.web.citizen_sessions import CITIZEN_COOKIE, read_citizen, sign_citizen
from services.gateway.web.errors import ApiError
from services.gateway.web.permissions import ANONYMOUS, principal_from_request, require
from services.notifications.adapters.mails import sign, verify
from soesmart import signing
from soesmart.config import Settings
from soesmart.contracts import CitizenSession

SECRET = "k" * 32
SETTINGS = Settings(secret_key=SECRET, coordinator_token="coordinator-service-token")
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
SUBSCRIPTION = "6f1c2a4e-8b0d-4c3e-9a71-0d2b5e8f4c19"


def session() -> CitizenSession:
    return CitizenSession(citizen_id=uuid.uuid4(), town="soest", display_name="Änne", confirmed=True)


def request(headers: dict[str, str] | None = None, cookies: dict[str, str] | None = None) -> Request:
    builder = EnvironBuilder(path="/", headers=headers or {})
    for name, value in (cookies or {}).items():
        builder.headers.add("Cookie", f"{name}={value}")
    return Request(builder.get_environ())


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def citizen_cookie_of_the_old_format(s: CitizenSession, secret: str) -> str:
    """What the gateway signed before soesmart.signing: base64 JSON, HMAC-SHA-256 of a derived key."""
    key = hmac.new(secret.encode("utf-8"), b"soesmart citizen session v1", hashlib.sha256).digest()
    payload = {"id": str(s.citizen_id), "town": s.town, "name": s.display_name,
               "confirmed": s.confirmed, "iat": int(time.time())}
    body = _b64(json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
    return f"{body}.{_b64(hmac.new(key, body.encode('ascii'), hashlib.sha256).digest())}"


def mail_link_signature_of_the_old_format(secret: str, purpose: str, value: str) -> str:
    return hmac.new(secret.encode(), f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()[:32]


def test_a_signature_passes_only_for_its_value_purpose_and_key() -> None:
    signature = signing.signature_of(SECRET, "unsubscribe", SUBSCRIPTION)
    assert signing.has_signature(SECRET, "unsubscribe", SUBSCRIPTION, signature)
    assert not signing.has_signature(SECRET, "unsubscribe", SUBSCRIPTION[:-1] + "0", signature)
    assert not signing.has_signature(SECRET, "preferences", SUBSCRIPTION, signature)
    assert not signing.has_signature("another-key", "unsubscribe", SUBSCRIPTION, signature)


def test_every_character_of_a_signature_counts() -> None:
    signature = signing.signature_of(SECRET, "unsubscribe", SUBSCRIPTION)
    changed = [signature[:i] + c + signature[i + 1:]
               for i in range(len(signature)) for c in ALPHABET + "+/=" if c != signature[i]]
    changed += [signature + "!", signature + "ä", signature[:-1], "+" + signature[1:],
                signature.replace("-", "+").replace("_", "/"), " " + signature]
    passed = [c for c in changed if c != signature
              and signing.has_signature(SECRET, "unsubscribe", SUBSCRIPTION, c)]
    assert passed == []


def test_values_that_are_no_signature_are_refused_without_an_error() -> None:
    for given in ("", "ü" * 64, "\udcff" * 64, "." * 64, "0" * 32):
        assert not signing.has_signature(SECRET, "unsubscribe", SUBSCRIPTION, given)
    assert not signing.has_signature(SECRET, "unsubscribe", "\udcff",
                                     signing.signature_of(SECRET, "unsubscribe", "x"))
    for signed in ("", ".", "..", "a.b.c", "ü.ö.ä", "\udcff.\udcff.\udcff" + "A" * 64):
        assert signing.loads(SECRET, "citizen session", signed, 3600) is None


def test_a_timed_value_expires_and_allows_a_little_clock_difference() -> None:
    now = int(time.time())
    value = signing.dumps(SECRET, "citizen session", {"a": 1}, issued_at=now)
    assert signing.loads(SECRET, "citizen session", value, 3600) == ({"a": 1}, now)
    assert signing.loads(SECRET, "citizen session", value, 3600, now=now + 3601) is None
    assert signing.loads(SECRET, "citizen session", value, 3600, now=now - 200) is not None
    assert signing.loads(SECRET, "citizen session", value, 3600, now=now - 400) is None
    assert signing.loads(SECRET, "mail link preferences", value, 3600) is None
    assert signing.loads("another-key", "citizen session", value, 3600) is None


def test_a_citizen_cookie_of_the_old_format_is_refused_like_a_tampered_one() -> None:
    s = session()
    old = citizen_cookie_of_the_old_format(s, SECRET)
    body, _, signature = sign_citizen(s, SETTINGS).rpartition(".")
    tampered = body + "." + ("A" if signature[0] != "A" else "B") + signature[1:]
    for value in (old, tampered):
        assert read_citizen(value, SETTINGS) is None
        for r in (request(cookies={CITIZEN_COOKIE: value}),
                  request({"Authorization": f"Bearer c.{value}"})):
            principal = principal_from_request(r, SETTINGS)
            assert principal == ANONYMOUS
            with pytest.raises(ApiError) as refused:
                require(principal, "rating.write", "soest")
            assert refused.value.code == "UNAUTHORIZED"


def test_a_mail_link_of_the_old_format_is_refused_like_a_tampered_one() -> None:
    good = sign(SECRET, "unsubscribe", SUBSCRIPTION)
    assert verify(SECRET, "unsubscribe", SUBSCRIPTION, good)
    old = mail_link_signature_of_the_old_format(SECRET, "unsubscribe", SUBSCRIPTION)
    tampered = ("A" if good[0] != "A" else "B") + good[1:]
    assert not verify(SECRET, "unsubscribe", SUBSCRIPTION, old)
    assert not verify(SECRET, "unsubscribe", SUBSCRIPTION, tampered)
