"""Transactional outbox: events are rows written with the state change, then relayed.

A handler adds its events to the `outbox` table in the same transaction as the
change they report. The relay publishes unsent rows in batches, waits for the
broker's publisher confirms of the whole batch, then marks them sent. A crash
between publishing and marking gives a duplicate (consumers are idempotent),
never a loss.

`processed_events` is the consumer side: the id of every handled event is
recorded in the same transaction as its effect.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterable
from datetime import UTC, datetime

import amqp
from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    DateTime,
    Engine,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from soesmart.contracts import Event
from soesmart.messaging.broker import BROKER_AWAY, broker_addresses, is_broker_away
from soesmart.messaging.topology import EVENTS_EXCHANGE

log = logging.getLogger(__name__)


def outbox_table(metadata: MetaData) -> Table:
    return Table(
        "outbox",
        metadata,
        Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
        Column("event_id", String(36), nullable=False, unique=True),
        Column("event_type", String(80), nullable=False),
        Column("routing_key", String(200), nullable=False),
        Column("payload", Text, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("published_at", DateTime(timezone=True), nullable=True),
        Index("ix_outbox_unpublished", "published_at", "id"),
    )


def processed_events_table(metadata: MetaData) -> Table:
    return Table(
        "processed_events",
        metadata,
        Column("event_id", String(36), primary_key=True),
        Column("event_type", String(80), nullable=False),
        Column("processed_at", DateTime(timezone=True), nullable=False),
    )


def add_events(conn: Connection, outbox: Table, events: Iterable[Event]) -> int:
    rows = [
        {
            "event_id": str(e.event_id),
            "event_type": e.event_type,
            "routing_key": e.routing_key,
            "payload": json.dumps(e.to_wire(), ensure_ascii=False),
            "created_at": datetime.now(UTC),
        }
        for e in events
    ]
    if rows:
        conn.execute(insert(outbox), rows)
    return len(rows)


def claim_event(conn: Connection, processed: Table, event: Event) -> bool:
    """Record that `event` is being handled in this transaction.

    Returns False if it was handled before (a redelivery): the caller skips it.
    A savepoint keeps the surrounding transaction usable after the conflict.
    """
    exists = conn.execute(
        select(processed.c.event_id).where(processed.c.event_id == str(event.event_id))
    ).first()
    if exists:
        return False
    try:
        with conn.begin_nested():
            conn.execute(
                insert(processed).values(
                    event_id=str(event.event_id),
                    event_type=event.event_type,
                    processed_at=datetime.now(UTC),
                )
            )
    except IntegrityError:
        return False
    return True


class PublishFailed(RuntimeError):
    pass


class ConfirmingPublisher:
    """Publishes a batch of messages and waits for the broker to confirm all of them."""

    def __init__(self, broker_url: str, confirm_timeout: float = 10.0) -> None:
        # Every node of SOESMART_BROKER_URL, tried in turn: a lost node sends the next
        # batch to the next one (the queues are the cluster's, not a node's).
        self._addresses = broker_addresses(broker_url)
        self._current = 0
        self._timeout = confirm_timeout
        self._conn: amqp.Connection | None = None
        self._channel: amqp.Channel | None = None
        self._confirmed: set[int] = set()
        self._confirmed_upto = 0
        self._nacked = False
        self._next_tag = 1

    def _on_ack(self, tag: int, multiple: bool) -> None:
        if multiple:
            self._confirmed_upto = max(self._confirmed_upto, tag)
        else:
            self._confirmed.add(tag)

    def _on_nack(self, tag: int, multiple: bool) -> None:
        self._nacked = True

    def _open(self) -> amqp.Connection:
        failures = []
        for step in range(len(self._addresses)):
            index = (self._current + step) % len(self._addresses)
            address = self._addresses[index]
            conn = amqp.Connection(host=address.host, userid=address.userid,
                                   password=address.password,
                                   virtual_host=address.virtual_host,
                                   connect_timeout=5, heartbeat=0)
            try:
                conn.connect()
            except BROKER_AWAY as exc:
                failures.append(f"{address.host}: {exc!r}")
                continue
            self._current = index
            return conn
        raise PublishFailed("no broker node answers: " + "; ".join(failures))

    def _connect(self) -> amqp.Channel:
        if self._channel is not None:
            return self._channel
        conn = self._open()
        channel = conn.channel()
        channel.confirm_select()
        channel.events["basic_ack"].add(self._on_ack)
        channel.events["basic_nack"].add(self._on_nack)
        self._conn, self._channel = conn, channel
        self._confirmed, self._confirmed_upto, self._next_tag = set(), 0, 1
        return channel

    def close(self) -> None:
        conn, self._conn, self._channel = self._conn, None, None
        if conn is not None:
            try:
                conn.close()
            except Exception:  # noqa: BLE001 - closing a broken connection
                log.debug("closing publisher connection failed", exc_info=True)

    def publish_batch(self, messages: list[tuple[str, str, str, str]]) -> None:
        """Publish (event_id, event_type, routing_key, payload) tuples; raise unless confirmed."""
        try:
            channel = self._connect()
            first = self._next_tag
            self._nacked = False
            for event_id, event_type, routing_key, payload in messages:
                msg = amqp.Message(
                    payload.encode("utf-8"),
                    content_type="application/json",
                    content_encoding="utf-8",
                    delivery_mode=2,
                    message_id=event_id,
                    type=event_type,
                    headers={"schema_version": 1},
                )
                channel.basic_publish(msg, exchange=EVENTS_EXCHANGE.name, routing_key=routing_key)
                self._next_tag += 1
            last = self._next_tag - 1
            deadline = time.monotonic() + self._timeout
            while not self._all_confirmed(first, last):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise PublishFailed("broker did not confirm the batch in time")
                assert self._conn is not None
                self._conn.drain_events(timeout=remaining)
                if self._nacked:
                    raise PublishFailed("broker refused (nack) part of the batch")
            self._confirmed = {t for t in self._confirmed if t > last}
        except PublishFailed:
            self.close()
            raise
        except Exception as exc:  # connection lost, socket errors, channel closed
            self.close()
            if is_broker_away(exc):  # start with the next node next time
                self._current = (self._current + 1) % len(self._addresses)
            raise PublishFailed(str(exc)) from exc

    def _all_confirmed(self, first: int, last: int) -> bool:
        if self._confirmed_upto >= last:
            return True
        return all(t <= self._confirmed_upto or t in self._confirmed for t in range(first, last + 1))


class OutboxRelay:
    """Moves outbox rows to the broker; one per service process."""

    def __init__(
        self,
        engine: Engine,
        outbox: Table,
        broker_url: str,
        batch_size: int = 500,
        idle_wait: float = 0.25,
        gather: float = 0.02,
    ) -> None:
        self.engine = engine
        self.outbox = outbox
        self.publisher = ConfirmingPublisher(broker_url)
        self.batch_size = batch_size
        self.idle_wait = idle_wait
        self.gather = gather
        self._wake = threading.Event()
        self._stopping = threading.Event()

    def wake(self) -> None:
        """Called after a commit that added events, so they leave at once."""
        self._wake.set()

    def relay_once(self) -> int:
        """Publish one batch of unsent rows; returns how many were published."""
        o = self.outbox
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(o.c.id, o.c.event_id, o.c.event_type, o.c.routing_key, o.c.payload)
                .where(o.c.published_at.is_(None))
                .order_by(o.c.id)
                .limit(self.batch_size)
            ).all()
        if not rows:
            return 0
        self.publisher.publish_batch([(r[1], r[2], r[3], r[4]) for r in rows])
        with self.engine.begin() as conn:
            conn.execute(
                update(o)
                .where(o.c.id.in_([r[0] for r in rows]))
                .values(published_at=datetime.now(UTC))
            )
        return len(rows)

    def run(self) -> None:
        backoff = 0.5
        while not self._stopping.is_set():
            try:
                published = self.relay_once()
                backoff = 0.5
            except Exception as exc:  # broker or database away: keep the rows, try again
                log.warning("outbox relay failed; retrying in %.1fs: %s", backoff, exc,
                            exc_info=not isinstance(exc, PublishFailed))
                self._stopping.wait(backoff)
                backoff = min(backoff * 2, 10.0)
                continue
            if published < self.batch_size:
                if self._wake.wait(self.idle_wait):
                    # Woken by a commit: give concurrent commits a moment to join the
                    # batch (one confirm wait and one UPDATE for all of them).
                    self._stopping.wait(self.gather)
                self._wake.clear()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        self.publisher.close()

    def pending(self) -> int:
        from sqlalchemy import func

        with self.engine.connect() as conn:
            return int(
                conn.execute(
                    select(func.count()).select_from(self.outbox).where(
                        self.outbox.c.published_at.is_(None)
                    )
                ).scalar_one()
            )
