"""Consent, fan-out, bundling, digests and delivery of the notifications service.

Against a real SMTP server on loopback and both databases; time is a fake clock
that the tests move, so a week passes without sleeping.
"""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from services.notifications.adapters import tables as t
from services.notifications.adapters.clock import FakeClock
from services.notifications.adapters.mail import SmtpTransport
from services.notifications.domain.errors import InvalidLink, InvalidScope
from services.notifications.service_layer.handlers import NotificationsApp
from soesmart.config import Settings
from soesmart.contracts import (
    ConfirmSubscription,
    MeasureStatusChanged,
    Source,
    Subscribe,
    UpdatePreferences,
)
from tests.support.smtp import SmtpServer, text_of

CODE = "VEP-RAD-02"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def app(settings: Settings, smtp_server: SmtpServer, clock: FakeClock) -> NotificationsApp:
    return NotificationsApp(settings, transport=SmtpTransport(smtp_server.url), clock=clock)


def deliver(app: NotificationsApp, clock: FakeClock, **advance: float) -> int:
    """Let time pass (by default: past the quiet period of immediate mails) and send."""
    clock.advance(**(advance or {"seconds": app.batch_wait.total_seconds() + 1}))
    app.bundle_due()
    return app.send_due()


def confirmed_subscriber(app: NotificationsApp, smtp: SmtpServer, address: str,
                         **scope: str) -> str:
    """Subscribe `address` (default: the measure CODE), confirm by the mailed link; its id."""
    app.subscribe(Subscribe(email=address, **(scope or {"measure_code": CODE})), "Radweg Bahntrasse")
    app.send_due()
    body = text_of(smtp.to(address)[-1])
    token = re.search(r"token=(\S+)", body).group(1)
    return str(app.confirm(ConfirmSubscription(token=token))["preferences_token"])


def status_changed(revision: int = 2, code: str = CODE, towns: tuple[str, ...] = (),
                   field: str = "cycling", **kwargs: object) -> MeasureStatusChanged:
    return MeasureStatusChanged(source=Source(service="measures"), code=code,
                                title=kwargs.pop("title", "Radweg Bahntrasse"),  # type: ignore[arg-type]
                                old_status="in_consultation", new_status="decided",
                                changed_by="Koordination", revision=revision, towns=towns,
                                field_of_action=field, **kwargs)  # type: ignore[arg-type]


def news(smtp: SmtpServer, address: str) -> list:
    return [m for m in smtp.to(address) if "bestätigen" not in m["Subject"]]


def test_nothing_is_sent_before_the_address_is_confirmed(
    app: NotificationsApp, smtp_server: SmtpServer, clock: FakeClock
) -> None:
    app.subscribe(Subscribe(email="neu@example.org", measure_code=CODE), "Radweg")
    app.on_measure_status_changed(status_changed())
    deliver(app, clock)
    subjects = [m["Subject"] for m in smtp_server.to("neu@example.org")]
    assert len(subjects) == 1 and "bestätigen" in subjects[0]


def test_a_confirmation_link_works_once(app: NotificationsApp, smtp_server: SmtpServer) -> None:
    app.subscribe(Subscribe(email="once@example.org", measure_code=CODE), "Radweg")
    app.send_due()
    token = re.search(r"token=(\S+)", text_of(smtp_server.to("once@example.org")[0])).group(1)
    app.confirm(ConfirmSubscription(token=token))
    with pytest.raises(InvalidLink):
        app.confirm(ConfirmSubscription(token=token))


