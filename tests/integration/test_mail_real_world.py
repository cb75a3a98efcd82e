"""Mail against receiving servers that behave as they do in the real world.

Real SMTP servers on loopback: one greylists every new sender/recipient pair, one
takes a few mails per connection (then 421 and closes) and refuses "too many" in a
second (451), one rejects a domain (550), one takes everything. The notifications
service routes each domain to its server and sends on the real clock with the
production retry logic, its waits shortened by configuration.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from services.notifications.adapters import tables as t
from services.notifications.adapters.clock import FakeClock
from services.notifications.service_layer.handlers import NotificationsApp
from soesmart.config import Settings
from soesmart.contracts import MeasureStatusChanged, Source
from tests.support.infra import eventually
from tests.support.smtp import (
    GreylistingHandler,
    RejectingHandler,
    SmtpServer,
    ThrottlingHandler,
)
from tests.support.subscribers import add_confirmed_subscribers

GREYLIST_SECONDS = 1.5  # 5 minutes and more in the real world; same logic, shorter waits
PER_DOMAIN = 24
REJECTED = 5


@dataclass
class Servers:
    greylist: SmtpServer
    throttle: SmtpServer
    reject: SmtpServer
    plain: SmtpServer
    plain_two: SmtpServer

    def all(self) -> list[SmtpServer]:
        return [self.greylist, self.throttle, self.reject, self.plain, self.plain_two]


@pytest.fixture
def servers() -> Iterator[Servers]:
    found = Servers(greylist=SmtpServer(GreylistingHandler(GREYLIST_SECONDS)).start(),
                    throttle=SmtpServer(ThrottlingHandler(per_connection=3, nth=4)).start(),
                    reject=SmtpServer(RejectingHandler("rejected.example")).start(),
                    plain=SmtpServer().start(), plain_two=SmtpServer().start())
    yield found
    for server in found.all():
        server.stop()


def routed_settings(settings: Settings, servers: Servers) -> Settings:
    return settings.model_copy(update=dict(
        smtp_url=servers.plain.url,
        mail_routes={"greylist.example": servers.greylist.url,
                     "throttle.example": servers.throttle.url,
                     "rejected.example": servers.reject.url},
        mail_connections=2, mail_batch_seconds=0.0,
        mail_retry_first_seconds=0.3, mail_retry_max_seconds=1.0, mail_throttle_seconds=0.3,
        mail_retry_hours=0.05,  # 3 minutes: far longer than the test needs
    ))


def addresses(domain: str, count: int) -> list[str]:
    return [f"person-{n:03d}@{domain}" for n in range(count)]


def send_until_nothing_is_pending(app: NotificationsApp) -> dict[str, int]:
    def settled() -> dict[str, int] | None:
        app.bundle_due()
        app.send_due()
        with app.engine.connect() as conn:
            states = dict(conn.execute(select(t.deliveries.c.status, func.count())
                                       .group_by(t.deliveries.c.status)).all())
        return None if states.get("pending") or not states else states

    return eventually(settled, timeout=90, interval=0.1, message="every mail is sent or failed")


def test_greylisting_throttling_and_a_rejecting_domain_lose_no_mail_and_send_none_twice(
    settings: Settings, servers: Servers
) -> None:
    # Given subscribers of the region at four domains, each domain with its own server
    app = NotificationsApp(routed_settings(settings, servers))
    greylisted = addresses("greylist.example", PER_DOMAIN)
    throttled = addresses("throttle.example", PER_DOMAIN)
    rejected = addresses("rejected.example", REJECTED)
    plain = addresses("example.org", PER_DOMAIN)
    add_confirmed_subscribers(app.engine, greylisted + throttled + rejected + plain)

    # When a status change is announced to all of them
    app.on_measure_status_changed(MeasureStatusChanged(
        source=Source(service="measures"), code="VEP-RAD-02", title="Radweg Bahntrasse",
        old_status="in_consultation", new_status="decided", changed_by="Koordination",
        revision=2))
    states = send_until_nothing_is_pending(app)

    # Then every address that takes mail got it exactly once, at its own server
    for server, expected in ((servers.greylist, greylisted), (servers.throttle, throttled),
                             (servers.plain, plain)):
        assert Counter(str(m["To"]) for m in server.messages) == Counter(expected)
        ids = [str(m["Message-ID"]) for m in server.messages]
        assert len(set(ids)) == len(ids)
    assert servers.reject.messages == []
    assert states == {"sent": 3 * PER_DOMAIN, "failed": REJECTED}

    # ... the greylisting server refused each first try, the throttling one closed
    # connections and refused mails it had seen whole, which came again under their
    # first Message-ID
    assert servers.greylist.handler.refusals >= PER_DOMAIN
    throttle = servers.throttle.handler
    assert isinstance(throttle, ThrottlingHandler)
    assert throttle.closed > 0 and throttle.refusals > 0
    retried_ids = {mid for mid, tries in throttle.attempted.items() if tries > 1}
    assert retried_ids and retried_ids <= {str(m["Message-ID"]) for m in servers.throttle.messages}

    # ... the busy domain held back none of the others: each of their mails went in one try
    with app.engine.connect() as conn:
        rows = conn.execute(select(t.deliveries.c.recipient, t.deliveries.c.status,
                                   t.deliveries.c.attempts, t.deliveries.c.last_error)).all()
    attempts = {r.recipient: r.attempts for r in rows}
    assert all(attempts[a] == 1 for a in plain)
    assert all(attempts[a] >= 2 for a in greylisted)

    # ... and the rejected addresses are marked bouncing, with the server's reply as reason
    reply = "550 5.7.1 Mail for this domain is not accepted here"
    log = app.delivery_log()
    assert log.bouncing_addresses == REJECTED
    assert {d["recipient"]: d["last_error"] for d in log.recent if d["status"] == "failed"} == {
        a: reply for a in rejected}
    with app.engine.connect() as conn:
        bounces = dict(conn.execute(select(t.recipients.c.email, t.recipients.c.bounce_reason)
                                    .where(t.recipients.c.bouncing_since.is_not(None))).all())
    assert bounces == {a: reply for a in rejected}
    print_figures("greylist/throttle/reject", rows)


def print_figures(label: str, rows: list) -> None:  # type: ignore[type-arg]
    """The report's figures (pytest -s shows them): mails sent once, retried, given up."""
    once = sum(1 for r in rows if r.status == "sent" and r.attempts == 1)
    retried = sum(1 for r in rows if r.status == "sent" and r.attempts > 1)
    failed = sum(1 for r in rows if r.status == "failed")
    tries = sum(r.attempts for r in rows)
    print(f"\n[{label}] mails {len(rows)}: sent at the first try {once}, sent after retries "
          f"{retried}, given up or bounced {failed}; tries in all {tries}")


