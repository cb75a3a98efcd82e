"""The RPC client of the gateway (and of any caller): calls with a deadline, never a hang.

`TimedRpc` injects an `RpcClient`: `call(service, method, **kwargs) -> RpcReply`. A call
that is not answered in time, or meets the broker away (a lost node, a restart, no node
answering), raises `ServiceUnavailable`, which the gateway answers with 503 and
`Retry-After`. The request expires in the broker with the deadline, so a service that
comes back later never acts on a command whose caller has given up.
"""

from __future__ import annotations

from typing import Any

import eventlet
from kombu import Queue
from nameko.exceptions import UnknownService
from nameko.extensions import DependencyProvider
from nameko.rpc import ReplyListener, ServiceProxy

from soesmart.contracts import RpcReply
from soesmart.messaging.broker import BROKER_AWAY
from soesmart.messaging.nameko_ext import SafeQueueConsumer


class ServiceUnavailable(RuntimeError):
    """A service did not answer within the deadline (or is not running)."""

    def __init__(self, service: str, reason: str = "no answer in time") -> None:
        super().__init__(f"{service}: {reason}")
        self.service = service


class RpcClient:
    """What `TimedRpc` injects: `call(service, method, **kwargs) -> RpcReply`."""

    def __init__(self, worker_ctx: Any, reply_listener: ReplyListener, timeout: float) -> None:
        self._worker_ctx = worker_ctx
        self._reply_listener = reply_listener
        self.timeout = timeout

    def with_timeout(self, timeout: float) -> RpcClient:
        return RpcClient(self._worker_ctx, self._reply_listener, timeout)

    def call(self, service: str, method: str, **kwargs: Any) -> RpcReply:
        # The request expires with the deadline, so a service that comes back later
        # never acts on it; it is not persisted, since it is worthless after that.
        proxy = ServiceProxy(
            self._worker_ctx, service, self._reply_listener, expiration=self.timeout,
            delivery_mode=1,
        )
        reply = None
        try:
            with eventlet.Timeout(self.timeout, ServiceUnavailable(service)):
                reply = getattr(proxy, method).call_async(**kwargs)
                result = reply.result()
        except ServiceUnavailable:
            if reply is not None:
                self._forget(reply)
            raise
        except UnknownService:
            raise ServiceUnavailable(service, "not running") from None
        except BROKER_AWAY as exc:  # the connection was lost under the call, or no node answers
            if reply is not None:
                self._forget(reply)
            raise ServiceUnavailable(service, f"broker unreachable ({exc!r})") from None
        return RpcReply.model_validate(result)


    def _forget(self, reply: Any) -> None:
        """Drop the wait for a reply that will never be read (nameko keeps it otherwise:
        one entry per timed-out call, for the life of the process)."""
        waiting = self._reply_listener._reply_events
        for correlation_id, event in list(waiting.items()):
            if event is reply.reply_event:
                waiting.pop(correlation_id, None)
                break


class ExclusiveReplyListener(ReplyListener):
    """Replies come to a queue that lives and dies with the client's connection.

    nameko's reply queue is durable and classic: when the node that holds it is lost, the
    queue is unusable and the client, reconnected to another node, can never declare it
    again. An exclusive queue goes with its connection and is declared anew after the
    failover; replies to calls made before it are lost, and those calls end in 503.
    """

    queue_consumer = SafeQueueConsumer()

    def setup(self) -> None:
        super().setup()
        declared: Any = self.queue  # type: ignore[has-type]
        self.queue = Queue(declared.name, exchange=declared.exchange, routing_key=self.routing_key,
                           exclusive=True, durable=False, auto_delete=True)


class TimedRpc(DependencyProvider):
    rpc_reply_listener = ExclusiveReplyListener()

    def __init__(self, timeout: float = 5.0) -> None:
        self.timeout = timeout

    def setup(self) -> None:
        self.timeout = float(self.container.config.get("SOESMART_RPC_TIMEOUT", self.timeout))

    def get_dependency(self, worker_ctx: Any) -> RpcClient:
        return RpcClient(worker_ctx, self.rpc_reply_listener, self.timeout)
