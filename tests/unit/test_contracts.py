"""The wire contracts between services: frozen, strict, versioned, routable."""

from __future__ import annotations

import uuid

import pytest
from pydantic import ValidationError

from soesmart.contracts import (
    RatingRecorded,
    Source,
    UnknownEventType,
    parse_event,
)


def rating(**overrides: object) -> RatingRecorded:
    data: dict = dict(source=Source(service="participation", town="soest"), town="soest",
                      consultation_id=uuid.uuid4(), rating_id=uuid.uuid4(),
                      measure_code="VEP-RAD-01", effectiveness=4, version=1)
    data.update(overrides)
    return RatingRecorded(**data)


def test_every_event_carries_id_time_source_and_schema_version() -> None:
    wire = rating().to_wire()
    assert {"event_id", "occurred_at", "source", "schema_version", "type"} <= set(wire)
    assert wire["schema_version"] == 1


def test_an_event_survives_the_wire_unchanged() -> None:
    event = rating()
    assert parse_event(event.to_wire()) == event


def test_events_are_frozen() -> None:
    with pytest.raises(ValidationError):
        rating().version = 2  # type: ignore[misc]


def test_unknown_fields_are_refused() -> None:
    wire = rating().to_wire() | {"surprise": 1}
    with pytest.raises(ValidationError):
        parse_event(wire)


def test_an_unknown_event_type_is_refused() -> None:
    with pytest.raises(UnknownEventType):
        parse_event({"type": "SomethingElse"})


def test_a_payload_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(ValueError):
        parse_event(["not", "an", "object"])  # type: ignore[arg-type]


def test_routing_keys_name_service_town_and_type() -> None:
    assert rating().routing_key == "participation.soest.RatingRecorded"


def test_effectiveness_outside_one_to_five_is_refused() -> None:
    with pytest.raises(ValidationError):
        rating(effectiveness=6)
