"""The shared part of the wire contracts: base model, identifiers, vocabulary, envelopes.

Every event carries the `Event` envelope (`event_id`, `occurred_at`, `source`,
`schema_version`); every RPC answer is an `RpcReply`.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

MEASURE_CODE_PATTERN = r"^[A-Z][A-Z0-9]{1,9}(-[A-Z0-9]{1,10}){1,3}$"
MeasureCode = Annotated[str, Field(pattern=MEASURE_CODE_PATTERN, max_length=40)]
TownSlug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,39}$")]
Language = Literal["de", "en"]
# How an answer reached the town: a citizen online, or a paper questionnaire entered by staff.
Channel = Literal["online", "paper"]


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


MOBILITY_FIELDS = (
    "walking", "cycling", "public_transport", "motor_traffic", "mobility_management",
    "commercial_traffic",
)
CLIMATE_FIELDS = (
    "energy_supply", "buildings", "mobility", "economy", "climate_adaptation", "education",
)
# Which fields of action a programme's measures may belong to (pilot projects: any).
FIELDS_OF_ACTION: dict[Programme, tuple[str, ...]] = {
    Programme.VEP_KLIMA_PLUS: MOBILITY_FIELDS,
    Programme.MASTERPLAN_KLIMAPAKT: CLIMATE_FIELDS,
    Programme.SOESMART_PILOT: MOBILITY_FIELDS + CLIMATE_FIELDS,
}


class CostClass(StrEnum):
    """Rough investment of a measure, as on the fact sheets (euro)."""

    LOW = "low"  # under 50,000
    MEDIUM = "medium"  # 50,000 to 500,000
    HIGH = "high"  # 500,000 to 5 million
    VERY_HIGH = "very_high"  # more than 5 million


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


# --------------------------------------------------------------------------- answers, RPC replies


class Tally(Contract):
    """Answers to the two questions, aggregated."""

    answers: int = 0
    effectiveness_count: int = 0
    effectiveness_mean: float | None = None
    effectiveness_distribution: dict[str, int] = Field(default_factory=dict)
    support: dict[str, int] = Field(default_factory=dict)
    paper_answers: int = 0  # of `answers`, how many came on paper (default: older replies)


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
