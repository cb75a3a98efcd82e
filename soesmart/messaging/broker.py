"""The broker as the services see it: a list of nodes, a queue type, and "the broker is away".

`SOESMART_BROKER_URL` may name several nodes of one RabbitMQ cluster separated by `;`
(`amqp://u:p@node-a:5672/v;amqp://u:p@node-b:5672/v`). kombu takes such a URL as it is
and fails over to the next node when one is lost (every nameko consumer and publisher,
the topology declaration, the probes); the outbox relay's own publisher walks the same
list (`BrokerAddress`).

`SOESMART_QUEUE_TYPE` (`quorum`, the default, or `classic`) is the type of every durable
queue: event queues, RPC request queues and the dead-letter queue. Quorum queues are
replicated over the cluster's nodes and survive the loss of a minority of them; they work
on a single node too, so a development broker runs the same queues as production.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from typing import Literal, cast
from urllib.parse import unquote, urlsplit

import amqp.exceptions
import kombu.exceptions

QueueType = Literal["quorum", "classic"]
QUEUE_TYPES: tuple[QueueType, ...] = ("quorum", "classic")
DEFAULT_QUEUE_TYPE: QueueType = "quorum"

# What "the broker (or the node we talk to) is away" looks like from kombu and amqp: loops
# wait and try again, the gateway answers 503. Channel errors (a refused declaration, an
# unknown exchange) are not among them: those are mistakes, not weather.
BROKER_AWAY: tuple[type[BaseException], ...] = (
    kombu.exceptions.OperationalError,
    amqp.exceptions.ConnectionError,  # ConnectionForced, RecoverableConnectionError, ...
    ConnectionError,  # the builtin: reset, refused, aborted, broken pipe
    socket.timeout,
    TimeoutError,
    OSError,
)


def is_broker_away(exc: BaseException) -> bool:
    return isinstance(exc, BROKER_AWAY)


def broker_urls(url: str) -> list[str]:
    """The nodes of `SOESMART_BROKER_URL`, in order; refuses an empty or non-AMQP entry."""
    urls = [part.strip() for part in url.split(";") if part.strip()]
    if not urls:
        raise ValueError("SOESMART_BROKER_URL names no broker")
    for part in urls:
        scheme = urlsplit(part).scheme
        if scheme not in ("amqp", "amqps", "pyamqp"):
            raise ValueError(f"not an AMQP URL in SOESMART_BROKER_URL: {part!r}")
    return urls


@dataclass(frozen=True)
class BrokerAddress:
    """One node of the list, in the terms the amqp library wants."""

    host: str  # host:port
    userid: str
    password: str
    virtual_host: str

    @classmethod
    def parse(cls, url: str) -> BrokerAddress:
        parts = urlsplit(url)
        vhost = unquote(parts.path[1:]) if len(parts.path) > 1 else "/"
        return cls(
            host=f"{parts.hostname or '127.0.0.1'}:{parts.port or 5672}",
            userid=unquote(parts.username or "guest"),
            password=unquote(parts.password or "guest"),
            virtual_host=vhost,
        )


def broker_addresses(url: str) -> list[BrokerAddress]:
    return [BrokerAddress.parse(u) for u in broker_urls(url)]


def queue_type_from_env() -> QueueType:
    """`SOESMART_QUEUE_TYPE`, read where no settings object reaches (module-level queues)."""
    value = os.environ.get("SOESMART_QUEUE_TYPE", DEFAULT_QUEUE_TYPE).strip().lower()
    if value not in QUEUE_TYPES:
        raise ValueError(f"SOESMART_QUEUE_TYPE must be quorum or classic, not {value!r}")
    return cast(QueueType, value)


def queue_type_arguments(queue_type: QueueType | None = None) -> dict[str, str]:
    return {"x-queue-type": queue_type or queue_type_from_env()}