def test_an_expired_confirmation_link_is_refused(
    app: NotificationsApp, smtp_server: SmtpServer, clock: FakeClock
) -> None:
    app.subscribe(Subscribe(email="late@example.org", measure_code=CODE), "Radweg")
    app.send_due()
    token = re.search(r"token=(\S+)", text_of(smtp_server.to("late@example.org")[0])).group(1)
    clock.advance(hours=48, minutes=1)
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
    app: NotificationsApp, smtp_server: SmtpServer, clock: FakeClock
) -> None:
    for who in ("a@example.org", "b@example.org"):
        confirmed_subscriber(app, smtp_server, who)
    event = status_changed()
    assert app.on_measure_status_changed(event) == 2
    assert app.on_measure_status_changed(event) == 0
    deliver(app, clock)
    deliver(app, clock)
    for who in ("a@example.org", "b@example.org"):
        mails = [m for m in smtp_server.to(who) if "Neuer Stand" in m["Subject"]]
        assert len(mails) == 1
        assert mails[0]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_subscribers_of_one_change_each_get_their_own_links_in_text_html_and_headers(
    app: NotificationsApp, smtp_server: SmtpServer, clock: FakeClock
) -> None:
    # Given three subscribers of the measure (the mail is rendered once and filled in)
    people = ("eins@example.org", "zwei@example.org", "drei@example.org")
    preferences = {who: confirmed_subscriber(app, smtp_server, who) for who in people}
    # When one status change reaches them
    app.on_measure_status_changed(status_changed())
    deliver(app, clock)
    # Then each mail carries that person's links, and following one ends only that subscription
    tokens = {}
    for who in people:
        [mail] = news(smtp_server, who)
        text = text_of(mail)
        html = mail.get_body(preferencelist=("html",)).get_content()
        tokens[who] = re.search(r"abmelden\?token=(\S+)", text).group(1)
        assert f"einstellungen?token={preferences[who]}" in text
        assert f'href="http://127.0.0.1:8000/abo/abmelden?token={tokens[who]}"' in html
        assert f"einstellungen?token={preferences[who]}" in html
        assert mail["List-Unsubscribe"].endswith(f"one-click?token={tokens[who]}>")
    assert len(set(tokens.values())) == len(people)
    app.unsubscribe(tokens["zwei@example.org"])
    app.on_measure_status_changed(status_changed(3))
    deliver(app, clock)
    assert [len(news(smtp_server, who)) for who in people] == [2, 1, 2]


def test_the_unsubscribe_link_stops_further_mail_and_cannot_be_forged(
    app: NotificationsApp, smtp_server: SmtpServer, clock: FakeClock
) -> None:
    confirmed_subscriber(app, smtp_server, "bye@example.org")
    app.on_measure_status_changed(status_changed(2))
    deliver(app, clock)
    mail = [m for m in smtp_server.to("bye@example.org") if "Neuer Stand" in m["Subject"]][0]
    token = re.search(r"abmelden\?token=(\S+)", text_of(mail)).group(1)
    sub_id = token.split(".")[0]
    with pytest.raises(InvalidLink):
        app.unsubscribe(f"{sub_id}.{'0' * 32}")
    app.unsubscribe(token)
    app.on_measure_status_changed(status_changed(3))
    deliver(app, clock)
    assert len([m for m in smtp_server.to("bye@example.org") if "Neuer Stand" in m["Subject"]]) == 1


def test_a_temporary_smtp_failure_is_retried_and_then_delivered(
    app: NotificationsApp, smtp_server: SmtpServer, clock: FakeClock
) -> None:
    smtp_server.handler.refuse_with = "451 4.3.0 Bitte später"
    app.subscribe(Subscribe(email="retry@example.org", measure_code=CODE), "Radweg")
    app.send_due()
    with app.engine.connect() as conn:
        row = conn.execute(select(t.deliveries)).mappings().one()
    assert row["status"] == "pending" and row["attempts"] == 1 and "451" in row["last_error"]

    smtp_server.handler.refuse_with = None
    assert app.send_due() == 0  # not before the backoff has passed
    clock.advance(minutes=4)
    assert app.send_due() == 0  # the first retry waits 5 minutes (what greylisting asks)
    clock.advance(minutes=1, seconds=1)
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
    assert log.recent[0]["status"] == "failed" and "550" in log.recent[0]["last_error"]


# --------------------------------------------------------------------------- consent and scopes


def test_consent_is_recorded_with_its_time_and_scope(
    app: NotificationsApp, smtp_server: SmtpServer, clock: FakeClock
) -> None:
    confirmed_subscriber(app, smtp_server, "rad@example.org", scope_type="field_of_action",
                         scope_value="cycling", frequency="daily")
    with app.engine.connect() as conn:
        row = conn.execute(select(t.subscriptions)).mappings().one()
    assert (row["scope_type"], row["scope_value"], row["frequency"], row["status"]) == (
        "field_of_action", "cycling", "daily", "confirmed")
    assert row["confirmed_at"].replace(tzinfo=None) == clock.now().replace(tzinfo=None)
    confirmation = smtp_server.to("rad@example.org")[0]
    assert "Handlungsfeld „Radverkehr“" in text_of(confirmation)
    assert "eine Zusammenfassung am Tag" in text_of(confirmation)


