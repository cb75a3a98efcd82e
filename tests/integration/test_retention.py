"""Retention: what is kept only for a while goes when its time is up, on SQLite and PostgreSQL.

Both services run their retention with a clock the test moves (a week and a quarter
pass without sleeping); nothing but the time-limited rows is touched.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from services.notifications.adapters import tables as nt
from services.notifications.adapters.clock import FakeClock
from services.notifications.adapters.mail import SmtpTransport
from services.notifications.service_layer.handlers import NotificationsApp
from services.participation.adapters import tables as pt
from soesmart.config import Settings
from soesmart.contracts import ConfirmSubscription, RegisterCitizen, Subscribe
from tests.support.participation import Clock, count, town_app
from tests.support.smtp import SmtpServer

pytestmark = pytest.mark.integration


def test_a_registration_never_confirmed_is_deleted_after_seven_days_and_rate_limits_after_an_hour(
        settings: Settings) -> None:
    clock = Clock()
    app = town_app(settings, clock)
    # Given one registration never confirmed and one that is
    app.register_citizen(RegisterCitizen(email="Nie.Bestaetigt@example.org", postcode="59494",
                                         display_name="Nie", client="c1"))
    app.register_citizen(RegisterCitizen(email="bestaetigt@example.org", postcode="59494",
                                         display_name="Ja", client="c1"))
    with app.engine.begin() as conn:
        conn.execute(pt.citizens.update().where(pt.citizens.c.email_key == "bestaetigt@example.org")
                     .values(confirmed_at=clock.now))
    assert count(app, pt.rate_limit_hits) > 0
    # When an hour passes, the rate-limit hits are gone, the registrations stay
    clock.advance(hours=1, minutes=1)
    assert app.apply_retention() == {"unconfirmed_registrations": 0, "rate_limit_hits": 4}
    assert count(app, pt.citizens) == 2
    # And after six days more nothing else goes; after seven the unconfirmed one does
    clock.advance(days=5, hours=22)
    assert app.apply_retention()["unconfirmed_registrations"] == 0
    clock.advance(days=1, hours=1)
    assert app.apply_retention()["unconfirmed_registrations"] == 1
    # Then no row of the instance names the address, not even its link event in the outbox
    assert count(app, pt.citizens) == 1
    with app.engine.connect() as conn:
        for table in pt.metadata.sorted_tables:
            for row in conn.execute(select(table)).all():
                assert "nie.bestaetigt@example.org" not in str(row).lower(), table.name


def test_a_subscription_never_confirmed_goes_after_seven_days_and_log_addresses_after_ninety(
        settings: Settings, smtp_server: SmtpServer) -> None:
    clock = FakeClock()
    app = NotificationsApp(settings, transport=SmtpTransport(smtp_server.url), clock=clock)
    # Given a confirmed and a pending subscription, each with its confirmation mail sent
    for address in ("bleibt@example.org", "offen@example.org"):
        app.subscribe(Subscribe(email=address, scope_type="region"))
    app.send_due()
    mail = smtp_server.to("bleibt@example.org")[-1]
    body = mail.get_body(preferencelist=("plain",))
    token = re.search(r"bestaetigen\?token=(\S+)", body.get_content() if body else "")
    assert token is not None
    app.confirm(ConfirmSubscription(token=token.group(1)))
    # When a week passes, the pending subscription is gone, the confirmed one stays
    clock.advance(days=6, hours=23)
    assert app.apply_retention() == {"unconfirmed_subscriptions": 0, "delivery_log_rows": 0}
    clock.advance(hours=2)
    assert app.apply_retention() == {"unconfirmed_subscriptions": 1, "delivery_log_rows": 0}
    with app.engine.connect() as conn:
        emails = conn.execute(select(nt.subscriptions.c.email)).scalars().all()
    assert emails == ["bleibt@example.org"]
    # And after ninety days the delivery log keeps the mails, by keyed hash only
    clock.advance(days=84)
    assert app.apply_retention()["delivery_log_rows"] == 2
    with app.engine.connect() as conn:
        recipients = conn.execute(select(nt.deliveries.c.recipient)).scalars().all()
        logged = conn.execute(select(func.count()).select_from(nt.deliveries)).scalar_one()
    assert logged == 2 and all(r.startswith("hmac:") for r in recipients)
    assert len(set(recipients)) == 2
