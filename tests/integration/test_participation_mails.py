"""Mails caused by the towns' participation: links, consultation news, replies, ideas, following.

The town instances publish the events; here the tests build them and hand them to
the notifications service's handlers (and once through the real broker to a running
process), against a real SMTP server on loopback and both databases. Time is a fake
clock the tests move.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from services.notifications.adapters import tables as t
from services.notifications.adapters.clock import FakeClock
from services.notifications.adapters.mail import SmtpTransport
from services.notifications.service_layer.handlers import NotificationsApp
from soesmart.config import Settings
from soesmart.contracts import (
    CitizenErased,
    CitizenFollowsMeasure,
    CitizenLinkRequested,
    CommentReplied,
    ConfirmSubscription,
    ConsultationMilestone,
    IdeaAccepted,
    IdeaDeclined,
    MeasureStatusChanged,
    Source,
    Subscribe,
    idea_measure_code,
)
from soesmart.messaging.topology import declare_all
from soesmart.towns import towns
from tests.support.bus import publish_event
from tests.support.infra import create_vhost, delete_vhost, eventually
from tests.support.network import Network
from tests.support.smtp import SmtpServer, text_of

PUBLIC = "http://127.0.0.1:8000"
BERLIN = ZoneInfo("Europe/Berlin")
TOKEN = "tok_" + "A1b2C3d4E5f6G7h8I9j0" * 2
CONSULTATION = uuid.UUID(int=42)
CODE = "VEP-RAD-02"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def app(settings: Settings, smtp_server: SmtpServer, clock: FakeClock) -> NotificationsApp:
    return NotificationsApp(settings, transport=SmtpTransport(smtp_server.url), clock=clock)


def town_source(town: str) -> Source:
    return Source(service="participation", town=town)


def link_requested(clock: FakeClock, purpose: str = "confirm_registration", town: str = "soest",
                   email: str = "anna@example.org", language: str = "de",
                   valid_for: timedelta = timedelta(hours=24)) -> CitizenLinkRequested:
    return CitizenLinkRequested(source=town_source(town), town=town, purpose=purpose,  # type: ignore[arg-type]
                                email=email, display_name="Anna", language=language,  # type: ignore[arg-type]
                                token=TOKEN, expires_at=clock.now() + valid_for)


def milestone(clock: FakeClock, which: str = "opened", town: str = "soest",
              at: timedelta = timedelta(0)) -> ConsultationMilestone:
    return ConsultationMilestone(source=town_source(town), town=town, consultation_id=CONSULTATION,
                                 milestone=which, title="Radverkehr 2030",  # type: ignore[arg-type]
                                 starts_on="2026-03-02", ends_on="2026-03-31",
                                 occurred_at=clock.now() + at)


def subscribe_and_confirm(app: NotificationsApp, smtp: SmtpServer, address: str,
                          **scope: str) -> None:
    app.subscribe(Subscribe(email=address, **scope))  # type: ignore[arg-type]
    app.send_due()
    token = re.search(r"token=(\S+)", text_of(smtp.to(address)[-1])).group(1)  # type: ignore[union-attr]
    app.confirm(ConfirmSubscription(token=token))


def deliver(app: NotificationsApp, clock: FakeClock, **advance: float) -> int:
    clock.advance(**(advance or {"seconds": app.batch_wait.total_seconds() + 1}))
    app.bundle_due()
    return app.send_due()


def news(smtp: SmtpServer, address: str) -> list[EmailMessage]:
    return [m for m in smtp.to(address)
            if "Abonnement" not in str(m["Subject"]) and "subscription" not in str(m["Subject"])]


def sender_name(message: EmailMessage) -> str:
    return str(message["From"].addresses[0].display_name)


def html_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    assert part is not None
    return str(part.get_content())  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- links a citizen asked for


def test_a_confirmation_link_goes_out_at_once_from_the_town_without_an_unsubscribe_header(
    app: NotificationsApp, smtp_server: SmtpServer, clock: FakeClock, settings: Settings
) -> None:
    # Given a citizen who registered in Soest
    event = link_requested(clock)

    # When the town asks for the link, the mail goes out without waiting for a quiet period
    assert app.on_citizen_link_requested(event)
    assert app.send_due() == 1

    # Then it carries the link, says until when it works (German time), and how to ignore it
    [mail] = smtp_server.to("anna@example.org")
    body = text_of(mail)
    assert f"{PUBLIC}/stadt/soest/bestaetigen?token={TOKEN}" in body
    expires = event.expires_at.astimezone(BERLIN)
    assert f"gilt bis {expires:%d.%m.%Y} um {expires:%H:%M} Uhr" in body
    assert "ignorieren" in body and "Guten Tag Anna" in body
    assert mail["Subject"] == "Soest: Bitte bestätigen Sie Ihre E-Mail-Adresse"
    assert sender_name(mail) == "Soest – Bürgerbeteiligung"
    assert mail["From"].addresses[0].addr_spec == settings.mail_from
    assert mail["List-Unsubscribe"] is None and mail["List-Unsubscribe-Post"] is None
    assert mail["Date"] and re.fullmatch(r"<[0-9a-f]{40}@[^>]+>", str(mail["Message-ID"]))
    assert f'href="{PUBLIC}/stadt/soest/bestaetigen?token={TOKEN}"' in html_of(mail)
    assert mail.get_body(preferencelist=("plain",)).get_content_charset() == "utf-8"  # type: ignore[union-attr]


def test_a_sign_in_link_in_english_names_a_town_with_parentheses_correctly(
    app: NotificationsApp, smtp_server: SmtpServer, clock: FakeClock
) -> None:
    app.on_citizen_link_requested(link_requested(clock, "sign_in", town="menden", language="en",
                                                 valid_for=timedelta(minutes=15)))
    app.send_due()
    [mail] = smtp_server.to("anna@example.org")
    body = text_of(mail)
    assert mail["Subject"] == "Menden (Sauerland): Your sign-in link"
    assert f"{PUBLIC}/stadt/menden/anmelden/link?token={TOKEN}" in body
    assert "(German time)" in body and "ignore this email" in body
    # RFC 2047: the raw header is encoded words, the decoded name has its parentheses
    assert sender_name(mail) == "Menden (Sauerland) – Bürgerbeteiligung"


def test_a_link_that_has_expired_is_never_sent(
    app: NotificationsApp, smtp_server: SmtpServer, clock: FakeClock
) -> None:
    # An event that arrives after its link expired (e.g. the queue was down) sends nothing
    assert not app.on_citizen_link_requested(link_requested(clock, valid_for=timedelta(0)))

    # A mail the server deferred is not retried after its link expired
    smtp_server.handler.refuse_with = "451 4.3.0 Bitte später"
    app.on_citizen_link_requested(link_requested(clock, "sign_in", email="late@example.org",
                                                 valid_for=timedelta(seconds=30)))
    app.send_due()
    smtp_server.handler.refuse_with = None
    clock.advance(seconds=31)
    assert app.send_due() == 0
    assert smtp_server.messages == []
    counts = {(c.cause, c.status): c.count for c in app.delivery_log().counts}
    assert counts == {("sign_in", "failed"): 1}
    assert "expired" in app.delivery_log().recent[0]["last_error"]


def test_a_redelivered_link_event_is_mailed_once(
    app: NotificationsApp, smtp_server: SmtpServer, clock: FakeClock
) -> None:
    event = link_requested(clock)
    assert app.on_citizen_link_requested(event)
    assert not app.on_citizen_link_requested(event)
    app.send_due()
    clock.advance(seconds=5)
    app.send_due()
    assert len(smtp_server.to("anna@example.org")) == 1


# --------------------------------------------------------------------------- consultation news


def test_a_consultation_milestone_reaches_the_towns_subscribers_with_one_click_unsubscribe(
    app: NotificationsApp, smtp_server: SmtpServer, clock: FakeClock
) -> None:
    # Given subscribers of Soest (one in English), of Arnsberg and of the region
    subscribe_and_confirm(app, smtp_server, "soest@example.org", scope_type="town",
                          scope_value="soest")
    subscribe_and_confirm(app, smtp_server, "en@example.org", scope_type="town",
                          scope_value="soest", language="en")
    subscribe_and_confirm(app, smtp_server, "arnsberg@example.org", scope_type="town",
                          scope_value="arnsberg")
    subscribe_and_confirm(app, smtp_server, "region@example.org", scope_type="region")

    # When Soest opens a consultation (and the event is delivered twice)
    event = milestone(clock)
    assert app.on_consultation_milestone(event) == 2
    assert app.on_consultation_milestone(event) == 0
    assert app.bundle_due() == 0  # immediate news waits for the quiet period
    deliver(app, clock)
    deliver(app, clock)

    # Then Soest's subscribers hear of it once, from Soest, with the link to the town's page
    [mail] = news(smtp_server, "soest@example.org")
    body = text_of(mail)
    assert mail["Subject"] == "Soest: Beteiligung „Radverkehr 2030“ hat begonnen"
    assert f"{PUBLIC}/stadt/soest\n" in body.replace("\r\n", "\n")
    assert "02.03.2026 bis 31.03.2026" in body
    assert sender_name(mail) == "Soest – Bürgerbeteiligung"
    assert "/abo/abmelden/one-click?token=" in mail["List-Unsubscribe"]
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "/abo/einstellungen?token=" in body
    [english] = news(smtp_server, "en@example.org")
    assert english["Subject"] == 'Soest: Consultation "Radverkehr 2030" has opened'
    assert "2 March 2026 to 31 March 2026" in text_of(english)
    assert news(smtp_server, "arnsberg@example.org") == []
    assert news(smtp_server, "region@example.org") == []
    counts = {(c.cause, c.status): c.count for c in app.delivery_log().counts}
    assert counts[("consultation_milestone", "sent")] == 2


def test_a_daily_digest_groups_consultation_news_under_the_town_with_the_measures(
    app: NotificationsApp, smtp_server: SmtpServer, clock: FakeClock
) -> None:
    subscribe_and_confirm(app, smtp_server, "daily@example.org", scope_type="town",
                          scope_value="soest", frequency="daily")
    # Given during one day: the consultation opens, a measure of Soest is decided, and the
    # consultation is about to close
    app.on_consultation_milestone(milestone(clock, "opened", at=timedelta(hours=1)))
    app.on_measure_status_changed(MeasureStatusChanged(
        source=Source(service="measures"), code=CODE, title="Radweg Bahntrasse",
        old_status="in_consultation", new_status="decided", changed_by="Koordination",
        revision=2, towns=("soest",), field_of_action="cycling",
        occurred_at=clock.now() + timedelta(hours=2)))
    app.on_consultation_milestone(milestone(clock, "closing_soon", at=timedelta(hours=3)))
    app.on_consultation_milestone(milestone(clock, "opened", town="arnsberg"))  # not followed
    assert deliver(app, clock, hours=12) == 0

    # When the day is over
    assert deliver(app, clock, hours=12) == 1

    # Then one digest lists the three under Soest: the consultation (newest news first), the measure
    [digest] = news(smtp_server, "daily@example.org")
    body = text_of(digest).replace("\r\n", "\n")
    assert digest["Subject"] == "Ihre tägliche Zusammenfassung: 3 Neuigkeiten"
    assert body.count("Soest\n") == 1 and "Arnsberg" not in body
    consultation = body.index("– Beteiligung „Radverkehr 2030“ (02.03.2026 bis 31.03.2026)")
    assert consultation < body.index("Radweg Bahntrasse (VEP-RAD-02)")
    assert (body.index("Die Beteiligung endet in drei Tagen")
            < body.index("Die Beteiligung hat begonnen"))
    assert f"Mehr: {PUBLIC}/stadt/soest\n" in body and f"{PUBLIC}/massnahmen/{CODE}" in body
    assert digest["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # news of the region's catalogue and of the town together: the region is the sender
    assert sender_name(digest) == "5 für Südwestfalen – Beteiligung"


# --------------------------------------------------------------------------- replies and ideas


def test_a_reply_to_a_comment_names_who_replied_and_how_to_turn_these_mails_off(
    app: NotificationsApp, smtp_server: SmtpServer
) -> None:
    event = CommentReplied(source=town_source("olpe"), town="olpe", comment_id=uuid.uuid4(),
                           parent_id=uuid.uuid4(), measure_code=CODE,
                           measure_title="Radweg Bahntrasse", replier_display_name="Bernd K.",
                           excerpt="Da stimme ich zu, aber <b>die Ampel</b> fehlt.",
                           recipient_email="clara@example.org")
    assert app.on_comment_replied(event)
    assert not app.on_comment_replied(event)
    app.send_due()
    [mail] = smtp_server.to("clara@example.org")
    body = text_of(mail)
    assert mail["Subject"] == "Bernd K. hat auf Ihren Kommentar geantwortet"
    assert "„Da stimme ich zu, aber <b>die Ampel</b> fehlt.“" in body
    assert f"{PUBLIC}/massnahmen/{CODE}" in body
    assert f"{PUBLIC}/stadt/olpe/meine-daten" in body
    assert "&lt;b&gt;die Ampel&lt;/b&gt;" in html_of(mail)
    assert sender_name(mail) == "Olpe – Bürgerbeteiligung"
    # Not a link the person asked for: one click stops these mails (RFC 8058)
    assert "/abo/abmelden/one-click?token=" in mail["List-Unsubscribe"]
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_the_author_hears_that_an_idea_was_accepted_with_its_new_catalogue_code(
    app: NotificationsApp, smtp_server: SmtpServer
) -> None:
    idea_id = uuid.uuid4()
    event = IdeaAccepted(source=town_source("arnsberg"), town="arnsberg", idea_id=idea_id,
                         title="Fahrradbügel am Bahnhof", description="Mehr Bügel. Bitte bald.",
                         field_of_action="cycling", note="Wird im Frühjahr geprüft.",
                         author_email="dora@example.org")
    assert app.on_idea_decided(event)
    app.send_due()
    [mail] = smtp_server.to("dora@example.org")
    body = text_of(mail)
    code = idea_measure_code("arnsberg", idea_id)
    assert mail["Subject"] == "Ihre Idee „Fahrradbügel am Bahnhof“ wurde angenommen"
    assert f"vorgeschlagene Maßnahme {code}" in body and f"{PUBLIC}/massnahmen/{code}" in body
    assert "Anmerkung der Stadt: Wird im Frühjahr geprüft." in body
    assert sender_name(mail) == "Arnsberg – Bürgerbeteiligung"


def test_the_author_hears_why_an_idea_was_declined_in_their_language_and_nobody_if_erased(
    app: NotificationsApp, smtp_server: SmtpServer
) -> None:
    declined = IdeaDeclined(source=town_source("bad-berleburg"), town="bad-berleburg",
                            idea_id=uuid.uuid4(), title="Seilbahn", reason="Zu teuer für die Stadt.",
                            author_email="erik@example.org", author_language="en")
    erased = IdeaDeclined(source=town_source("soest"), town="soest", idea_id=uuid.uuid4(),
                          title="Tunnel", reason="Nicht machbar.", author_email=None)
    assert app.on_idea_decided(declined)
    assert not app.on_idea_decided(erased)
    app.send_due()
    [mail] = smtp_server.messages
    assert str(mail["To"]) == "erik@example.org"
    assert mail["Subject"] == 'Your idea "Seilbahn": the town\'s decision'
    assert "Reason: Zu teuer für die Stadt." in text_of(mail)
    assert sender_name(mail) == "Bad Berleburg – Bürgerbeteiligung"


# --------------------------------------------------------------------------- following rated measures


def follows(address: str = "fritz@example.org", code: str = CODE) -> CitizenFollowsMeasure:
    return CitizenFollowsMeasure(source=town_source("soest"), town="soest", measure_code=code,
                                 email=address)


def test_a_citizen_who_rates_a_measure_follows_it_without_a_confirmation_mail(
    app: NotificationsApp, smtp_server: SmtpServer, clock: FakeClock
) -> None:
    # Given a confirmed citizen who asked for news of what they rate, rating a measure twice
    first = follows()
    assert app.on_citizen_follows_measure(first)
    assert not app.on_citizen_follows_measure(first)  # redelivered
    assert not app.on_citizen_follows_measure(follows())  # rated again: a new event
    app.send_due()
    assert smtp_server.messages == []  # the consent came with the registration

    # Then there is one confirmed subscription whose consent names its source and time
    with app.engine.connect() as conn:
        [row] = conn.execute(select(t.subscriptions)).mappings().all()
    assert (row["email"], row["scope_type"], row["scope_value"], row["status"],
            row["frequency"]) == ("fritz@example.org", "measure", CODE, "confirmed", "immediate")
    assert row["consent_source"].startswith("bewertet in Soest")
    assert row["confirmed_at"].replace(tzinfo=None) == first.occurred_at.replace(tzinfo=None)

    # And a status change of the measure reaches them with a one-click unsubscribe
    app.on_measure_status_changed(MeasureStatusChanged(
        source=Source(service="measures"), code=CODE, title="Radweg Bahntrasse",
        old_status="in_consultation", new_status="decided", changed_by="K", revision=2))
    deliver(app, clock)
    [mail] = smtp_server.to("fritz@example.org")
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert sender_name(mail) == "5 für Südwestfalen – Beteiligung"


def test_following_respects_an_earlier_unsubscribe_and_a_bouncing_address(
    app: NotificationsApp, smtp_server: SmtpServer, clock: FakeClock
) -> None:
    # Given someone who followed the measure and then unsubscribed with the mail's link
    app.on_citizen_follows_measure(follows("gone@example.org"))
    app.on_measure_status_changed(MeasureStatusChanged(
        source=Source(service="measures"), code=CODE, title="Radweg Bahntrasse",
        old_status="in_consultation", new_status="decided", changed_by="K", revision=2))
    deliver(app, clock)
    [mail] = smtp_server.to("gone@example.org")
    app.unsubscribe(re.search(r"abmelden\?token=(\S+)", text_of(mail)).group(1))  # type: ignore[union-attr]

    # When they rate it again, nothing comes back to life
    assert not app.on_citizen_follows_measure(follows("gone@example.org"))
    with app.engine.connect() as conn:
        status = conn.execute(select(t.subscriptions.c.status).where(
            t.subscriptions.c.email == "gone@example.org")).scalar_one()
    assert status == "unsubscribed"

    # And an address the mail server refused for good is not subscribed either
    smtp_server.handler.refuse_with = "550 5.1.1 Unbekannt"
    app.on_idea_decided(IdeaDeclined(source=town_source("soest"), town="soest",
                                     idea_id=uuid.uuid4(), title="Idee", reason="Nein, leider.",
                                     author_email="bounce@example.org"))
    app.send_due()
    smtp_server.handler.refuse_with = None
    assert app.delivery_log().bouncing_addresses == 1
    assert not app.on_citizen_follows_measure(follows("bounce@example.org"))


def test_an_erased_account_takes_its_address_out_of_every_table_but_a_keyed_hash(
    app: NotificationsApp, smtp_server: SmtpServer, clock: FakeClock
) -> None:
    # Given a citizen who follows a rated measure and also subscribed to the region herself
    app.on_citizen_follows_measure(follows("Erika@example.org"))
    app.subscribe(Subscribe(email="erika@example.org", scope_type="region"))
    app.send_due()
    confirmation = smtp_server.to("erika@example.org")[-1]
    token = re.search(r"bestaetigen\?token=(\S+)", text_of(confirmation))
    assert token is not None
    app.confirm(ConfirmSubscription(token=token.group(1)))
    # and a sign-in link on its way that is not sent yet
    app.on_citizen_link_requested(link_requested(clock, "sign_in", email="erika@example.org"))
    exported = app.personal_data("erika@example.org")
    assert {s["scope_type"] for s in exported["subscriptions"]} == {"measure", "region"}
    assert [c["action"] for c in exported["consents"]] == ["given", "given"]
    assert exported["deliveries"]

    # When she erases her account in Soest (the event arrives twice)
    erased = CitizenErased(source=town_source("soest"), town="soest", email="erika@example.org")
    assert app.on_citizen_erased(erased)
    assert not app.on_citizen_erased(erased)

    # Then no table holds her address: no subscription, no consent, no log entry, no mail
    with app.engine.connect() as conn:
        for table in t.metadata.sorted_tables:
            for row in conn.execute(select(table)).all():
                assert "erika@example.org" not in str(row).lower(), (table.name, row)
    exported = app.personal_data("erika@example.org")
    assert all(not rows for key, rows in exported.items() if key != "email")
    before = len(smtp_server.to("erika@example.org"))
    app.send_due()
    assert len(smtp_server.to("erika@example.org")) == before


# --------------------------------------------------------------------------- through the broker


@pytest.fixture
def network(tmp_path: Path, smtp_server: SmtpServer) -> Iterator[Network]:
    vhost, url = create_vhost()
    net = Network(data_dir=tmp_path, broker_url=url, vhost=vhost, smtp_url=smtp_server.url,
                  extra_env={"SOESMART_MAIL_BATCH_SECONDS": "0.5"})
    yield net
    net.stop()
    delete_vhost(vhost)


def test_a_running_notifications_service_mails_the_link_a_town_publishes(
    network: Network, smtp_server: SmtpServer
) -> None:
    # Given the notifications service running as its own process, its queue declared
    declare_all(network.broker_url, towns())
    network.start(only=["notifications"], wait=False)
    clock = FakeClock(datetime.now().astimezone())

    # When Olpe's instance publishes a sign-in link (twice: a redelivery)
    event = link_requested(clock, "sign_in", town="olpe", email="gerda@example.org")
    publish_event(network.broker_url, event)
    publish_event(network.broker_url, event)

    # Then the citizen gets one mail with the link, from Olpe
    [mail] = eventually(lambda: smtp_server.to("gerda@example.org"), timeout=30,
                        message="the sign-in mail arrives")
    assert f"{network.url}/stadt/olpe/anmelden/link?token={TOKEN}" in text_of(mail)
    assert sender_name(mail) == "Olpe – Bürgerbeteiligung"
    publish_event(network.broker_url, link_requested(clock, "sign_in", email="after@example.org"))
    eventually(lambda: smtp_server.to("after@example.org"), timeout=30,
               message="a later mail arrives")
    assert len(smtp_server.to("gerda@example.org")) == 1
    network.assert_alive()