def test_subscribing_again_to_a_confirmed_scope_says_the_same_and_sends_nothing(
    app: NotificationsApp, smtp_server: SmtpServer, clock: FakeClock
) -> None:
    confirmed_subscriber(app, smtp_server, "known@example.org", scope_type="town",
                         scope_value="olpe")
    clock.advance(hours=1)
    again = app.subscribe(Subscribe(email="known@example.org", scope_type="town",
                                    scope_value="olpe"))
    fresh = app.subscribe(Subscribe(email="new@example.org", scope_type="town",
                                    scope_value="olpe"))
    assert again == fresh
    app.send_due()
    assert len(smtp_server.to("known@example.org")) == 1


def test_a_town_outside_the_network_is_refused(app: NotificationsApp) -> None:
    with pytest.raises(InvalidScope):
        app.subscribe(Subscribe(email="a@example.org", scope_type="town", scope_value="atlantis"))


def test_a_status_change_reaches_the_followers_of_the_measure_its_field_its_towns_and_the_region(
    app: NotificationsApp, smtp_server: SmtpServer, clock: FakeClock
) -> None:
    # Given followers of every kind of scope, some of which do not cover the measure
    follows = {
        "measure@example.org": {"measure_code": CODE},
        "field@example.org": {"scope_type": "field_of_action", "scope_value": "cycling"},
        "soest@example.org": {"scope_type": "town", "scope_value": "soest"},
        "region@example.org": {"scope_type": "region"},
        "arnsberg@example.org": {"scope_type": "town", "scope_value": "arnsberg"},
        "walking@example.org": {"scope_type": "field_of_action", "scope_value": "walking"},
        "other@example.org": {"measure_code": "VEP-RAD-01"},
    }
    for address, scope in follows.items():
        confirmed_subscriber(app, smtp_server, address, **scope)

    # When the status of a cycling measure of Soest changes
    assert app.on_measure_status_changed(status_changed(towns=("soest",))) == 4
    deliver(app, clock)

    # Then exactly the followers of its measure, field, town and the region hear of it
    reached = {a for a in follows if news(smtp_server, a)}
    assert reached == {"measure@example.org", "field@example.org", "soest@example.org",
                       "region@example.org"}
    assert "Beschlossen" in text_of(news(smtp_server, "soest@example.org")[0])


def test_a_region_wide_measure_reaches_the_followers_of_every_town(
    app: NotificationsApp, smtp_server: SmtpServer, clock: FakeClock
) -> None:
    for town in ("soest", "arnsberg", "bad-berleburg", "menden", "olpe"):
        confirmed_subscriber(app, smtp_server, f"{town}@example.org", scope_type="town",
                             scope_value=town)
    app.on_measure_status_changed(status_changed(towns=()))
    deliver(app, clock)
    for town in ("soest", "arnsberg", "bad-berleburg", "menden", "olpe"):
        assert len(news(smtp_server, f"{town}@example.org")) == 1


def test_someone_who_matches_several_scopes_gets_one_mail_per_change(
    app: NotificationsApp, smtp_server: SmtpServer, clock: FakeClock
) -> None:
    for scope in ({"measure_code": CODE}, {"scope_type": "region"},
                  {"scope_type": "town", "scope_value": "soest"},
                  {"scope_type": "field_of_action", "scope_value": "cycling"}):
        app.subscribe(Subscribe(email="fan@example.org", **scope))  # type: ignore[arg-type]
    app.send_due()
    for mail in smtp_server.to("fan@example.org"):
        app.confirm(ConfirmSubscription(token=re.search(r"token=(\S+)", text_of(mail)).group(1)))
    assert app.on_measure_status_changed(status_changed(towns=("soest",))) == 1
    deliver(app, clock)
    [mail] = news(smtp_server, "fan@example.org")
    assert "zu dieser Maßnahme" in text_of(mail)  # the most specific subscription is named


# --------------------------------------------------------------------------- bundling and digests


