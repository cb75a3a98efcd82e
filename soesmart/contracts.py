"""Wire contracts: every event and RPC payload that crosses a service boundary.

This module is the public API between the services. Each model is frozen and
forbids unknown fields; events carry `event_id`, `occurred_at`, `source` and
`schema_version`. A change that is not backwards compatible gets a new
`schema_version` and consumers keep accepting the old one until no producer
sends it.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, TypeAdapter

MEASURE_CODE_PATTERN = r"^[A-Z][A-Z0-9]{1,9}(-[A-Z0-9]{1,10}){1,3}$"
MeasureCode = Annotated[str, Field(pattern=MEASURE_CODE_PATTERN, max_length=40)]
TownSlug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,39}$")]


def utcnow() -> datetime:
    return datetime.now(UTC)


class Contract(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# --------------------------------------------------------------------------- vocabulary


class Support(StrEnum):
    """Answer to "Würden Sie diese Maßnahme unterstützen?"."""

    YES = "yes"
    RATHER_YES = "rather_yes"
    RATHER_NO = "rather_no"
    NO = "no"


class MeasureStatus(StrEnum):
    IDEA = "idea"
    PROPOSED = "proposed"
    IN_CONSULTATION = "in_consultation"
    DECIDED = "decided"
    IN_IMPLEMENTATION = "in_implementation"
    IMPLEMENTED = "implemented"
    REJECTED = "rejected"


class Programme(StrEnum):
    VEP_KLIMA_PLUS = "vep_klima_plus"
    MASTERPLAN_KLIMAPAKT = "masterplan_klimapakt"
    SOESMART_PILOT = "soesmart_pilot"


# --------------------------------------------------------------------------- events


class Source(Contract):
    service: Literal["participation", "measures", "notifications", "gateway"]
    town: TownSlug | None = None

    @property
    def routing_prefix(self) -> str:
        return f"{self.service}.{self.town or 'region'}"


class Event(Contract):
    """Envelope fields every event carries."""

    event_type: ClassVar[str]
    event_id: uuid.UUID = Field(default_factory=uuid.uuid4)
    occurred_at: datetime = Field(default_factory=utcnow)
    source: Source
    schema_version: Literal[1] = 1

    @property
    def routing_key(self) -> str:
        """`<service>.<town|region>.<EventType>`: consumers bind by pattern."""
        return f"{self.source.routing_prefix}.{self.event_type}"

    def to_wire(self) -> dict[str, Any]:
        return {"type": self.event_type, **self.model_dump(mode="json")}


class MeasurePublished(Event):
    """A measure entered the catalogue or its public description changed.

    Carries the whole public snapshot; `revision` grows with every change, so a
    replica keeps the highest revision and ignores older or repeated ones.
    """

    event_type: ClassVar[str] = "MeasurePublished"
    code: MeasureCode
    title: str
    summary: str
    programme: Programme
    field_of_action: str
    status: MeasureStatus
    towns: tuple[TownSlug, ...] = ()
    revision: int = Field(ge=1)


class MeasureStatusChanged(Event):
    """A coordinator moved a measure to another status (or reported progress).

    Carries the measure's programme, field of action and towns so that consumers
    can find everyone who follows it without asking the catalogue.
    """

    event_type: ClassVar[str] = "MeasureStatusChanged"
    code: MeasureCode
    title: str
    programme: Programme | None = None
    field_of_action: str = ""
    towns: tuple[TownSlug, ...] = ()
    old_status: MeasureStatus
    new_status: MeasureStatus
    note: str = ""
    progress: int | None = Field(default=None, ge=0, le=100)
    changed_by: str
    revision: int = Field(ge=1)


class RatingRecorded(Event):
    """A citizen's current answer to the two questions for one measure.

    `rating_id` is stable for one citizen, measure and consultation; `version`
    grows when the citizen changes the answer. Consumers keep the highest
    version per `rating_id`, which makes redelivery and reordering harmless.
    """

    event_type: ClassVar[str] = "RatingRecorded"
    town: TownSlug
    consultation_id: uuid.UUID
    rating_id: uuid.UUID
    measure_code: MeasureCode
    effectiveness: int | None = Field(default=None, ge=1, le=5)
    support: Support | None = None
    version: int = Field(ge=1)


EVENT_TYPES: dict[str, type[Event]] = {
    cls.event_type: cls for cls in (MeasurePublished, MeasureStatusChanged, RatingRecorded)
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


# --------------------------------------------------------------------------- RPC payloads


class RateMeasure(Contract):
    """Command: a citizen answers the two questions for one measure."""

    measure_code: MeasureCode
    participant_id: uuid.UUID
    effectiveness: int | None = Field(default=None, ge=1, le=5)
    support: Support | None = None
    reason: str | None = Field(default=None, max_length=500)


class RatingAccepted(Contract):
    rating_id: uuid.UUID
    measure_code: MeasureCode
    effectiveness: int | None
    support: Support | None
    version: int
    changed: bool


class MeasureSummary(Contract):
    code: MeasureCode
    title: str
    summary: str
    programme: Programme
    field_of_action: str
    status: MeasureStatus


class ConsultationView(Contract):
    id: uuid.UUID
    town: TownSlug
    title: str
    description: str
    status: Literal["draft", "open", "closed", "results_published"]
    starts_on: str
    ends_on: str
    measures: tuple[MeasureSummary, ...]


class MeasureDetail(MeasureSummary):
    towns: tuple[TownSlug, ...]
    revision: int
    history: tuple[StatusEntry, ...] = ()


class StatusEntry(Contract):
    status: MeasureStatus
    note: str
    changed_by: str
    changed_at: datetime
    progress: int | None = None


class ChangeMeasureStatus(Contract):
    code: MeasureCode
    status: MeasureStatus
    note: str = Field(default="", max_length=2000)
    progress: int | None = Field(default=None, ge=0, le=100)
    changed_by: str = Field(min_length=1, max_length=200)


class Tally(Contract):
    """Answers to the two questions, aggregated."""

    answers: int = 0
    effectiveness_count: int = 0
    effectiveness_mean: float | None = None
    effectiveness_distribution: dict[str, int] = Field(default_factory=dict)
    support: dict[str, int] = Field(default_factory=dict)


class MeasureResults(Contract):
    code: MeasureCode
    title: str
    total: Tally
    towns: dict[str, Tally]


class RegionalResults(Contract):
    measures: tuple[MeasureResults, ...]
    generated_at: datetime


class Subscribe(Contract):
    email: EmailStr
    measure_code: MeasureCode
    language: Literal["de", "en"] = "de"


class SubscriptionAccepted(Contract):
    """Said whether or not the address was already subscribed (no hint either way)."""

    status: Literal["confirmation_sent"] = "confirmation_sent"


class ConfirmSubscription(Contract):
    token: str = Field(min_length=10, max_length=200)


class RpcError(Contract):
    """A refused command: `code` names what went wrong, `details` the fields."""

    code: str
    message: str
    details: tuple[dict[str, Any], ...] = ()


class RpcReply(Contract):
    """Every RPC answer: either `data` or `error`."""

    ok: bool
    data: Any = None
    error: RpcError | None = None


MeasureDetail.model_rebuild()
_reply_adapter = TypeAdapter(RpcReply)
