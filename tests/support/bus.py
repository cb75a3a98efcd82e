"""Talking to the broker directly, as a misbehaving or replaying producer would."""

from __future__ import annotations

import json
from typing import Any

from kombu import Connection, Exchange

from soesmart.contracts import Event
from soesmart.messaging.topology import EVENTS_EXCHANGE, dead_letter_queue


def publish_raw(broker_url: str, routing_key: str, body: bytes | str, *,
                exchange: str = EVENTS_EXCHANGE.name, content_type: str = "application/json",
                **properties: Any) -> None:
    with Connection(broker_url) as conn:
        producer = conn.Producer()
        producer.publish(body, exchange=Exchange(exchange, type="topic") if exchange else "",
                         routing_key=routing_key, content_type=content_type,
                         content_encoding="utf-8", delivery_mode=2, **properties)


def publish_event(broker_url: str, event: Event) -> None:
    publish_raw(broker_url, event.routing_key, json.dumps(event.to_wire()),
                message_id=str(event.event_id))


def publish_events(broker_url: str, events: list[Event]) -> None:
    """Many events over one connection, persistent, in order."""
    with Connection(broker_url) as conn:
        producer = conn.Producer()
        exchange = Exchange(EVENTS_EXCHANGE.name, type="topic")
        for event in events:
            producer.publish(json.dumps(event.to_wire()), exchange=exchange,
                             routing_key=event.routing_key, content_type="application/json",
                             content_encoding="utf-8", delivery_mode=2,
                             message_id=str(event.event_id))


def dead_letters(broker_url: str) -> list[dict[str, Any]]:
    """Everything in the dead-letter queue (the messages go back when the connection closes)."""
    out = []
    with Connection(broker_url) as conn:
        queue = dead_letter_queue()(conn.default_channel)
        queue.declare()
        while (message := queue.get(no_ack=False)) is not None:
            out.append({"headers": dict(message.headers or {}), "body": message.body})
    return out
