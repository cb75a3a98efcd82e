"""Wire contracts: every event and RPC payload that crosses a service boundary.

This module is the public API between the services. Each model is frozen and
forbids unknown fields; events carry `event_id`, `occurred_at`, `source` and
`schema_version`. A change that is not backwards compatible gets a new
`schema_version` and consumers keep accepting the old one until no producer
sends it.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

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
    # Catalogue fields added later: defaults keep events of older producers valid.
    description: str = ""
    co2_saving_t_per_year: float | None = None
    cost_class: CostClass | None = None
    responsible_body: str = ""
    place: str | None = None


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
    description: str = ""
    co2_saving_t_per_year: float | None = None
    cost_class: CostClass | None = None
    responsible_body: str = ""
    place: str | None = None


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


# --------------------------------------------------------------------------- catalogue import/export


class CatalogueEntry(Contract):
    """One measure as a row of a catalogue file (import and export, CSV and JSON).

    `status` only sets the first status of a new measure; an existing measure
    changes status through `ChangeMeasureStatus`, which keeps the history.
    """

    code: MeasureCode
    title: str = Field(min_length=3, max_length=300)
    summary: str = Field(default="", max_length=1000)
    description: str = Field(default="", max_length=20000)
    programme: Programme
    field_of_action: str
    towns: tuple[TownSlug, ...] = ()
    status: MeasureStatus | None = None
    co2_saving_t_per_year: float | None = Field(default=None, ge=0, le=10_000_000)
    cost_class: CostClass | None = None
    responsible_body: str = Field(default="", max_length=200)
    place: str | None = Field(default=None, max_length=200)

    @field_validator("field_of_action")
    @classmethod
    def _field_belongs_to_programme(cls, value: str, info: ValidationInfo) -> str:
        programme = info.data.get("programme")  # absent when the programme itself is invalid
        allowed = FIELDS_OF_ACTION[programme] if programme else MOBILITY_FIELDS + CLIMATE_FIELDS
        if value not in allowed:
            raise ValueError(f"'{value}' passt nicht zum Programm; erlaubt: {', '.join(allowed)}")
        return value


class ImportReport(Contract):
    """What an accepted import did; `unchanged` rows were identical to the catalogue."""

    rows: int
    created: tuple[MeasureCode, ...] = ()
    updated: tuple[MeasureCode, ...] = ()
    unchanged: int = 0


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


# --------------------------------------------------------------------------- coordinator queries


class TownFigures(Contract):
    """One town's (or the region's) answers to one measure, as shares."""

    town: str  # a town slug, or "region" for the total
    answers: int
    effectiveness_mean: float | None
    support_answers: int
    support_share: float | None = Field(
        description="(yes + rather yes) / support answers, 0..1; None without support answers"
    )


class RankedMeasure(Contract):
    code: MeasureCode
    title: str
    region: TownFigures


class TopMeasures(Contract):
    """Measures ordered by support share (ties: more support answers first)."""

    min_answers: int
    town: str | None
    measures: tuple[RankedMeasure, ...]


class TownComparison(Contract):
    code: MeasureCode
    title: str
    region: TownFigures
    towns: tuple[TownFigures, ...]


class Disagreement(Contract):
    code: MeasureCode
    title: str
    support_spread: float = Field(description="max - min support share between towns, 0..1")
    effectiveness_spread: float | None = Field(description="max - min mean effectiveness")
    towns: tuple[TownFigures, ...]


class Disagreements(Contract):
    """Measures where towns disagree most; only towns with `min_answers` count."""

    min_answers: int
    measures: tuple[Disagreement, ...]


class DailyParticipation(Contract):
    day: str  # ISO date, Europe/Berlin
    town: TownSlug
    ratings: int


class ParticipationPerDay(Contract):
    """New ratings per town and day (a rating counts once, on the day of its first version)."""

    days: tuple[DailyParticipation, ...]


class ExportedRating(Contract):
    """A town's stored rating, as `export_ratings` pages it out for a rebuild."""

    rating_id: uuid.UUID
    consultation_id: uuid.UUID
    measure_code: MeasureCode
    effectiveness: int | None
    support: Support | None
    version: int = Field(ge=1)
    created_at: datetime


class RatingsPage(Contract):
    town: TownSlug
    items: tuple[ExportedRating, ...]
    next_after: str | None = None


class SubscriptionScope(StrEnum):
    """What a subscription follows."""

    MEASURE = "measure"  # scope_value: a measure code
    FIELD_OF_ACTION = "field_of_action"  # scope_value: e.g. "cycling"
    TOWN = "town"  # scope_value: a town slug (its consultations and measures)
    REGION = "region"  # scope_value: "all"


