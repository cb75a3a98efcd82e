"""nameko extensions that make the defaults safe: no message lost, no container crashed.

* `event_consumer(queue_spec)`: consumes one of the declared durable queues.
  A message that cannot be decoded or is not a valid event goes to the dead-letter
  queue with its error at once. A handler that raises is retried with backoff
  (the message is republished to its queue with an attempt counter before it is
  acked); after `MAX_ATTEMPTS` it is dead-lettered with the error.
* `rpc`: like nameko's, but a request that cannot be decoded or has no `reply_to`
  is dead-lettered instead of taking the container down.
* The RPC client with a deadline (`TimedRpc`) is in `rpc_client.py`.

The broker going away (a node lost, a restart) never takes a container down: an ack,
a reply or a dead letter that cannot reach the broker is logged and left to the
broker's redelivery; the consumers reconnect (to another node of `SOESMART_BROKER_URL`)
by themselves, and an RPC call that meets a lost connection is `ServiceUnavailable`.
Every durable queue is declared with the type of `SOESMART_QUEUE_TYPE`.
"""

from __future__ import annotations

import logging
import traceback
from datetime import UTC, datetime
from functools import partial
from typing import Any

import eventlet
from kombu import Connection
from kombu.pools import producers
from nameko.amqp.publish import Publisher
from nameko.extensions import Entrypoint
from nameko.messaging import HeaderDecoder, QueueConsumer
from nameko.rpc import Responder, Rpc, RpcConsumer, get_rpc_exchange

from soesmart.contracts import Event, parse_event
from soesmart.messaging.broker import BROKER_AWAY, QueueType, queue_type_from_env
from soesmart.messaging.topology import DEAD_LETTER_EXCHANGE, QueueSpec, rpc_queue

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
ATTEMPT_HEADER = "x-soesmart-attempt"


def queue_type_of(config: dict[str, Any]) -> QueueType:
    return config.get("SOESMART_QUEUE_TYPE") or queue_type_from_env()


def _raw_body(message: Any) -> bytes:
    body = message.body
    if isinstance(body, str):
        return body.encode("utf-8")
    return bytes(body or b"")


def dead_letter(
    amqp_uri: str, message: Any, error: BaseException | str, failed_by: str
) -> None:
    """Publish a copy of `message` to the dead-letter exchange with why it failed."""
    error_text = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
    headers = dict(message.headers or {})
    headers.update(
        {
            "x-error": error_text[:2000],
            "x-failed-by": failed_by,
            "x-failed-at": datetime.now(UTC).isoformat(),
            "x-original-exchange": message.delivery_info.get("exchange", ""),
            "x-original-routing-key": message.delivery_info.get("routing_key", ""),
        }
    )
    conn = Connection(amqp_uri, transport_options={"confirm_publish": True})
    with producers[conn].acquire(block=True, timeout=10) as producer:
        producer.publish(
            _raw_body(message),
            exchange=DEAD_LETTER_EXCHANGE,
            routing_key=message.delivery_info.get("routing_key", ""),
            headers=headers,
            content_type=message.content_type or "application/octet-stream",
            content_encoding=message.content_encoding or "binary",
            delivery_mode=2,
            declare=[DEAD_LETTER_EXCHANGE],
            retry=True,
            retry_policy={"max_retries": 5},
        )
    log.error("dead-lettered a message from %s: %s", failed_by, error_text)


class SafeQueueConsumer(QueueConsumer):
    """Decodes messages itself, so a body kombu cannot decode is dead-lettered."""

    def get_consumers(self, consumer_cls, channel):  # type: ignore[no-untyped-def]
        for provider in self._providers:
            consumer = consumer_cls(
                queues=[provider.queue],
                on_message=partial(self._on_raw_message, provider),
                accept=self.accept,
            )
            consumer.qos(prefetch_count=self.prefetch_count)
            self._consumers[provider] = consumer
        return self._consumers.values()

    def _on_raw_message(self, provider: Any, message: Any) -> None:
        try:
            body = message.decode()
        except Exception as exc:  # undecodable: no handler could ever take it
            self._reject(provider, message, exc)
            return
        self.handle_message(provider, body, message)

    def _reject(self, provider: Any, message: Any, exc: BaseException | str) -> None:
        def _do() -> None:
            self.dead_letter_and_ack(message, exc, failed_by=provider.queue.name)

        self.container.spawn_managed_thread(_do, identifier="dead-letter")

    def dead_letter_and_ack(self, message: Any, error: BaseException | str, failed_by: str) -> None:
        try:
            dead_letter(self.amqp_uri, message, error, failed_by=failed_by)
        except BROKER_AWAY:  # the message stays unacked: the broker gives it to us again
            log.warning("broker away: could not dead-letter a message of %s", failed_by)
            return
        self.ack_message(message)

    # An ack or requeue on a connection the broker has just closed: nothing to do, the
    # broker gives the message out again. nameko's own versions let that kill the container.
    def ack_message(self, message: Any) -> None:
        try:
            super().ack_message(message)
        except BROKER_AWAY:
            log.warning("broker away: the ack of a message is left to redelivery")

    def requeue_message(self, message: Any) -> None:
        try:
            super().requeue_message(message)
        except BROKER_AWAY:
            log.warning("broker away: the requeue of a message is left to redelivery")


class FastResponder(Responder):
    """Replies without publisher confirms and not persisted.

    A reply goes to a caller's transient queue and is worthless after the caller's
    deadline; waiting for a confirm (and a disk write) per reply cost about a
    sixth of a town instance's CPU per rating. A lost reply ends as a 503 at the
    gateway, and commands are idempotent, so the caller may simply retry.
    """

    publisher_cls = partial(Publisher, use_confirms=False, delivery_mode=1)  # type: ignore[assignment]


