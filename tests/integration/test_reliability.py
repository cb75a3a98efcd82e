"""Breaking real things: poison messages, redelivery, killed processes, a stopped service.

(A broker restart and the loss of a broker node under load: tests/system/test_broker_cluster.py,
on a cluster of the tests' own, never the shared default node.)

Each test runs the services as real processes (started the way `soesmart up` does)
in a RabbitMQ vhost of its own, and checks that nothing was lost or counted twice.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from soesmart.contracts import RatingRecorded, Source, Support
from soesmart.messaging.topology import MEASURES_QUEUE, declare_all
from soesmart.towns import towns
from tests.support.bus import dead_letters, publish_event, publish_events, publish_raw
from tests.support.citizens import signed_in_citizens
from tests.support.infra import (
    create_vhost,
    delete_vhost,
    eventually,
    ready_messages_now,
)
from tests.support.network import Network

CODE = "VEP-RAD-02"


@pytest.fixture
def network(tmp_path: Path) -> Iterator[Network]:
    vhost, url = create_vhost()
    net = Network(data_dir=tmp_path, broker_url=url, vhost=vhost)
    yield net
    net.stop()
    delete_vhost(vhost)


def rating_event(town: str = "soest", version: int = 1, rating_id: uuid.UUID | None = None,
                 effectiveness: int = 4) -> RatingRecorded:
    return RatingRecorded(source=Source(service="participation", town=town), town=town,
                          consultation_id=uuid.UUID(int=7), rating_id=rating_id or uuid.uuid4(),
                          measure_code=CODE, effectiveness=effectiveness, support=Support.YES,
                          version=version)


def answers(network: Network, town: str = "soest") -> int:
    result = network.results_for(CODE)
    return (result or {}).get("towns", {}).get(town, {}).get("answers", 0)


def settled(network: Network, town: str = "soest") -> dict[str, Any]:
    """The town's figures once every event is consumed and the results computed after."""
    return ((network.settled_results(CODE).get("towns") or {}).get(town)) or {"answers": 0}


