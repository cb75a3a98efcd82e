"""The broker topology: one topic exchange for all events, durable queues, dead letters.

Every service declares the whole topology at start-up (it is idempotent), so an
event published by one service before another has ever started still lands in
the durable queue that is waiting for it. nameko's own event dispatcher does not
publish as mandatory and would silently drop such an event.

Routing keys are `<service>.<town|region>.<EventType>`; a consumer binds by
pattern, so a new town's events reach the regional services without code.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kombu import Connection, Exchange, Queue, binding

from soesmart.towns import Town, TownRegistry

EVENTS_EXCHANGE = Exchange("soesmart.events", type="topic", durable=True)
DEAD_LETTER_EXCHANGE = Exchange("soesmart.dead-letters", type="fanout", durable=True)
DEAD_LETTER_QUEUE = Queue(
    "soesmart.dead-letters", exchange=DEAD_LETTER_EXCHANGE, routing_key="#", durable=True
)
QUEUE_ARGUMENTS = {"x-dead-letter-exchange": DEAD_LETTER_EXCHANGE.name}


@dataclass(frozen=True)
class QueueSpec:
    name: str
    patterns: tuple[str, ...] = field(default_factory=tuple)

    def to_queue(self) -> Queue:
        return Queue(
            self.name,
            bindings=[binding(EVENTS_EXCHANGE, routing_key=p) for p in self.patterns],
            durable=True,
            queue_arguments=QUEUE_ARGUMENTS,
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


def declare_all(broker_url: str, towns: TownRegistry) -> None:
    """Declare exchanges, queues and bindings of the whole network (idempotent)."""
    with Connection(broker_url, connect_timeout=5) as conn:
        conn.ensure_connection(max_retries=10, interval_start=0.2, interval_step=0.5)
        channel = conn.channel()
        try:
            EVENTS_EXCHANGE(channel).declare()
            DEAD_LETTER_EXCHANGE(channel).declare()
            DEAD_LETTER_QUEUE(channel).declare()
            for spec in all_queues(towns):
                spec.to_queue()(channel).declare()
        finally:
            channel.close()
