"""Every event type by its wire name, and the parsing of a wire payload into its model."""

from __future__ import annotations

from typing import Any

from soesmart.contracts.common import Event
from soesmart.contracts.measures import MeasurePublished, MeasureStatusChanged
from soesmart.contracts.paper import ParticipationCounted, RatingsRecorded
from soesmart.contracts.participation_events import (
    CitizenConfirmed,
    CitizenErased,
    CitizenFollowsMeasure,
    CitizenLinkRequested,
    CommentPosted,
    CommentReplied,
    ConsultationMilestone,
    IdeaAccepted,
    IdeaDeclined,
    IdeaSubmitted,
    RatingRecorded,
)

EVENT_TYPES: dict[str, type[Event]] = {
    cls.event_type: cls
    for cls in (
        MeasurePublished, MeasureStatusChanged, RatingRecorded, CitizenLinkRequested,
        CitizenConfirmed, CitizenErased, CitizenFollowsMeasure, ConsultationMilestone, CommentPosted,
        CommentReplied, IdeaSubmitted,
        IdeaAccepted, IdeaDeclined, RatingsRecorded, ParticipationCounted,
    )
}


class UnknownEventType(ValueError):
    pass


def parse_event(payload: dict[str, Any]) -> Event:
    """Turn a wire payload into its event model; raises ValueError when malformed."""
    if not isinstance(payload, dict):
        raise ValueError("event payload must be a JSON object")
    data = dict(payload)
    event_type = data.pop("type", None)
    cls = EVENT_TYPES.get(str(event_type))
    if cls is None:
        raise UnknownEventType(f"unknown event type {event_type!r}")
    return cls.model_validate(data)