def test_forty_status_changes_in_a_row_reach_each_subscriber_as_one_mail(
    app: NotificationsApp, smtp_server: SmtpServer, clock: FakeClock
) -> None:
    confirmed_subscriber(app, smtp_server, "one@example.org", scope_type="region")
    confirmed_subscriber(app, smtp_server, "two@example.org", scope_type="field_of_action",
                         scope_value="cycling")
    # When a coordinator changes 40 measures within the quiet period
    for n in range(40):
        app.on_measure_status_changed(status_changed(code=f"VEP-X-{n:02d}", title=f"Maßnahme {n}"))
        clock.advance(seconds=0.5)
    assert app.bundle_due() == 0  # the quiet period of the first change has not passed
    deliver(app, clock, seconds=app.batch_wait.total_seconds())
    deliver(app, clock)
    # Then each subscriber gets one mail that names all 40, the newest first
    for who in ("one@example.org", "two@example.org"):
        [mail] = news(smtp_server, who)
        body = text_of(mail)
        assert mail["Subject"] == "Neuer Stand bei 40 Maßnahmen"
        assert all(f"(VEP-X-{n:02d})" in body for n in range(40))
        assert body.index("VEP-X-39") < body.index("VEP-X-00")
        assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_a_daily_digest_bundles_everything_since_the_last_one_by_town_and_measure_newest_first(
    app: NotificationsApp, smtp_server: SmtpServer, clock: FakeClock
) -> None:
    confirmed_subscriber(app, smtp_server, "daily@example.org", scope_type="region",
                         frequency="daily")
    start = clock.now()
    # Given three changes during the day: Soest's measure twice, then one of Arnsberg
    app.on_measure_status_changed(status_changed(code="VEP-S-01", towns=("soest",), title="Soest A",
                                                 occurred_at=start + timedelta(hours=1)))
    app.on_measure_status_changed(status_changed(code="VEP-A-01", towns=("arnsberg",),
                                                 title="Arnsberg B",
                                                 occurred_at=start + timedelta(hours=2)))
    app.on_measure_status_changed(status_changed(code="VEP-S-01", towns=("soest",), title="Soest A",
                                                 revision=3, note="Baubeginn",
                                                 occurred_at=start + timedelta(hours=3)))
    assert deliver(app, clock, hours=12) == 0  # no mail before the day is over

    # When the day has passed
    assert deliver(app, clock, hours=12) == 1

    # Then one digest lists all three, grouped by town, newest first
    [digest] = news(smtp_server, "daily@example.org")
    body = text_of(digest).replace("\r\n", "\n")
    assert digest["Subject"] == "Ihre tägliche Zusammenfassung: 3 Neuigkeiten"
    assert body.index("Soest\n") < body.index("Arnsberg\n")  # Soest has the newest news
    assert body.count("Soest A (VEP-S-01)") == 1 and "Anmerkung: Baubeginn" in body

    # And the next digest only has what came after it, a day later
    app.on_measure_status_changed(status_changed(code="VEP-A-02", towns=("arnsberg",),
                                                 title="Arnsberg C"))
    assert deliver(app, clock, hours=23) == 0
    assert deliver(app, clock, hours=1) == 1
    latest = text_of(news(smtp_server, "daily@example.org")[-1])
    assert "VEP-A-02" in latest and "VEP-S-01" not in latest


def test_a_weekly_digest_waits_for_the_week(
    app: NotificationsApp, smtp_server: SmtpServer, clock: FakeClock
) -> None:
    confirmed_subscriber(app, smtp_server, "weekly@example.org", measure_code=CODE,
                         frequency="weekly")
    app.on_measure_status_changed(status_changed())
    assert deliver(app, clock, days=6) == 0
    assert deliver(app, clock, days=1) == 1
    assert news(smtp_server, "weekly@example.org")[0]["Subject"].startswith(
        "Ihre wöchentliche Zusammenfassung")


# --------------------------------------------------------------------------- links


def test_the_preferences_link_changes_frequency_and_language_and_a_tampered_one_changes_nothing(
    app: NotificationsApp, smtp_server: SmtpServer, clock: FakeClock
) -> None:
    confirmed_subscriber(app, smtp_server, "prefs@example.org")
    app.on_measure_status_changed(status_changed())
    deliver(app, clock)
    body = text_of(news(smtp_server, "prefs@example.org")[0])
    token = re.search(r"einstellungen\?token=(\S+)", body).group(1)

    prefs = app.preferences(token)
    assert prefs.email == "prefs@example.org" and len(prefs.subscriptions) == 1
    sub_id = prefs.subscriptions[0].id
    tampered = token[:-1] + ("0" if token[-1] != "0" else "1")
    with pytest.raises(InvalidLink):
        app.update_preferences(UpdatePreferences(token=tampered, language="en",
                                                 frequencies={sub_id: "weekly"}))
    assert app.preferences(token).subscriptions[0].frequency == "immediate"

    changed = app.update_preferences(UpdatePreferences(token=token, language="en",
                                                       frequencies={sub_id: "daily"}))
    assert changed.language == "en" and changed.subscriptions[0].frequency == "daily"
    app.on_measure_status_changed(status_changed(revision=3))
    assert deliver(app, clock, days=1) == 1
    assert news(smtp_server, "prefs@example.org")[-1]["Subject"].startswith("Your daily summary")


