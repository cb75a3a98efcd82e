"""A town instance works alone: with only the broker and itself running (no measures, no
notifications service), citizens register, confirm and rate, and everything the region
needs waits in the regional services' durable queues until they are back."""

from __future__ import annotations

import json
import threading
from collections import Counter
from datetime import timedelta

from kombu import Connection

from soesmart.config import Settings
from soesmart.contracts import ChangeConsultationPhase, CreateConsultation, RateMeasure, Support
from soesmart.messaging.topology import MEASURES_QUEUE, NOTIFICATIONS_QUEUE, declare_all
from soesmart.towns import towns
from tests.support.citizens import confirmed_citizen
from tests.support.infra import eventually, queue_depth
from tests.support.participation import Clock, town_app


def queued_types(broker_url: str, queue: str) -> Counter[str]:
    """The types of the messages waiting in `queue` (they go back when the connection closes)."""
    seen: Counter[str] = Counter()
    with Connection(broker_url) as conn:
        channel = conn.channel()
        while (message := channel.basic_get(queue, no_ack=False)) is not None:
            seen[json.loads(message.body)["type"]] += 1
    return seen


def test_a_town_registers_and_rates_while_the_regional_services_are_down_and_their_events_wait(
    settings: Settings, vhost: tuple[str, str],
) -> None:
    # Given only the broker (with the declared topology) and Soest's instance with its relay
    declare_all(settings.broker_url, towns())
    clock = Clock()
    app = town_app(settings, clock)
    relay = threading.Thread(target=app.relay.run, daemon=True)
    relay.start()
    try:
        # When an admin opens a consultation and three citizens register, confirm and rate
        today = clock().date()
        draft = app.create_consultation(CreateConsultation(
            title="Radverkehr in Soest", starts_on=today, ends_on=today + timedelta(days=14),
            measure_codes=("VEP-RAD-02",), actor="Admin"))
        app.change_consultation_phase(ChangeConsultationPhase(consultation_id=draft.id, phase="open",
                                                              actor="Admin"))
        people = [confirmed_citizen(app, follow_rated=(i == 0)) for i in range(3)]
        for person in people:
            accepted = app.rate(RateMeasure(measure_code="VEP-RAD-02", participant_id=person,
                                            support=Support.YES))
            assert accepted.version == 1

        # Then every event has left the instance and waits in the regional queues
        eventually(lambda: app.relay.pending() == 0, timeout=15, message="the outbox is empty")
        eventually(lambda: queue_depth(vhost[0], MEASURES_QUEUE.name) == 7
                   and queue_depth(vhost[0], NOTIFICATIONS_QUEUE.name) == 5,
                   timeout=15, message="the events wait in the durable queues")
    finally:
        app.stop()
        relay.join(timeout=5)
    assert queued_types(settings.broker_url, MEASURES_QUEUE.name) == {
        "RatingRecorded": 3, "CitizenConfirmed": 3, "ConsultationMilestone": 1}
    assert queued_types(settings.broker_url, NOTIFICATIONS_QUEUE.name) == {
        "CitizenLinkRequested": 3, "ConsultationMilestone": 1, "CitizenFollowsMeasure": 1}
