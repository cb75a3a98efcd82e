"""Mail links signed before `soesmart.signing` (HMAC-SHA-256, 32 hex characters) are
refused with the same answer as tampered ones, and change nothing."""

from __future__ import annotations

import hashlib
import hmac
import re

import pytest

from services.notifications.adapters.clock import FakeClock
from services.notifications.adapters.mail import SmtpTransport
from services.notifications.service_layer.handlers import InvalidLink, NotificationsApp
from soesmart.config import Settings
from soesmart.contracts import ConfirmSubscription, Subscribe, UpdatePreferences
from tests.support.smtp import SmtpServer, text_of


def old_format(secret: str, purpose: str, value: str) -> str:
    signature = hmac.new(secret.encode(), f"{purpose}:{value}".encode(), hashlib.sha256)
    return f"{value}.{signature.hexdigest()[:32]}"


def refusal(call: object, token: str) -> str:
    with pytest.raises(InvalidLink) as refused:
        call(token)  # type: ignore[operator]
    return str(refused.value)


def test_unsubscribe_and_preferences_links_of_the_old_format_are_refused_like_tampered_ones(
    settings: Settings, smtp_server: SmtpServer
) -> None:
    app = NotificationsApp(settings, transport=SmtpTransport(smtp_server.url), clock=FakeClock())
    app.subscribe(Subscribe(email="alt@example.org", measure_code="VEP-RAD-02"), "Radweg")
    app.send_due()
    token = re.search(r"token=(\S+)", text_of(smtp_server.to("alt@example.org")[-1])).group(1)
    preferences = str(app.confirm(ConfirmSubscription(token=token))["preferences_token"])
    recipient_id = preferences.partition(".")[0]
    sub_id = app.preferences(preferences).subscriptions[0].id
    tampered_preferences = f"{recipient_id}.{'A' * 64}"

    def unsubscribe(t: str) -> object:
        return app.unsubscribe(t)

    def update(t: str) -> object:
        return app.update_preferences(UpdatePreferences(token=t, unsubscribe_all=True))

    for purpose, value in (("unsubscribe", sub_id), ("unsubscribe-all", recipient_id)):
        assert refusal(unsubscribe, old_format(settings.secret_key, purpose, value)) \
            == refusal(unsubscribe, f"{value}.{'A' * 64}")
    old_preferences = old_format(settings.secret_key, "preferences", recipient_id)
    assert refusal(app.preferences, old_preferences) == refusal(app.preferences, tampered_preferences)
    assert refusal(update, old_preferences) == refusal(update, tampered_preferences)

    # Nothing changed: the subscription is still there, and the new link still works.
    assert [s.id for s in app.preferences(preferences).subscriptions] == [sub_id]