class SafeRpcConsumer(RpcConsumer):
    queue_consumer = SafeQueueConsumer()

    def setup(self) -> None:
        # nameko's own, but the request queue has its type (nameko's declares none)
        if self.queue is None:  # type: ignore[has-type]
            self.queue = rpc_queue(self.container.service_name,
                                   queue_type_of(self.container.config))
            self.queue_consumer.register_provider(self)
            self._registered = True

    def handle_result(self, message, result, exc_info):  # type: ignore[no-untyped-def]
        responder = FastResponder(
            self.queue_consumer.amqp_uri, get_rpc_exchange(self.container.config),
            "json", message,
        )
        try:
            result, exc_info = responder.send_response(result, exc_info)
        except BROKER_AWAY:
            # The caller gets no answer and says 503 at its deadline; commands are
            # idempotent, so the redelivered request (if it has not expired) is harmless.
            log.warning("broker away: the reply to %s is lost", message.properties.get("reply_to"))
            return result, exc_info
        self.queue_consumer.ack_message(message)
        return result, exc_info

    def handle_message(self, body, message):  # type: ignore[no-untyped-def]
        if not message.properties.get("reply_to") or not message.properties.get(
            "correlation_id"
        ):
            self.queue_consumer.dead_letter_and_ack(
                message, "RPC request without reply_to or correlation_id",
                failed_by=self.queue.name)
            return
        super().handle_message(body, message)


class SafeRpc(Rpc):
    rpc_consumer = SafeRpcConsumer()


rpc = SafeRpc.decorator


class EventConsumer(Entrypoint, HeaderDecoder):
    """Entrypoint for one durable event queue; the handler gets a parsed `Event`."""

    queue_consumer = SafeQueueConsumer()

    def __init__(self, queue_spec: QueueSpec, **kwargs: Any) -> None:
        self.queue_spec = queue_spec
        self.queue = queue_spec.to_queue()
        super().__init__(**kwargs)

    def setup(self) -> None:
        self.queue = self.queue_spec.to_queue(queue_type_of(self.container.config))
        self.queue_consumer.register_provider(self)

    def stop(self) -> None:
        self.queue_consumer.unregister_provider(self)

    @property
    def amqp_uri(self) -> str:
        return self.queue_consumer.amqp_uri

    def handle_message(self, body: Any, message: Any) -> None:
        try:
            event = parse_event(body)
        except ValueError as exc:
            self._dead_letter(message, exc)
            return
        context_data = self.unpack_message_headers(message)
        try:
            self.container.spawn_worker(
                self,
                (event,),
                {},
                context_data=context_data,
                handle_result=partial(self.handle_result, message),
            )
        except Exception:  # container being killed: let the broker redeliver
            self.queue_consumer.requeue_message(message)

    def _dead_letter(self, message: Any, error: BaseException | str) -> None:
        self.queue_consumer.dead_letter_and_ack(message, error, failed_by=self.queue.name)

    def handle_result(self, message: Any, worker_ctx: Any, result: Any = None, exc_info: Any = None):  # type: ignore[no-untyped-def]
        if exc_info is None:
            self.queue_consumer.ack_message(message)
            return result, exc_info
        attempt = int((message.headers or {}).get(ATTEMPT_HEADER, 0)) + 1
        error = "".join(traceback.format_exception_only(exc_info[0], exc_info[1])).strip()
        if attempt >= MAX_ATTEMPTS:
            self._dead_letter(message, f"{error} (after {attempt} attempts)")
            return result, exc_info
        delay = min(0.2 * (2 ** attempt), 10.0)
        log.warning("handler failed (attempt %d), retrying in %.1fs: %s", attempt, delay, error)
        self.container.spawn_managed_thread(
            partial(self._retry_later, message, attempt, delay), identifier="event-retry"
        )
        return result, exc_info

    def _retry_later(self, message: Any, attempt: int, delay: float) -> None:
        # The original stays unacked while we wait: a crash now means redelivery.
        eventlet.sleep(delay)
        headers = dict(message.headers or {})
        headers[ATTEMPT_HEADER] = attempt
        conn = Connection(self.amqp_uri, transport_options={"confirm_publish": True})
        try:
            with producers[conn].acquire(block=True, timeout=10) as producer:
                producer.publish(
                    _raw_body(message),
                    exchange="",
                    routing_key=self.queue.name,
                    headers=headers,
                    content_type=message.content_type,
                    content_encoding=message.content_encoding,
                    delivery_mode=2,
                    message_id=message.properties.get("message_id"),
                    retry=True,
                    retry_policy={"max_retries": 5},
                )
        except Exception:
            log.exception("could not republish for retry; leaving it to redelivery")
            self.queue_consumer.requeue_message(message)
            return
        self.queue_consumer.ack_message(message)


event_consumer = EventConsumer.decorator


def ok(data: Any) -> dict[str, Any]:
    return {"ok": True, "data": data}


def refuse(code: str, message: str, details: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"ok": False, "error": {"code": code, "message": message, "details": details or []}}


def invalid(exc: Any) -> dict[str, Any]:
    """A pydantic ValidationError as a refused command naming each field."""
    details = [
        {"field": ".".join(str(p) for p in e["loc"]), "problem": e["msg"]} for e in exc.errors()
    ]
    return refuse("VALIDATION_FAILED", "Die Angaben sind ungültig.", details)



__all__ = [
    "EventConsumer",
    "Event",
    "SafeRpc",
    "dead_letter",
    "event_consumer",
    "invalid",
    "ok",
    "refuse",
    "rpc",
]
