"""Tampered links and cookies with characters outside ASCII are refused, not a server error.

hmac.compare_digest raises TypeError for str with non-ASCII characters; the fuzz run
against the API found this on the unsubscribe link.
"""

from __future__ import annotations

import uuid

from services.gateway.web.citizen_sessions import read_citizen, sign_citizen
from services.notifications.adapters.mails import sign, verify
from soesmart.config import Settings
from soesmart.contracts import CitizenSession


def test_a_mail_link_signature_with_umlauts_is_simply_wrong() -> None:
    good = sign("secret", "unsubscribe", "abc")
    assert verify("secret", "unsubscribe", "abc", good)
    assert not verify("secret", "unsubscribe", "abc", "ü" * 32)
    assert not verify("secret", "unsubscribe", "abc", "")


def test_a_citizen_cookie_with_umlauts_signs_nobody_in() -> None:
    settings = Settings(secret_key="k" * 32)
    session = CitizenSession(citizen_id=uuid.uuid4(), town="soest", display_name="Anna",
                             confirmed=True)
    value = sign_citizen(session, settings)
    assert read_citizen(value, settings) is not None
    body, _, _signature = value.rpartition(".")
    assert read_citizen(body + ".äöü", settings) is None
