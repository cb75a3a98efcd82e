"""The broker topology: one topic exchange for all events, durable queues, dead letters.

Every service declares the whole topology at start-up (it is idempotent), so an
event published by one service before another has ever started still lands in
the durable queue that is waiting for it. nameko's own event dispatcher does not
publish as mandatory and would silently drop such an event.

Routing keys are `<service>.<town|region>.<EventType>`; a consumer binds by
pattern, so a new town's events reach the regional services without code.

Every durable queue has the type of `SOESMART_QUEUE_TYPE` (soesmart/messaging/broker.py);
the RPC request queues of the services are declared here too, with the same type, so that
nameko's consumers find them as they would declare them. A queue left from a release with
another type is replaced at start-up, its messages moved over (`queue_upgrade.py`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kombu import Connection, Exchange, Queue, binding

from soesmart.messaging.broker import QueueType, queue_type_arguments
from soesmart.towns import Town, TownRegistry

EVENTS_EXCHANGE = Exchange("soesmart.events", type="topic", durable=True)
DEAD_LETTER_EXCHANGE = Exchange("soesmart.dead-letters", type="fanout", durable=True)
# nameko's exchange for RPC requests and replies (nameko.rpc.get_rpc_exchange, by default)
RPC_EXCHANGE = Exchange("nameko-rpc", type="topic", durable=True)
QUEUE_ARGUMENTS = {"x-dead-letter-exchange": DEAD_LETTER_EXCHANGE.name}


def dead_letter_queue(queue_type: QueueType | None = None) -> Queue:
    return Queue("soesmart.dead-letters", exchange=DEAD_LETTER_EXCHANGE, routing_key="#",
                 durable=True, queue_arguments=queue_type_arguments(queue_type))


def rpc_queue(service_name: str, queue_type: QueueType | None = None) -> Queue:
    """The request queue of a nameko service (`rpc-<service>`), as its consumer declares it."""
    return Queue(f"rpc-{service_name}", exchange=RPC_EXCHANGE, routing_key=f"{service_name}.*",
                 durable=True, queue_arguments=queue_type_arguments(queue_type))


@dataclass(frozen=True)
class QueueSpec:
    name: str
    patterns: tuple[str, ...] = field(default_factory=tuple)

    def to_queue(self, queue_type: QueueType | None = None) -> Queue:
        return Queue(
            self.name,
            bindings=[binding(EVENTS_EXCHANGE, routing_key=p) for p in self.patterns],
            durable=True,
            queue_arguments={**QUEUE_ARGUMENTS, **queue_type_arguments(queue_type)},
        )


MEASURES_QUEUE = QueueSpec(
    "measures.events",
    (
        "participation.*.RatingRecorded",
        "participation.*.RatingsRecorded",  # batches: paper sheets imported, demo seeding
        "participation.*.ParticipationCounted",
        # daily participation per town, and accepted ideas as proposed measures
        "participation.*.CitizenConfirmed",
        "participation.*.CommentPosted",
        "participation.*.IdeaSubmitted",
        "participation.*.IdeaAccepted",
        # which consultations asked a measure, for its story on the measure page
        "participation.*.ConsultationMilestone",
    ),
)
NOTIFICATIONS_QUEUE = QueueSpec(
    "notifications.events",
    (
        "measures.*.MeasureStatusChanged",
        "participation.*.CitizenLinkRequested",
        "participation.*.ConsultationMilestone",
        "participation.*.CommentReplied",
        "participation.*.CitizenFollowsMeasure",
        "participation.*.CitizenErased",
        "participation.*.IdeaAccepted",
        "participation.*.IdeaDeclined",
    ),
)


def participation_queue(town: Town | str) -> QueueSpec:
    slug = town if isinstance(town, str) else town.slug
    return QueueSpec(
        f"participation.{slug}.events",
        ("measures.*.MeasurePublished", "measures.*.MeasureStatusChanged"),
    )


def all_queues(towns: TownRegistry) -> list[QueueSpec]:
    return [MEASURES_QUEUE, NOTIFICATIONS_QUEUE, *(participation_queue(t) for t in towns)]


def rpc_service_names(towns: TownRegistry) -> list[str]:
    """The nameko services that answer RPC: the regional two and one per town."""
    return ["measures", "notifications", *(t.service_name for t in towns)]


def all_durable_queues(towns: TownRegistry, queue_type: QueueType | None = None) -> list[Queue]:
    return [
        dead_letter_queue(queue_type),
        *(spec.to_queue(queue_type) for spec in all_queues(towns)),
        *(rpc_queue(name, queue_type) for name in rpc_service_names(towns)),
    ]


def declare_all(broker_url: str, towns: TownRegistry, queue_type: QueueType | None = None) -> None:
    """Declare exchanges, queues and bindings of the whole network (idempotent).

    A queue that exists with another type (from an older release) is replaced by one of
    `queue_type`, its messages moved over; see `queue_upgrade.declare_or_replace`.
    """
    from soesmart.messaging.queue_upgrade import declare_or_replace

    with Connection(broker_url, connect_timeout=5) as conn:
        conn.ensure_connection(max_retries=10, interval_start=0.2, interval_step=0.5)
        channel = conn.channel()
        try:
            for exchange in (EVENTS_EXCHANGE, DEAD_LETTER_EXCHANGE, RPC_EXCHANGE):
                exchange(channel).declare()
        finally:
            channel.close()
        for queue in all_durable_queues(towns, queue_type):
            declare_or_replace(conn, queue)
