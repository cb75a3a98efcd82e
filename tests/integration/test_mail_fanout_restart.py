"""A notifications process killed with SIGKILL in the middle of a large fan-out loses no mail.

The service runs as a real process (started the way `soesmart up` does) against
a real SMTP server on loopback, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import signal
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from services.notifications.adapters import tables as t
from services.notifications.adapters.mail import MemoryTransport
from services.notifications.service_layer.handlers import NotificationsApp
from soesmart.config import Settings
from soesmart.contracts import MeasureStatusChanged, Source
from soesmart.messaging.topology import declare_all
from soesmart.storage import make_engine
from soesmart.towns import towns
from tests.support.bus import publish_event
from tests.support.infra import create_vhost, delete_vhost, eventually
from tests.support.network import Network
from tests.support.smtp import SmtpServer
from tests.support.subscribers import add_confirmed_subscribers

# 5,000 mails on SQLite (issue 10); on PostgreSQL, whose driver is slower here, 400 suffice to
# kill the process in the middle of the same code path.
SUBSCRIBERS = {"sqlite": 5000, "postgresql": 400}
# README (Notifications): mails accepted by SMTP but not yet recorded when the process
# dies, "at most 10 per SMTP connection", go out again. This test uses one connection.
DOCUMENTED_RESENDS_PER_CONNECTION = 10


@pytest.fixture
def network(tmp_path: Path, smtp_server: SmtpServer, database_url: str) -> Iterator[Network]:
    vhost, url = create_vhost()
    net = Network(data_dir=tmp_path, broker_url=url, vhost=vhost, smtp_url=smtp_server.url,
                  extra_env={"SOESMART_DATABASE_URL": database_url,
                             "SOESMART_MAIL_BATCH_SECONDS": "0.5",
                             "SOESMART_MAIL_CONNECTIONS": "1"})
    yield net
    net.stop()
    delete_vhost(vhost)


def confirmed_subscribers(database_url: str, tmp_path: Path, count: int) -> list[str]:
    app = NotificationsApp(Settings(data_dir=tmp_path, database_url=database_url),
                           transport=MemoryTransport())  # migrates the database
    addresses = [f"person-{n:05d}@example.org" for n in range(count)]
    add_confirmed_subscribers(app.engine, addresses)
    app.engine.dispose()
    return addresses


# 5,000 mails take about half a minute on a quiet machine; the suite's 300 s per test is
# not enough when other suites load the same two cores.
@pytest.mark.timeout(900)
def test_a_fan_out_of_5000_mails_killed_midway_reaches_everyone_under_one_message_id_resending_at_most_ten(
    network: Network, smtp_server: SmtpServer, database_url: str, tmp_path: Path
) -> None:
    # Given 400 confirmed subscribers of the region and a running notifications process
    count = SUBSCRIBERS["sqlite" if database_url.startswith("sqlite") else "postgresql"]
    addresses = confirmed_subscribers(database_url, tmp_path, count)
    network.start(only=["notifications"], wait=False)
    event = MeasureStatusChanged(source=Source(service="measures"), code="VEP-RAD-02",
                                 title="Radweg auf der ehemaligen Bahntrasse",
                                 old_status="in_consultation", new_status="decided",
                                 changed_by="Koordination", revision=2)

    # When a status change is published and the process is killed while the mails go out
    declare_all(network.broker_url, towns())  # the queue exists before the event is sent
    publish_event(network.broker_url, event)
    eventually(lambda: len(smtp_server.messages) >= count // 10, timeout=300, interval=0.01,
               message="the fan-out has started")
    network.stop_service("notifications", signal.SIGKILL)
    arrived_before_kill = len(smtp_server.messages)
    network.start_service("notifications")

    # Then, after the restart, every subscriber has the message, under one Message-ID
    def everyone_reached() -> bool:
        network.assert_alive()
        return len({str(m["To"]) for m in smtp_server.messages}) == count

    # A deadline, not a speed: generous for a machine that runs other suites beside this one
    eventually(everyone_reached, timeout=600, interval=0.2, message="all subscribers are mailed")
    # ... and once the sender has recorded every mail as sent (nothing more will go out)
    engine = make_engine(database_url)
    try:
        def all_recorded() -> bool:
            with engine.connect() as conn:
                states = dict(conn.execute(select(t.deliveries.c.status, func.count())
                                           .group_by(t.deliveries.c.status)).all())
            return states == {"sent": count}

        eventually(all_recorded, timeout=60, interval=0.2, message="every mail is recorded as sent")
    finally:
        engine.dispose()
    assert arrived_before_kill < count, "the kill came after the fan-out had finished"
    ids_per_address = {a: set() for a in addresses}
    for m in smtp_server.messages:
        ids_per_address[str(m["To"])].add(str(m["Message-ID"]))
    assert all(len(ids) == 1 for ids in ids_per_address.values())
    # SMTP cannot join our transaction: a mail accepted by the server before the kill
    # whose mark was not yet committed is handed over again, with the same Message-ID
    # (see README): at most the documented number, whatever the code's batch size is.
    resent = sum(n - 1 for n in Counter(str(m["To"]) for m in smtp_server.messages).values())
    assert resent <= DOCUMENTED_RESENDS_PER_CONNECTION, f"{resent} mails went out twice"
