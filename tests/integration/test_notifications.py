"""Consent and delivery of the notifications service, against a real SMTP server on loopback."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from services.notifications.adapters import tables as t
from services.notifications.adapters.mail import SmtpTransport
from services.notifications.service_layer.handlers import InvalidLink, NotificationsApp
from soesmart.config import Settings
from soesmart.contracts import (
    ConfirmSubscription,
    MeasureStatusChanged,
    Source,
    Subscribe,
)
from tests.support.smtp import SmtpServer, text_of

CODE = "VEP-RAD-02"


@pytest.fixture
def app(settings: Settings, smtp_server: SmtpServer) -> NotificationsApp:
    return NotificationsApp(settings, transport=SmtpTransport(smtp_server.url))


def confirmed_subscriber(app: NotificationsApp, smtp: SmtpServer, address: str) -> None:
    app.subscribe(Subscribe(email=address, measure_code=CODE), "Radweg Bahntrasse")
    app.send_due()
    body = text_of(smtp.to(address)[-1])
    token = re.search(r"token=(\S+)", body).group(1)
    app.confirm(ConfirmSubscription(token=token))


def status_changed(revision: int = 2) -> MeasureStatusChanged:
    return MeasureStatusChanged(source=Source(service="measures"), code=CODE,
                                title="Radweg Bahntrasse", old_status="in_consultation",
                                new_status="decided", changed_by="Koordination",
                                revision=revision)


def test_nothing_is_sent_before_the_address_is_confirmed(app: NotificationsApp,
                                                          smtp_server: SmtpServer) -> None:
    app.subscribe(Subscribe(email="neu@example.org", measure_code=CODE), "Radweg")
    app.on_measure_status_changed(status_changed())
    app.send_due()
    subjects = [m["Subject"] for m in smtp_server.to("neu@example.org")]
    assert len(subjects) == 1 and "bestätigen" in subjects[0]


def test_a_confirmation_link_works_once(app: NotificationsApp, smtp_server: SmtpServer) -> None:
    app.subscribe(Subscribe(email="once@example.org", measure_code=CODE), "Radweg")
    app.send_due()
    token = re.search(r"token=(\S+)", text_of(smtp_server.to("once@example.org")[0])).group(1)
    app.confirm(ConfirmSubscription(token=token))
    with pytest.raises(InvalidLink):
        app.confirm(ConfirmSubscription(token=token))


def test_an_expired_confirmation_link_is_refused(app: NotificationsApp,
                                                 smtp_server: SmtpServer) -> None:
    app.subscribe(Subscribe(email="late@example.org", measure_code=CODE), "Radweg")
    app.send_due()
    token = re.search(r"token=(\S+)", text_of(smtp_server.to("late@example.org")[0])).group(1)
    with app.engine.begin() as conn:
        conn.execute(update(t.subscriptions).values(
            confirm_expires_at=datetime.now(UTC) - timedelta(minutes=1)))
    with pytest.raises(InvalidLink):
        app.confirm(ConfirmSubscription(token=token))


def test_subscribing_twice_sends_no_second_confirmation_within_the_window(
    app: NotificationsApp, smtp_server: SmtpServer
) -> None:
    for _ in range(3):
        app.subscribe(Subscribe(email="twice@example.org", measure_code=CODE), "Radweg")
    app.send_due()
    assert len(smtp_server.to("twice@example.org")) == 1


def test_a_redelivered_status_event_mails_each_subscriber_once(
    app: NotificationsApp, smtp_server: SmtpServer
) -> None:
    for who in ("a@example.org", "b@example.org"):
        confirmed_subscriber(app, smtp_server, who)
    event = status_changed()
    assert app.on_measure_status_changed(event) == 2
    assert app.on_measure_status_changed(event) == 0
    app.send_due()
    app.send_due()
    for who in ("a@example.org", "b@example.org"):
        mails = [m for m in smtp_server.to(who) if "Neuer Stand" in m["Subject"]]
        assert len(mails) == 1
        assert mails[0]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_the_unsubscribe_link_stops_further_mail_and_cannot_be_forged(
    app: NotificationsApp, smtp_server: SmtpServer
) -> None:
    confirmed_subscriber(app, smtp_server, "bye@example.org")
    app.on_measure_status_changed(status_changed(2))
    app.send_due()
    mail = [m for m in smtp_server.to("bye@example.org") if "Neuer Stand" in m["Subject"]][0]
    token = re.search(r"abmelden\?token=(\S+)", text_of(mail)).group(1)
    sub_id = token.split(".")[0]
    with pytest.raises(InvalidLink):
        app.unsubscribe(f"{sub_id}.{'0' * 32}")
    app.unsubscribe(token)
    app.on_measure_status_changed(status_changed(3))
    app.send_due()
    assert len([m for m in smtp_server.to("bye@example.org") if "Neuer Stand" in m["Subject"]]) == 1


def test_a_temporary_smtp_failure_is_retried_and_then_delivered(
    app: NotificationsApp, smtp_server: SmtpServer
) -> None:
    smtp_server.handler.refuse_with = "451 4.3.0 Bitte später"
    app.subscribe(Subscribe(email="retry@example.org", measure_code=CODE), "Radweg")
    app.send_due()
    with app.engine.connect() as conn:
        row = conn.execute(select(t.deliveries)).mappings().one()
    assert row["status"] == "pending" and row["attempts"] == 1 and "451" in row["last_error"]

    smtp_server.handler.refuse_with = None
    with app.engine.begin() as conn:  # the backoff has passed
        conn.execute(update(t.deliveries).values(next_attempt_at=datetime.now(UTC)))
    assert app.send_due() == 1
    assert len(smtp_server.to("retry@example.org")) == 1
    with app.engine.connect() as conn:
        row = conn.execute(select(t.deliveries)).mappings().one()
    assert row["status"] == "sent" and row["text_body"] is None  # body not kept after sending


def test_a_permanent_smtp_failure_is_recorded_and_not_retried(
    app: NotificationsApp, smtp_server: SmtpServer
) -> None:
    smtp_server.handler.refuse_with = "550 5.1.1 Unbekannt"
    app.subscribe(Subscribe(email=f"gone-{uuid.uuid4().hex[:4]}@example.org", measure_code=CODE),
                  "Radweg")
    app.send_due()
    app.send_due()
    assert smtp_server.handler.refusals == 1
    log = app.delivery_log()
    assert log[0]["status"] == "failed" and "550" in log[0]["last_error"]