def test_a_malformed_event_goes_to_the_dead_letter_queue_and_the_consumer_goes_on(
    network: Network,
) -> None:
    network.start(only=["measures", "gateway"])
    # Given three broken messages on the measures service's route
    publish_raw(network.broker_url, "participation.soest.RatingRecorded", b"\xff not json")
    publish_raw(network.broker_url, "participation.soest.RatingRecorded",
                json.dumps({"type": "RatingRecorded", "rating_id": "nope"}))
    publish_raw(network.broker_url, "participation.soest.RatingRecorded",
                json.dumps({"type": "NoSuchEvent"}))
    # When a good one follows
    publish_event(network.broker_url, rating_event())

    # Then the good one is counted and the broken ones wait in the dead-letter queue with why
    eventually(lambda: answers(network) == 1, timeout=10, message="the good event is counted")
    letters = eventually(lambda: (d := dead_letters(network.broker_url)) and len(d) == 3 and d,
                         timeout=10, message="three dead letters")
    errors = [d["headers"]["x-error"] for d in letters]
    assert all(d["headers"]["x-failed-by"] == "measures.events" for d in letters)
    assert any("JSON" in e or "decode" in e.lower() for e in errors), errors
    assert any("validation" in e.lower() for e in errors), errors
    assert any("unknown event type" in e for e in errors), errors
    network.assert_alive()

    # And an admin can read them with `soesmart dead-letters`, which leaves them in place
    shown = subprocess.run([sys.executable, "-m", "launcher.cli", "dead-letters"],
                           env={**network.env()}, capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.count('"failed_by": "measures.events"') == 3
    assert "3 dead letter(s)" in shown.stderr
    assert len(dead_letters(network.broker_url)) == 3

    # And `--requeue` sends them back to their route (where they fail again, as they must)
    first_failure = max(d["headers"]["x-failed-at"] for d in letters)
    sent_back = subprocess.run([sys.executable, "-m", "launcher.cli", "dead-letters", "--requeue"],
                               env={**network.env()}, capture_output=True, text=True, timeout=60)
    assert sent_back.returncode == 0 and "3 dead letter(s) sent back" in sent_back.stderr
    eventually(lambda: (d := dead_letters(network.broker_url)) and len(d) == 3
               and min(x["headers"]["x-failed-at"] for x in d) > first_failure,
               timeout=10, message="the requeued messages went through the consumer again")
    assert settled(network)["answers"] == 1


def test_an_rpc_request_without_reply_to_is_dead_lettered_not_fatal(network: Network) -> None:
    network.start(only=["measures", "gateway"])
    publish_raw(network.broker_url, "measures.ping", json.dumps({"args": [], "kwargs": {}}),
                exchange="nameko-rpc")
    letters = eventually(lambda: dead_letters(network.broker_url), timeout=10,
                         message="the request is dead-lettered")
    assert "reply_to" in letters[0]["headers"]["x-error"]
    network.assert_alive()
    assert network.get("/api/v1/measures").status_code == 200


def test_a_redelivered_or_repeated_event_is_counted_once(network: Network) -> None:
    network.start(only=["measures", "gateway"])
    event = rating_event()
    for _ in range(3):
        publish_event(network.broker_url, event)
    newer = rating_event(version=2, rating_id=event.rating_id, effectiveness=1)
    publish_event(network.broker_url, newer)
    publish_event(network.broker_url, event)  # the old version, late

    def newest_wins() -> dict | None:
        soest = ((network.results_for(CODE) or {}).get("towns") or {}).get("soest")
        return soest if soest and soest["effectiveness_mean"] == 1.0 else None

    eventually(newest_wins, timeout=10, message="the newest version wins")
    # Read again once all five are consumed: a copy still queued could count later
    soest = settled(network)
    assert soest["answers"] == 1 and soest["effectiveness_mean"] == 1.0


def test_killing_the_regional_service_mid_stream_loses_and_doubles_nothing(
    network: Network,
) -> None:
    network.start(only=["gateway"])
    # Given 2,000 rating events waiting in the durable queue
    declare_all(network.broker_url, towns())
    events = [rating_event(town="arnsberg") for _ in range(2000)]
    publish_events(network.broker_url, events)

    # When the service starts on them and is killed without warning while it counts
    network.start_service("measures")
    database = network.data_dir / "measures.db"

    def counted() -> int:
        try:
            with sqlite3.connect(database) as db:
                return int(db.execute("SELECT coalesce(sum(answers), 0) FROM tallies"
                                      " WHERE town = 'arnsberg'").fetchone()[0])
        except sqlite3.Error:  # not created or migrated yet
            return 0

    eventually(counted, timeout=30, interval=0.002, message="the service starts counting")
    network.stop_service("measures", signal.SIGKILL)
    at_kill = counted()
    assert 0 < at_kill < len(events), f"the kill came mid-stream: {at_kill} counted"
    # Every rating not yet counted is still queued (what the killed process held
    # unacknowledged goes back with its connection): a message is acked only after its count.
    def still_queued() -> int | None:
        left = ready_messages_now(network.broker_url, MEASURES_QUEUE.name)
        return left if left >= len(events) - at_kill else None

    eventually(still_queued, timeout=10,
               message=f"the {len(events) - at_kill} uncounted ratings are still queued")

    # And is started again
    network.start_service("measures")
    network.wait_ready(["measures"])

    # Then every rating is counted exactly once
    eventually(lambda: answers(network, "arnsberg") == len(events), timeout=60,
               message="all 2,000 counted after the restart")
    assert settled(network, "arnsberg")["answers"] == len(events)


def test_a_town_takes_ratings_while_the_regional_services_are_down_and_catches_up(
    network: Network,
) -> None:
    network.start()
    eventually(lambda: CODE in network.get("/stadt/soest").text, timeout=20,
               message="the replica has the measure")
    # Given the regional services are stopped
    network.stop_service("measures")
    network.stop_service("notifications")

    # When citizens keep rating in Soest
    for citizen in signed_in_citizens(network, "soest", 20):
        r = network.post("/api/v1/towns/soest/ratings", headers=citizen,
                         json={"measure_code": CODE, "support": "yes"})
        assert r.status_code == 201, r.text
    assert "Radweg auf der ehemaligen Bahntrasse" in network.get("/stadt/soest").text
    assert network.get("/api/v1/results").status_code == 503

    # Then, once the regional service is back, it has every one of them
    network.start_service("measures")
    eventually(lambda: network.get("/api/v1/results").status_code == 200
               and answers(network) == 20, timeout=30, message="the region catches up")
    assert settled(network)["answers"] == 20


def test_a_stopped_service_gives_a_clear_503_and_the_expired_command_never_runs(
    network: Network,
) -> None:
    network.start(only=["measures", "participation/olpe", "gateway"])
    first, second = signed_in_citizens(network, "olpe", 2)
    # Given Olpe's instance is stopped (its RPC queue stays, with no consumer)
    network.stop_service("participation/olpe")

    # When a citizen sends a rating
    r = network.post("/api/v1/towns/olpe/ratings", headers=first,
                     json={"measure_code": CODE, "effectiveness": 5})

    # Then the gateway answers 503 within its deadline, in the one error shape
    assert r.status_code == 503
    assert r.json()["error"] == "SERVICE_UNAVAILABLE"
    assert r.headers.get("Retry-After")

    # And when Olpe comes back, the command whose caller gave up is not carried out
    network.start_service("participation/olpe")
    network.wait_ready(["participation/olpe"])
    ok = network.post("/api/v1/towns/olpe/ratings", headers=second,
                      json={"measure_code": CODE, "effectiveness": 1})
    assert ok.status_code == 201
    eventually(lambda: answers(network, "olpe") >= 1, timeout=10, message="Olpe counts again")
    olpe = settled(network, "olpe")
    assert olpe["answers"] == 1
    assert olpe["effectiveness_distribution"]["5"] == 0


def test_a_service_stops_on_sigterm_even_when_its_broker_is_gone(network: Network) -> None:
    network.start(only=["measures", "gateway"])
    # Given the broker's vhost disappears under the running service
    delete_vhost(network.vhost)
    # When it is asked to stop, it stops (within its deadline) instead of retrying forever
    child = network.children["measures"]
    assert child.proc is not None
    child.proc.send_signal(signal.SIGTERM)
    child.proc.wait(timeout=30)


def test_a_failing_handler_is_retried_and_dead_lettered_only_when_it_keeps_failing(
    network: Network, tmp_path: Path
) -> None:
    network.start(only=["measures", "gateway"])
    db = sqlite3.connect(tmp_path / "measures.db", timeout=30)
    log = network.children["measures"].log_path

    # Given the projection's table is gone for a moment (a broken database)
    db.execute("ALTER TABLE tallies RENAME TO tallies_away")
    db.commit()
    publish_event(network.broker_url, rating_event())
    eventually(lambda: "attempt 1" in log.read_text(errors="replace"), timeout=10,
               message="the handler fails and is retried")
    # When it comes back before the retries run out, the rating is counted, once
    db.execute("ALTER TABLE tallies_away RENAME TO tallies")
    db.commit()
    eventually(lambda: answers(network) == 1, timeout=20, message="the retry succeeds")

    # When it stays broken, the event ends in the dead-letter queue with its error
    db.execute("ALTER TABLE tallies RENAME TO tallies_away")
    db.commit()
    publish_event(network.broker_url, rating_event())
    letters = eventually(lambda: dead_letters(network.broker_url), timeout=40,
                         message="the event is dead-lettered after its attempts")
    assert "after 5 attempts" in letters[0]["headers"]["x-error"]
    db.execute("ALTER TABLE tallies_away RENAME TO tallies")
    db.commit()
    db.close()
    network.assert_alive()
    assert settled(network)["answers"] == 1
