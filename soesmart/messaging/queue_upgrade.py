"""Declaring a durable queue that may exist with another type from an older release.

RabbitMQ refuses to redeclare a queue with another `x-queue-type` (PRECONDITION_FAILED)
and cannot change it in place. Releases before quorum queues left classic queues on
every broker, with events waiting in them. So a service that starts and finds its queue
of the other type replaces it, without losing a message:

1. move every message of the old queue into a holding queue `<name>.upgrading`
   (of the new type, published with confirms, each acknowledged only after that);
2. delete the old queue and declare it anew, of the new type, with its bindings;
3. move the messages back from the holding queue and delete it.

A crash in between leaves the holding queue; the next start-up finishes step 3, so a
message can at worst arrive twice (consumers are idempotent), never be lost. Events
published while the queue is being replaced (a few milliseconds when it is empty) have
no queue to go to: stop the old release's services, then start the new one (README,
"Upgrading to quorum queues"). A queue that still has consumers (an old release still
running) is not touched: the start-up fails with that reason.

Every service declares the whole topology, and `soesmart up` starts them together, so
several processes meet the same old queue at once. One replaces it while holding an
exclusive lock queue `<name>.replacing` (the broker gives it to one connection only);
the others wait and declare again, finding the new queue or nothing left to do. A queue
that vanished under a declaration (deleted by the process replacing it) is declared again.
"""

from __future__ import annotations

import logging
import time

import amqp.exceptions
from kombu import Connection, Queue

log = logging.getLogger(__name__)

HOLDING_SUFFIX = ".upgrading"


class QueueInUse(RuntimeError):
    """The queue of another type still has consumers: an older release is running."""


LOCK_SUFFIX = ".replacing"
# Another process replaces the queue (the lock is taken) or has just deleted it (404).
_ANOTHER_AT_WORK = (amqp.exceptions.ResourceLocked, amqp.exceptions.NotFound)
WAIT_SECONDS = 60.0


def declare_or_replace(conn: Connection, queue: Queue) -> None:
    """Declare `queue` (with its bindings), replacing a queue of the other type first."""
    deadline = time.monotonic() + WAIT_SECONDS
    pause = 0.05
    while True:
        try:
            _declare_or_replace(conn, queue)
            return
        except _ANOTHER_AT_WORK:
            if time.monotonic() > deadline:
                raise
            time.sleep(pause)
            pause = min(pause * 2, 1.0)


def _declare_or_replace(conn: Connection, queue: Queue) -> None:
    channel = conn.channel()
    try:
        queue(channel).declare()
    except amqp.exceptions.PreconditionFailed as exc:
        if "x-queue-type" not in str(exc):
            raise
        _replace(conn, queue)
    else:
        _finish(conn, queue)
    finally:
        _close(channel)


def _type_of(queue: Queue) -> str:
    return str(dict(getattr(queue, "queue_arguments", None) or {}).get("x-queue-type", "classic"))


def _holding(queue: Queue) -> Queue:
    return Queue(queue.name + HOLDING_SUFFIX, durable=True,
                 queue_arguments={"x-queue-type": _type_of(queue)})


def _replace(conn: Connection, queue: Queue) -> None:
    lock = conn.channel()
    try:
        # Raises ResourceLocked while another connection holds it; goes with this channel.
        lock.queue_declare(queue.name + LOCK_SUFFIX, exclusive=True, auto_delete=True)
        try:  # under the lock: has another process replaced it in the meantime?
            probe = conn.channel()
            queue(probe).declare()
        except amqp.exceptions.PreconditionFailed:
            _replace_locked(conn, queue)  # still of the other type
        else:
            _close(probe)
            _finish(conn, queue)
        lock.queue_delete(queue.name + LOCK_SUFFIX)
    finally:
        _close(lock)


def _replace_locked(conn: Connection, queue: Queue) -> None:
    channel = conn.channel()
    try:
        _, waiting, consumers = channel.queue_declare(queue.name, passive=True)
        if consumers:
            raise QueueInUse(
                f"queue {queue.name} is not a {_type_of(queue)} queue and has "
                f"{consumers} consumer(s): stop the services of the older release first")
        log.warning("replacing queue %s by a %s queue (%d messages moved over)", queue.name,
                    _type_of(queue), waiting)
        holding = _holding(queue)
        holding(channel).declare()
    finally:
        _close(channel)
    _move(conn, queue.name, holding.name)
    channel = conn.channel()
    try:
        channel.queue_delete(queue.name)
        queue(channel).declare()
    finally:
        _close(channel)
    _finish(conn, queue)


def _finish(conn: Connection, queue: Queue) -> None:
    """Move back what an (interrupted) replacement left in the holding queue."""
    holding = _holding(queue)
    channel = conn.channel()
    try:
        channel.queue_declare(holding.name, passive=True)
    except amqp.exceptions.NotFound:
        return  # the usual case: nothing to finish
    finally:
        _close(channel)
    _move(conn, holding.name, queue.name)
    channel = conn.channel()
    try:  # quorum queues know no if-empty delete: look, then delete
        if channel.queue_declare(holding.name, passive=True).message_count == 0:
            channel.queue_delete(holding.name)
    finally:
        _close(channel)


def _move(conn: Connection, source: str, target: str) -> int:
    moved = 0
    channel = conn.channel()
    try:
        channel.confirm_select()  # basic_publish now waits for the broker's confirm
        while True:
            try:
                message = channel.basic_get(source, no_ack=False)
            except amqp.exceptions.NotFound:
                break  # another process finished the replacement
            if message is None:
                break
            channel.basic_publish(message, exchange="", routing_key=target)
            channel.basic_ack(message.delivery_tag)
            moved += 1
    finally:
        _close(channel)
    return moved


def _close(channel: object) -> None:
    try:
        channel.close()  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001 - the broker may have closed it already (a refusal)
        log.debug("closing a channel failed", exc_info=True)
