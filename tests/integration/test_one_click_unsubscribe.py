"""One-click unsubscribe (RFC 8058) through the running gateway, as a mail provider does it.

The gateway and the notifications service run as real processes against a real SMTP
server; the List-Unsubscribe address of a received mail is POSTed to over HTTP with no
cookie, no session and no CSRF token, as Gmail or Yahoo do from their servers.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select

from services.notifications.adapters import tables as t
from services.notifications.adapters.mail import MemoryTransport
from services.notifications.service_layer.handlers import NotificationsApp
from soesmart.config import Settings
from soesmart.contracts import CommentReplied, MeasureStatusChanged, Source
from soesmart.messaging.topology import declare_all
from soesmart.storage import make_engine
from soesmart.towns import towns
from tests.support.bus import publish_event
from tests.support.infra import create_vhost, delete_vhost, eventually
from tests.support.network import Network
from tests.support.smtp import SmtpServer
from tests.support.subscribers import add_confirmed_subscribers

LEAVING, STAYING = "geht@example.org", "bleibt@example.org"


@pytest.fixture
def network(tmp_path: Path, smtp_server: SmtpServer) -> Iterator[Network]:
    app = NotificationsApp(Settings(data_dir=tmp_path), transport=MemoryTransport())  # migrates
    add_confirmed_subscribers(app.engine, [LEAVING, STAYING])
    app.engine.dispose()
    vhost, url = create_vhost()
    net = Network(data_dir=tmp_path, broker_url=url, vhost=vhost, smtp_url=smtp_server.url,
                  smtp=smtp_server)
    net.start(only=["gateway", "notifications"], wait=False)
    declare_all(url, towns())  # the queues exist before the first event is sent
    eventually(lambda: requests.get(net.url + "/healthz", timeout=2).ok, timeout=60,
               message="the gateway answers")
    yield net
    net.stop()
    delete_vhost(vhost)


def status_changed(revision: int) -> MeasureStatusChanged:
    return MeasureStatusChanged(source=Source(service="measures"), code="VEP-RAD-02",
                                title="Radweg Bahntrasse", old_status="in_consultation",
                                new_status="decided", changed_by="Koordination",
                                revision=revision)


def replied(to: str) -> CommentReplied:
    return CommentReplied(source=Source(service="participation", town="olpe"), town="olpe",
                          comment_id=uuid.uuid4(), parent_id=uuid.uuid4(),
                          measure_code="VEP-RAD-02", measure_title="Radweg Bahntrasse",
                          replier_display_name="Bernd K.", excerpt="Sehe ich auch so.",
                          recipient_email=to)


def mails(network: Network, address: str, subject_part: str, count: int) -> list[EmailMessage]:
    def arrived() -> list[EmailMessage] | None:
        network.assert_alive()
        found = [m for m in network.mails_to(address) if subject_part in str(m["Subject"])]
        return found if len(found) >= count else None

    return eventually(arrived, timeout=60, interval=0.2, message=f"{count} mail(s) to {address}")


def one_click(mail: EmailMessage) -> requests.Response:
    """What a mail provider does with the headers: POST the body RFC 8058 names, nothing else."""
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = re.fullmatch(r"<(https?://[^>]+)>", str(mail["List-Unsubscribe"])).group(1)
    return requests.post(url, data={"List-Unsubscribe": "One-Click"}, timeout=10,
                         allow_redirects=False)


def deliveries_to(network: Network, address: str) -> int:
    engine = make_engine(network.database_url("notifications"))
    try:
        with engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(t.deliveries)
                                    .where(t.deliveries.c.recipient == address)).scalar_one())
    finally:
        engine.dispose()


def handled(network: Network, event_id: uuid.UUID) -> bool:
    engine = make_engine(network.database_url("notifications"))
    try:
        with engine.connect() as conn:
            return conn.execute(select(t.processed_events.c.event_id).where(
                t.processed_events.c.event_id == str(event_id))).first() is not None
    finally:
        engine.dispose()


def test_one_click_on_news_and_on_a_reply_mail_stops_further_mail_at_once(
    network: Network
) -> None:
    # Given news of a measure and a reply to a comment, mailed to two people
    publish_event(network.broker_url, status_changed(2))
    publish_event(network.broker_url, replied(LEAVING))
    [news] = mails(network, LEAVING, "Neuer Stand", 1)
    [reply] = mails(network, LEAVING, "geantwortet", 1)
    mails(network, STAYING, "Neuer Stand", 1)

    # When the address of each mail's List-Unsubscribe is opened in a browser, it asks first
    url = re.fullmatch(r"<([^>]+)>", str(news["List-Unsubscribe"])).group(1)
    for lang, heading in (("de", "E-Mails abbestellen"), ("en", "Unsubscribe")):
        page = requests.get(url + f"&lang={lang}", timeout=10)
        assert page.status_code == 200 and f"<h1>{heading}</h1>" in page.text
    assert deliveries_to(network, LEAVING) == 2  # opening the page changed nothing

    # ... and when the mail provider POSTs to it, without cookie, session or CSRF token,
    # the person is unsubscribed at once
    for mail in (news, reply):
        answer = one_click(mail)
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"status": "unsubscribed"}

    # Then further news and replies reach the other person but not this one
    before = deliveries_to(network, LEAVING)
    second_reply = replied(LEAVING)
    publish_event(network.broker_url, status_changed(3))
    publish_event(network.broker_url, second_reply)
    publish_event(network.broker_url, replied(STAYING))
    mails(network, STAYING, "Neuer Stand", 2)
    mails(network, STAYING, "geantwortet", 1)
    eventually(lambda: handled(network, second_reply.event_id), timeout=30,
               message="the second reply to the unsubscribed person was handled")
    assert deliveries_to(network, LEAVING) == before == 2
    assert len(network.mails_to(LEAVING)) == 2

    # ... and a tampered token is refused with a clear 400, changing nothing
    bad = requests.post(url.replace("token=", "token=x"), data={"List-Unsubscribe": "One-Click"},
                        timeout=10)
    assert bad.status_code == 400 and bad.json()["error"] == "INVALID_LINK"