class Frequency(StrEnum):
    IMMEDIATE = "immediate"
    DAILY = "daily"
    WEEKLY = "weekly"


REGION_SCOPE_VALUE = "all"
# RFC 2606 / 6761 names that never receive mail. email-validator already refuses
# .test, .invalid, .localhost, .local, .onion and .arpa; ".example" is added here.
# The second-level example.com/.net/.org are accepted on purpose: the test suite,
# the demo and the local mail catcher use them (see the notifications README note).
UNDELIVERABLE_TLDS = ("example",)
_SCOPE_VALUE_PATTERNS = {
    SubscriptionScope.MEASURE: MEASURE_CODE_PATTERN,
    SubscriptionScope.TOWN: r"^[a-z0-9][a-z0-9-]{0,39}$",
    SubscriptionScope.FIELD_OF_ACTION: r"^[a-z][a-z_]{1,39}$",
    SubscriptionScope.REGION: rf"^{REGION_SCOPE_VALUE}$",
}


class Subscribe(Contract):
    """Command: ask for consent to mail `email` about one scope.

    The first version had only `measure_code`; a body with `measure_code` alone
    still means `scope_type="measure"`, `scope_value=<code>`.
    """

    email: EmailStr
    scope_type: SubscriptionScope = SubscriptionScope.MEASURE
    scope_value: str = Field(default="", max_length=60, validate_default=True)
    measure_code: MeasureCode | None = None
    language: Literal["de", "en"] = "de"
    frequency: Frequency = Frequency.IMMEDIATE

    @model_validator(mode="before")
    @classmethod
    def _measure_code_means_measure_scope(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = dict(data)
        if data.get("measure_code") and not data.get("scope_value"):
            data.setdefault("scope_type", SubscriptionScope.MEASURE)
            data["scope_value"] = data["measure_code"]
        if data.get("scope_type") == SubscriptionScope.REGION and not data.get("scope_value"):
            data["scope_value"] = REGION_SCOPE_VALUE
        return data

    @field_validator("email")
    @classmethod
    def _deliverable(cls, value: str) -> str:
        domain = value.rsplit("@", 1)[-1].lower()
        if domain.rsplit(".", 1)[-1] in UNDELIVERABLE_TLDS:
            raise ValueError(f"An „{domain}“ kann keine E-Mail zugestellt werden.")
        return value

    @field_validator("scope_value")
    @classmethod
    def _fits_scope_type(cls, value: str, info: ValidationInfo) -> str:
        scope = info.data.get("scope_type")
        if scope is None:  # the scope type itself was refused
            return value
        if not re.match(_SCOPE_VALUE_PATTERNS[scope], value):
            raise ValueError(f"'{value}' ist kein gültiger Wert für den Bereich '{scope}'")
        if scope == SubscriptionScope.FIELD_OF_ACTION and value not in (
            MOBILITY_FIELDS + CLIMATE_FIELDS
        ):
            raise ValueError(f"unbekanntes Handlungsfeld '{value}'")
        return value

    @model_validator(mode="after")
    def _measure_code_agrees(self) -> Subscribe:
        if self.measure_code is not None and (
            self.scope_type != SubscriptionScope.MEASURE or self.scope_value != self.measure_code
        ):
            raise ValueError("measure_code and scope_type/scope_value disagree")
        return self


class SubscriptionAccepted(Contract):
    """Said whether or not the address was already subscribed (no hint either way)."""

    status: Literal["confirmation_sent"] = "confirmation_sent"


class ConfirmSubscription(Contract):
    token: str = Field(min_length=10, max_length=200)


class SubscriptionView(Contract):
    id: str
    scope_type: SubscriptionScope
    scope_value: str
    frequency: Frequency
    confirmed_at: datetime | None


class Preferences(Contract):
    """What the signed preferences link shows: one address and its confirmed subscriptions."""

    email: str
    language: Literal["de", "en"]
    subscriptions: tuple[SubscriptionView, ...]


class UpdatePreferences(Contract):
    """Command from the preferences page; `token` is the signed link of the address."""

    token: str = Field(min_length=10, max_length=200)
    language: Literal["de", "en"] | None = None
    frequencies: dict[str, Frequency] = Field(default_factory=dict)  # subscription id -> new
    unsubscribe: tuple[str, ...] = ()
    unsubscribe_all: bool = False


class DeliveryCount(Contract):
    cause: str
    status: Literal["pending", "sent", "failed"]
    count: int
    retried: int = Field(description="of these, how many needed more than one attempt")


class DeliveryLog(Contract):
    """For admins: mails by cause and outcome, the latest deliveries, bouncing addresses."""

    counts: tuple[DeliveryCount, ...]
    bouncing_addresses: int
    recent: tuple[dict[str, Any], ...]


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
