"""The outbox relay against a real RabbitMQ: nothing lost, duplicates harmless."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest
import requests
from kombu import Connection, Queue, binding
from sqlalchemy import update

from services.measures.service_layer.handlers import MeasuresApp
from services.participation.adapters import tables as pt
from services.participation.service_layer.handlers import ParticipationApp
from soesmart.config import Settings
from soesmart.contracts import RateMeasure, RatingRecorded, parse_event
from soesmart.messaging.outbox import OutboxRelay
from soesmart.messaging.topology import EVENTS_EXCHANGE, declare_all
from soesmart.towns import towns
from tests.support.citizens import confirmed_citizen
from tests.support.infra import MANAGEMENT_URL, eventually

CODE = "VEP-RAD-02"


def watch_queue(broker_url: str) -> Queue:
    """A queue of the test's own that sees every rating event."""
    queue = Queue(f"test-watch-{uuid.uuid4().hex[:6]}",
                  bindings=[binding(EVENTS_EXCHANGE, routing_key="participation.*.RatingRecorded")],
                  durable=True)
    with Connection(broker_url) as conn:
        queue(conn.default_channel).declare()
    return queue


def drain(broker_url: str, queue: Queue) -> list[RatingRecorded]:
    events = []
    with Connection(broker_url) as conn:
        bound = queue(conn.default_channel)
        while (message := bound.get(no_ack=True)) is not None:
            events.append(parse_event(json.loads(message.body)))
    return events  # type: ignore[return-value]


def rate_many(app: ParticipationApp, n: int) -> None:
    people = [confirmed_citizen(app) for _ in range(n)]
    # the citizens' own events (links, confirmations) are not what these tests count
    with app.engine.begin() as conn:
        conn.execute(update(pt.outbox).where(pt.outbox.c.event_type != "RatingRecorded")
                     .values(published_at=datetime.now(UTC)))
    for i, person in enumerate(people):
        app.rate(RateMeasure(measure_code=CODE, participant_id=person, effectiveness=1 + i % 5))


@pytest.fixture
def town(settings: Settings) -> ParticipationApp:
    declare_all(settings.broker_url, towns())
    return ParticipationApp(settings)


def test_every_outbox_row_reaches_the_broker_and_is_marked_sent(town: ParticipationApp,
                                                                settings: Settings) -> None:
    queue = watch_queue(settings.broker_url)
    rate_many(town, 25)
    assert town.relay.relay_once() == 25
    assert town.relay.pending() == 0
    events = drain(settings.broker_url, queue)
    assert len(events) == 25 and len({e.event_id for e in events}) == 25


def test_when_the_broker_drops_the_connection_the_rows_wait_and_go_out_later(
    town: ParticipationApp, settings: Settings, vhost: tuple[str, str]
) -> None:
    queue = watch_queue(settings.broker_url)
    rate_many(town, 5)
    town.relay.relay_once()

    # When the broker closes every connection of this vhost (as on a broker restart)
    conns = requests.get(f"{MANAGEMENT_URL}/api/vhosts/{vhost[0]}/connections",
                         auth=("guest", "guest"), timeout=10)
    names = eventually(lambda: [c["name"] for c in requests.get(
        f"{MANAGEMENT_URL}/api/vhosts/{vhost[0]}/connections", auth=("guest", "guest"),
        timeout=10).json()], timeout=10, message="the relay's connection is listed")
    assert conns.status_code == 200
    for name in names:
        requests.delete(f"{MANAGEMENT_URL}/api/connections/{name}", auth=("guest", "guest"),
                        timeout=10)
    rate_many(town, 5)

    # Then the next attempt may fail, but no row is lost and all go out in the end
    def relayed() -> bool:
        try:
            town.relay.relay_once()
        except Exception:
            return False
        return town.relay.pending() == 0

    eventually(relayed, timeout=15, message="the relay recovers")
    assert len({e.event_id for e in drain(settings.broker_url, queue)}) == 10


class CrashAfterPublish(OutboxRelay):
    """A relay that dies after the broker confirmed, before the rows are marked sent."""

    crashed = False

    def relay_once(self) -> int:
        if not self.crashed:
            rows = self.pending()
            original_update = self.engine.begin

            def crash():  # type: ignore[no-untyped-def]
                raise RuntimeError("process killed")

            self.engine.begin = crash  # type: ignore[method-assign]
            try:
                super().relay_once()
            except RuntimeError:
                self.crashed = True
            finally:
                self.engine.begin = original_update  # type: ignore[method-assign]
            return rows
        return super().relay_once()


def test_a_crash_between_publishing_and_marking_gives_a_duplicate_that_counts_once(
    town: ParticipationApp, settings: Settings
) -> None:
    queue = watch_queue(settings.broker_url)
    rate_many(town, 10)
    relay = CrashAfterPublish(town.engine, town.relay.outbox, settings.broker_url)
    relay.relay_once()
    assert relay.crashed and relay.pending() == 10  # nothing marked: the rows go again
    relay.relay_once()
    assert relay.pending() == 0
    events = drain(settings.broker_url, queue)
    assert len(events) == 20  # every event twice on the wire

    regional = MeasuresApp(settings.model_copy(update={"database_url": None,
                                                       "data_dir": settings.data_dir / "m"}))
    for event in events:
        regional.record_rating(event)
    total = next(m for m in regional.regional_results().measures if m.code == CODE)
    assert total.towns["soest"].answers == 10