def test_a_server_that_says_it_is_busy_holds_back_its_domain_only_and_fails_no_mail(
    settings: Settings, servers: Servers
) -> None:
    # Given news for five addresses at a domain whose server is busy and five elsewhere
    clock, busy_server = FakeClock(), servers.plain_two
    app = NotificationsApp(settings.model_copy(update=dict(
        smtp_url=servers.plain.url, mail_routes={"busy.example": busy_server.url},
        mail_batch_seconds=0.0)), clock=clock)
    busy, elsewhere = addresses("busy.example", 5), addresses("example.org", 5)
    add_confirmed_subscribers(app.engine, busy + elsewhere)
    busy_server.handler.refuse_with = "421 4.7.0 Too many connections, try again later"
    app.on_measure_status_changed(MeasureStatusChanged(
        source=Source(service="measures"), code="VEP-RAD-02", title="Radweg Bahntrasse",
        old_status="in_consultation", new_status="decided", changed_by="Koordination",
        revision=2))
    app.bundle_due()

    # When the mails go out
    app.send_due()

    # Then the busy server was asked once, its other mails wait a minute without a try,
    # the other domain's mails went out, and nothing failed
    assert busy_server.handler.refusals == 1
    assert Counter(str(m["To"]) for m in servers.plain.messages) == Counter(elsewhere)
    with app.engine.connect() as conn:
        waiting = conn.execute(select(t.deliveries.c.attempts, t.deliveries.c.next_attempt_at)
                               .where(t.deliveries.c.status == "pending")).all()
    assert sorted(w.attempts for w in waiting) == [0, 0, 0, 0, 1]
    assert app.send_due() == 0
    clock.advance(seconds=59)
    assert app.send_due() == 0 and busy_server.handler.refusals == 1

    # ... and when the minute has passed and the server takes mail again, all of it arrives
    busy_server.handler.refuse_with = None
    clock.advance(seconds=2)
    assert app.send_due() == 5
    assert Counter(str(m["To"]) for m in busy_server.messages) == Counter(busy)
