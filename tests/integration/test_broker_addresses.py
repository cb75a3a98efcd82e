"""Several broker addresses and queues from an older release, against a real RabbitMQ.

A node that does not answer is skipped for the next one (the outbox relay's publisher,
the topology declaration); a classic queue left by a release before quorum queues is
replaced by a quorum queue at start-up without losing what waits in it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid

import pytest
from kombu import Connection, Queue, binding

from soesmart.messaging.outbox import ConfirmingPublisher, PublishFailed
from soesmart.messaging.queue_upgrade import QueueInUse
from soesmart.messaging.topology import EVENTS_EXCHANGE, MEASURES_QUEUE, declare_all
from soesmart.towns import towns
from tests.support.infra import free_port


def nowhere(vhost: str) -> str:
    """A node that is not there: a closed port on this machine."""
    return f"amqp://guest:guest@127.0.0.1:{free_port()}/{vhost}"


def waiting(url: str, name: str) -> int:
    """Messages ready in a queue, asked of the queue itself (a quorum queue's figures in
    rabbitmqctl are those of its last tick)."""
    with Connection(url) as conn:
        return int(conn.channel().queue_declare(name, passive=True).message_count)


def queue_type(url: str, name: str) -> str:
    """The x-queue-type a queue was declared with: the broker refuses the other one."""
    with Connection(url) as conn:
        for kind in ("quorum", "classic"):
            try:
                Queue(name, durable=True, no_declare=False, queue_arguments={
                    "x-queue-type": kind, **({"x-dead-letter-exchange": "soesmart.dead-letters"}
                                              if name.endswith(".events") else {})})(
                    conn.channel()).declare()
                return kind
            except Exception:  # noqa: BLE001 - PRECONDITION_FAILED for the other type
                continue
    raise AssertionError(f"queue {name} has neither type")


def test_the_outbox_publisher_goes_past_a_node_that_does_not_answer(vhost: tuple[str, str]) -> None:
    name, url = vhost
    declare_all(f"{nowhere(name)};{url}", towns())  # the topology too: the second node
    publisher = ConfirmingPublisher(f"{nowhere(name)};{nowhere(name)};{url}")
    event_id = str(uuid.uuid4())
    publisher.publish_batch([(event_id, "RatingRecorded", "participation.soest.RatingRecorded",
                              json.dumps({"probe": event_id}))])
    publisher.close()
    assert waiting(url, MEASURES_QUEUE.name) == 1

    # and with no node answering, the batch fails clearly (the relay keeps its rows)
    with pytest.raises(PublishFailed, match="no broker node answers"):
        ConfirmingPublisher(f"{nowhere(name)};{nowhere(name)}").publish_batch(
            [(event_id, "RatingRecorded", "participation.soest.RatingRecorded", "{}")])


def test_a_classic_queue_of_an_older_release_becomes_a_quorum_queue_with_its_messages(
    vhost: tuple[str, str],
) -> None:
    name, url = vhost
    # Given the measures queue as an older release declared it, with 30 events waiting
    old = Queue(MEASURES_QUEUE.name, durable=True,
                bindings=[binding(EVENTS_EXCHANGE, routing_key=p) for p in MEASURES_QUEUE.patterns],
                queue_arguments={"x-dead-letter-exchange": "soesmart.dead-letters"})
    with Connection(url) as conn:
        EVENTS_EXCHANGE(conn.default_channel).declare()
        old(conn.default_channel).declare()
        producer = conn.Producer()
        for i in range(30):
            producer.publish({"n": i}, exchange=EVENTS_EXCHANGE,
                             routing_key="participation.olpe.RatingRecorded", delivery_mode=2)
    assert queue_type(url, MEASURES_QUEUE.name) == "classic"

    # When a service of this release declares the topology at start-up
    declare_all(url, towns(), "quorum")

    # Then the queue is a quorum queue with all 30 events, still bound to its routes
    assert queue_type(url, MEASURES_QUEUE.name) == "quorum"
    assert waiting(url, MEASURES_QUEUE.name) == 30
    with Connection(url) as conn:
        conn.Producer().publish({"n": 30}, exchange=EVENTS_EXCHANGE,
                                routing_key="participation.olpe.RatingRecorded", delivery_mode=2)
    assert waiting(url, MEASURES_QUEUE.name) == 31
    with Connection(url) as conn:  # and no holding queue is left behind
        with pytest.raises(Exception, match="NOT_FOUND"):
            conn.channel().queue_declare(MEASURES_QUEUE.name + ".upgrading", passive=True)
    declare_all(url, towns(), "quorum")  # the next start changes nothing
    assert waiting(url, MEASURES_QUEUE.name) == 31


def test_a_queue_of_the_other_type_still_in_use_is_left_alone(vhost: tuple[str, str]) -> None:
    name, url = vhost
    declare_all(url, towns(), "classic")
    with Connection(url) as conn:  # an old release still consuming
        channel = conn.channel()
        channel.basic_consume(MEASURES_QUEUE.name, callback=lambda message: None)
        with pytest.raises(QueueInUse, match="stop the services of the older release"):
            declare_all(url, towns(), "quorum")
    assert queue_type(url, MEASURES_QUEUE.name) == "classic"


def test_services_starting_together_replace_the_old_queues_once_and_lose_nothing(
    vhost: tuple[str, str],
) -> None:
    """`soesmart up` starts every service at once, and each declares the whole topology.
    Tried as a new user would on a broker of an older release, one of them stopped at
    start-up: it bound a queue that another had just deleted to replace it (404)."""
    name, url = vhost
    # Given an older release's topology, with 30 events waiting for the measures service
    declare_all(url, towns(), "classic")
    with Connection(url) as conn:
        producer = conn.Producer()
        for i in range(30):
            producer.publish({"n": i}, exchange=EVENTS_EXCHANGE,
                             routing_key="participation.olpe.RatingRecorded", delivery_mode=2)

    # When six service processes of this release declare it at the same moment
    start = ("import sys; from soesmart.messaging.topology import declare_all; "
             "from soesmart.towns import towns; declare_all(sys.argv[1], towns(), 'quorum')")
    starts = [subprocess.Popen([sys.executable, "-c", start, url], stderr=subprocess.PIPE, text=True)
              for _ in range(6)]
    failures = [err for proc in starts for err in [proc.communicate(timeout=120)[1]]
                if proc.returncode != 0]

    # Then none stopped, every queue is a quorum queue, and the 30 events are there once
    assert not failures, failures[0][-2000:]
    assert queue_type(url, MEASURES_QUEUE.name) == "quorum"
    assert waiting(url, MEASURES_QUEUE.name) == 30