def test_a_preferences_link_cannot_change_another_addresss_subscription(
    app: NotificationsApp, smtp_server: SmtpServer
) -> None:
    mine = confirmed_subscriber(app, smtp_server, "mine@example.org")
    theirs = confirmed_subscriber(app, smtp_server, "theirs@example.org")
    their_sub = app.preferences(theirs).subscriptions[0].id
    with pytest.raises(InvalidLink):
        app.update_preferences(UpdatePreferences(token=mine, unsubscribe=(their_sub,)))
    assert len(app.preferences(theirs).subscriptions) == 1


def test_one_click_in_a_mail_from_several_subscriptions_ends_them_all(
    app: NotificationsApp, smtp_server: SmtpServer, clock: FakeClock
) -> None:
    confirmed_subscriber(app, smtp_server, "many@example.org", measure_code=CODE)
    confirmed_subscriber(app, smtp_server, "many@example.org", measure_code="VEP-RAD-01")
    app.on_measure_status_changed(status_changed())
    app.on_measure_status_changed(status_changed(code="VEP-RAD-01"))
    deliver(app, clock)
    [mail] = news(smtp_server, "many@example.org")
    header = mail["List-Unsubscribe"]
    assert "/abo/abmelden/one-click?token=" in header
    app.unsubscribe(header.split("token=")[1].rstrip(">"))
    app.on_measure_status_changed(status_changed(revision=5))
    deliver(app, clock)
    assert len(news(smtp_server, "many@example.org")) == 1


# --------------------------------------------------------------------------- delivery


def test_a_permanently_refused_address_is_marked_bouncing_and_gets_no_further_mail(
    app: NotificationsApp, smtp_server: SmtpServer, clock: FakeClock
) -> None:
    confirmed_subscriber(app, smtp_server, "bounce@example.org")
    smtp_server.handler.refuse_with = "550 5.1.1 Postfach unbekannt"
    app.on_measure_status_changed(status_changed())
    deliver(app, clock)
    assert smtp_server.handler.refusals == 1
    smtp_server.handler.refuse_with = None

    app.on_measure_status_changed(status_changed(revision=3))
    deliver(app, clock)
    deliver(app, clock, hours=2)
    assert news(smtp_server, "bounce@example.org") == []
    log = app.delivery_log()
    assert log.bouncing_addresses == 1
    assert any(c.cause == "measure_status_changed" and c.status == "failed" for c in log.counts)


def test_a_bouncing_address_that_confirms_a_subscription_again_receives_mail_again(
    app: NotificationsApp, smtp_server: SmtpServer, clock: FakeClock
) -> None:
    # Given an address the server refused for good, with the server's reply as reason
    confirmed_subscriber(app, smtp_server, "back@example.org")
    smtp_server.handler.refuse_with = "550 5.2.1 Postfach gesperrt"
    app.on_measure_status_changed(status_changed())
    deliver(app, clock)
    smtp_server.handler.refuse_with = None
    with app.engine.connect() as conn:
        reason = conn.execute(select(t.recipients.c.bounce_reason)
                              .where(t.recipients.c.email == "back@example.org")).scalar_one()
    assert reason == "550 5.2.1 Postfach gesperrt"
    assert app.delivery_log().recent[0]["last_error"] == reason

    # When the same person subscribes again and confirms by the mailed link
    confirmed_subscriber(app, smtp_server, "back@example.org", scope_type="field_of_action",
                         scope_value="cycling")

    # Then the address no longer bounces and the next news reaches it
    assert app.delivery_log().bouncing_addresses == 0
    app.on_measure_status_changed(status_changed(revision=3))
    deliver(app, clock)
    assert len(news(smtp_server, "back@example.org")) == 1


def test_the_delivery_log_counts_sent_retried_and_failed_mail_by_cause(
    app: NotificationsApp, smtp_server: SmtpServer, clock: FakeClock
) -> None:
    confirmed_subscriber(app, smtp_server, f"log-{uuid.uuid4().hex[:4]}@example.org")
    smtp_server.handler.refuse_with = "421 4.7.0 Zu viele Verbindungen"
    app.on_measure_status_changed(status_changed())
    deliver(app, clock)
    smtp_server.handler.refuse_with = None
    deliver(app, clock, seconds=61)  # a busy server: the domain waits a minute
    counts = {(c.cause, c.status): (c.count, c.retried) for c in app.delivery_log().counts}
    assert counts == {("confirm_subscription", "sent"): (1, 0),
                      ("measure_status_changed", "sent"): (1, 1)}
    with app.engine.connect() as conn:
        bodies = conn.execute(select(t.deliveries.c.text_body)).scalars().all()
    assert bodies == [None, None]  # bodies are dropped once sent
