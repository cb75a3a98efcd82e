"""Commands that look after a running network over the broker: dead letters, the
catalogue sent again to every town, the combined results rebuilt from the towns."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from soesmart.config import Settings
from soesmart.towns import towns


def cmd_dead_letters(args: argparse.Namespace) -> int:
    """Show (and with --requeue, send back) what is in the dead-letter queue."""
    from kombu import Connection, Exchange

    from soesmart.messaging.topology import EVENTS_EXCHANGE, dead_letter_queue

    settings = Settings()
    shown = 0
    with Connection(settings.broker_url) as conn:
        queue = dead_letter_queue()(conn.default_channel)
        queue.declare()
        # Only what is there now: with --requeue, a message sent back may fail again and
        # return to this queue while we read, and must not be taken a second time.
        _, waiting, _ = queue.queue_declare(passive=True)
        producer = conn.Producer()
        while shown < min(args.limit, waiting):
            message = queue.get(no_ack=False)
            if message is None:
                break
            headers = message.headers or {}
            print(json.dumps({
                "error": headers.get("x-error"), "failed_by": headers.get("x-failed-by"),
                "failed_at": headers.get("x-failed-at"),
                "routing_key": headers.get("x-original-routing-key"),
                "body": message.body.decode("utf-8", "replace")[:500]
                if isinstance(message.body, bytes) else str(message.body)[:500],
            }, ensure_ascii=False))
            if args.requeue:
                producer.publish(
                    message.body, exchange=Exchange(EVENTS_EXCHANGE.name, type="topic"),
                    routing_key=headers.get("x-original-routing-key", ""),
                    content_type=message.content_type, content_encoding=message.content_encoding,
                    delivery_mode=2,
                )
                message.ack()
            # Without --requeue the message stays unacked and goes back to the
            # queue when this connection closes.
            shown += 1
    print(f"{shown} dead letter(s){' sent back' if args.requeue else ''}.", file=sys.stderr)
    return 0


@contextmanager
def rpc_caller(settings: Settings, timeout: float = 30.0) -> Iterator[Callable[..., object]]:
    """`call(service, method, **kwargs)` from a command line, over the broker."""
    import warnings

    warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
    from nameko.standalone.rpc import ClusterRpcProxy

    from soesmart.contracts import RpcReply

    config = {"AMQP_URI": settings.broker_url, "serializer": "json"}
    with ClusterRpcProxy(config, timeout=max(settings.rpc_timeout, timeout)) as cluster:

        def call(service: str, method: str, **kwargs: object) -> object:
            reply = RpcReply.model_validate(getattr(getattr(cluster, service), method)(**kwargs))
            if not reply.ok:
                raise SystemExit(f"{service}.{method} refused: {reply.error}")
            return reply.data

        yield call


def cmd_republish_catalogue(args: argparse.Namespace) -> int:
    """Publish every measure again, e.g. so that a newly added town gets its replica."""
    with rpc_caller(Settings()) as call:
        count = call("measures", "republish_catalogue")
    print(f"Published {count} measures again.")
    return 0


def cmd_rebuild_results(args: argparse.Namespace) -> int:
    """Rebuild the combined results projection from every town's stored ratings.

    Runs beside the measures service, on its database (SOESMART_DATABASE_URL or the
    default SQLite file), and pages through each town's `export_ratings` over RPC.
    Every town must answer before anything is dropped: a rebuild never leaves a
    town out. Live rating events keep flowing meanwhile; the projection keeps the
    highest version per rating, so they and the replay agree whatever the order.
    """
    from services.measures.service_layer.handlers import MeasuresApp
    from soesmart.contracts import RatingsPage

    settings = Settings().model_copy(update={"demo": False})
    selected = [towns().get(slug) for slug in args.town] if args.town else list(towns())
    app = MeasuresApp(settings)
    totals: dict[str, int] = {}
    started = time.monotonic()
    with rpc_caller(settings) as call:
        for town in selected:
            try:
                call(town.service_name, "ping")
            except Exception as exc:  # noqa: BLE001 - any failure: do not drop anything
                print(f"{town.name} ({town.service_name}) does not answer ({exc!r}); "
                      "nothing was changed.", file=sys.stderr)
                return 1
        if args.town:
            for town in selected:
                app.reset_projection(town.slug)
        else:
            app.reset_projection()  # also drops towns that have left the network
        for town in selected:
            after: str | None = None
            count = 0
            while True:
                page = RatingsPage.model_validate(
                    call(town.service_name, "export_ratings", after_id=after, limit=args.page_size)
                )
                app.replay_ratings(town.slug, page.items)
                count += len(page.items)
                if page.next_after is None:
                    break
                after = page.next_after
            totals[town.slug] = count
            print(f"{town.name}: {count} ratings replayed", flush=True)
    print(f"Rebuilt the combined results from {sum(totals.values())} ratings of "
          f"{len(totals)} town(s) in {time.monotonic() - started:.1f} s.")
    return 0
