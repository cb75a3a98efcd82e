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
from datetime import UTC, date, datetime
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


# --------------------------------------------------------------------------- participation events
# Facts of one town's participation instance. Events that make the notifications
# service write to one person (links, replies, ideas) carry that person's address
# and language, so the mail needs no call back into the town's instance.

Language = Literal["de", "en"]


class CitizenLinkRequested(Event):
    """A citizen needs a link by mail: to confirm the address, or to sign in.

    `token` is the single-use secret of the link (the instance keeps only its
    hash); the notifications service builds the address of the page from its
    public URL: `/stadt/<town>/bestaetigen?token=` or `/stadt/<town>/anmelden/link?token=`.
    """

    event_type: ClassVar[str] = "CitizenLinkRequested"
    town: TownSlug
    purpose: Literal["confirm_registration", "sign_in"]
    email: EmailStr
    display_name: str
    language: Language = "de"
    token: str = Field(min_length=20, max_length=200)
    expires_at: datetime


class CitizenConfirmed(Event):
    """A citizen confirmed the address (counts as a new participant of the town)."""

    event_type: ClassVar[str] = "CitizenConfirmed"
    town: TownSlug
    citizen_id: uuid.UUID


class ConsultationMilestone(Event):
    """A consultation was opened, closes in 3 days, was closed, or its results were published."""

    event_type: ClassVar[str] = "ConsultationMilestone"
    town: TownSlug
    consultation_id: uuid.UUID
    milestone: Literal["opened", "closing_soon", "closed", "results_published"]
    title: str
    starts_on: str  # ISO date
    ends_on: str  # ISO date
    measure_codes: tuple[MeasureCode, ...] = ()


class CommentPosted(Event):
    """A citizen commented on a measure (or replied to a comment)."""

    event_type: ClassVar[str] = "CommentPosted"
    town: TownSlug
    comment_id: uuid.UUID
    consultation_id: uuid.UUID
    measure_code: MeasureCode
    parent_id: uuid.UUID | None = None


class CommentReplied(Event):
    """Someone replied to a citizen's comment and that citizen asked to hear of replies."""

    event_type: ClassVar[str] = "CommentReplied"
    town: TownSlug
    comment_id: uuid.UUID  # the reply
    parent_id: uuid.UUID  # the comment replied to
    measure_code: MeasureCode
    measure_title: str
    replier_display_name: str
    excerpt: str = Field(max_length=300)
    recipient_email: EmailStr
    recipient_language: Language = "de"


class CitizenFollowsMeasure(Event):
    """A confirmed citizen who asked for news of the measures they rate rated this one.

    The notifications service adds a confirmed subscription to the measure: the
    consent was given with the confirmed registration (recorded as its source).
    """

    event_type: ClassVar[str] = "CitizenFollowsMeasure"
    town: TownSlug
    measure_code: MeasureCode
    email: EmailStr
    language: Language = "de"


class CitizenErased(Event):
    """A citizen erased their account in the town.

    The notifications service ends the subscriptions that came from that account
    ("follow what I rate") and drops link mails not yet sent to the address; it
    keeps subscriptions the person made on their own, with their own consent.
    """

    event_type: ClassVar[str] = "CitizenErased"
    town: TownSlug
    email: EmailStr


class IdeaSubmitted(Event):
    event_type: ClassVar[str] = "IdeaSubmitted"
    town: TownSlug
    idea_id: uuid.UUID
    title: str
    field_of_action: str


class IdeaAccepted(Event):
    """A town admin accepted a citizen's idea: the catalogue adds it as a proposed measure.

    The measures service derives the code from `idea_id`, so a redelivered event
    adds nothing; `author_*` is for the mail that tells the author.
    """

    event_type: ClassVar[str] = "IdeaAccepted"
    town: TownSlug
    idea_id: uuid.UUID
    title: str
    description: str
    field_of_action: str
    place: str | None = None
    note: str = ""
    author_email: EmailStr | None = None  # None when the author has erased their data
    author_language: Language = "de"


class IdeaDeclined(Event):
    event_type: ClassVar[str] = "IdeaDeclined"
    town: TownSlug
    idea_id: uuid.UUID
    title: str
    reason: str
    author_email: EmailStr | None = None
    author_language: Language = "de"


def idea_measure_code(town: str, idea_id: uuid.UUID) -> str:
    """The catalogue code of an accepted idea: `IDEE-<TOWN>-<8 hex>`, stable per idea."""
    town_part = re.sub(r"[^A-Z0-9]", "", town.upper())[:10] or "TOWN"
    return f"IDEE-{town_part}-{idea_id.hex[:8].upper()}"


EVENT_TYPES: dict[str, type[Event]] = {
    cls.event_type: cls
    for cls in (
        MeasurePublished, MeasureStatusChanged, RatingRecorded, CitizenLinkRequested,
        CitizenConfirmed, CitizenErased, CitizenFollowsMeasure, ConsultationMilestone, CommentPosted,
        CommentReplied, IdeaSubmitted,
        IdeaAccepted, IdeaDeclined,
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
    # Added later (defaults keep older replies valid): counted once per event of the town.
    citizens: int = 0  # confirmed their address (CitizenConfirmed)
    comments: int = 0  # comments and replies (CommentPosted)
    ideas: int = 0  # submitted ideas (IdeaSubmitted)


class ParticipationPerDay(Contract):
    """Participation per town and day: new ratings (a rating counts once, on the day of its
    first version), citizens, comments and ideas."""

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


# --------------------------------------------------------------------------- participation: citizens
# `client` in a command is an opaque key of the calling client (the gateway sends a
# keyed hash of the IP address, never the address itself); the town's instance
# uses it for rate limits per client, next to the limits per e-mail address.

ClientKey = Annotated[str | None, Field(default=None, max_length=100)]
DisplayName = Annotated[str, Field(min_length=2, max_length=40)]
Postcode = Annotated[str, Field(pattern=r"^[0-9]{5}$")]


class RegisterCitizen(Contract):
    """Command: register with address, postcode and public display name (double opt-in).

    Answered the same whether or not the address is known: a known, confirmed
    address gets a sign-in link instead of a second registration.
    """

    email: EmailStr
    postcode: Postcode
    display_name: DisplayName
    language: Language = "de"
    notify_replies: bool = False  # mail me when someone replies to my comments
    follow_rated: bool = False  # mail me news of the measures I rate
    client: ClientKey = None

    @field_validator("display_name")
    @classmethod
    def _plain_display_name(cls, value: str) -> str:
        value = " ".join(value.split())
        if "@" in value:
            raise ValueError("Der Anzeigename darf keine E-Mail-Adresse sein.")
        return value


class LinkSent(Contract):
    """Said after registration and sign-in requests, whatever the address (no hint)."""

    status: Literal["link_sent"] = "link_sent"


class RequestSignIn(Contract):
    email: EmailStr
    client: ClientKey = None


class RedeemLink(Contract):
    """Command: the token of a confirmation or sign-in link (single use, expiring)."""

    token: str = Field(min_length=20, max_length=200)


class CitizenSession(Contract):
    """Who a redeemed link belongs to; the gateway turns it into a signed session."""

    citizen_id: uuid.UUID
    town: TownSlug
    display_name: str
    confirmed: bool


class CitizenView(Contract):
    """"Meine Daten": everything the town's instance stores about one citizen."""

    citizen_id: uuid.UUID
    town: TownSlug
    email: str
    postcode: str
    display_name: str
    language: Language
    notify_replies: bool
    follow_rated: bool
    registered_at: datetime
    confirmed_at: datetime | None
    ratings: tuple[dict[str, Any], ...] = ()
    comments: tuple[dict[str, Any], ...] = ()
    ideas: tuple[dict[str, Any], ...] = ()


class UpdateCitizen(Contract):
    citizen_id: uuid.UUID
    display_name: DisplayName | None = None
    language: Language | None = None
    notify_replies: bool | None = None
    follow_rated: bool | None = None


# --------------------------------------------------------------------------- participation: consultations


class CreateConsultation(Contract):
    """Command of a town admin: a new consultation in draft, with the measures it asks about.

    Measures are picked by whole programme, by field of action, or one by one (the
    union of all three); each must be in the town's copy of the catalogue.
    """

    title: str = Field(min_length=5, max_length=300)
    description: str = Field(default="", max_length=10000)
    starts_on: date
    ends_on: date
    programmes: tuple[Programme, ...] = ()
    fields_of_action: tuple[str, ...] = ()
    measure_codes: tuple[MeasureCode, ...] = ()
    actor: str = Field(min_length=1, max_length=200)

    @model_validator(mode="after")
    def _dates_in_order(self) -> CreateConsultation:
        if self.ends_on < self.starts_on:
            raise ValueError("Das Ende liegt vor dem Beginn.")
        return self


class UpdateConsultation(Contract):
    """Change a draft (or the texts and end date of an open consultation)."""

    consultation_id: uuid.UUID
    title: str | None = Field(default=None, min_length=5, max_length=300)
    description: str | None = Field(default=None, max_length=10000)
    starts_on: date | None = None
    ends_on: date | None = None
    programmes: tuple[Programme, ...] | None = None
    fields_of_action: tuple[str, ...] | None = None
    measure_codes: tuple[MeasureCode, ...] | None = None
    actor: str = Field(min_length=1, max_length=200)


ConsultationPhase = Literal["draft", "open", "closed", "results_published"]


class ChangeConsultationPhase(Contract):
    """draft -> open -> closed -> results_published; nothing goes back."""

    consultation_id: uuid.UUID
    phase: Literal["open", "closed", "results_published"]
    actor: str = Field(min_length=1, max_length=200)


# ------------------------------------------------------------- participation: comments, ideas, moderation

CommentBody = Annotated[str, Field(min_length=1, max_length=2000)]


class PostComment(Contract):
    citizen_id: uuid.UUID
    measure_code: MeasureCode
    consultation_id: uuid.UUID | None = None  # default: the open consultation with the measure
    body: CommentBody
    parent_id: uuid.UUID | None = None  # a reply; replies to replies are refused
    client: ClientKey = None

    @field_validator("body")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("Der Kommentar ist leer.")
        return value.strip()


class CommentView(Contract):
    id: uuid.UUID
    measure_code: MeasureCode
    display_name: str
    body: str  # plain text; pages escape it
    created_at: datetime
    parent_id: uuid.UUID | None = None
    replies: tuple[CommentView, ...] = ()


FlagReason = Literal["spam", "offensive", "off_topic", "personal_data", "other"]


class FlagComment(Contract):
    citizen_id: uuid.UUID
    comment_id: uuid.UUID
    reason: FlagReason
    note: str = Field(default="", max_length=500)
    client: ClientKey = None


class ProposeIdea(Contract):
    citizen_id: uuid.UUID
    title: str = Field(min_length=5, max_length=200)
    description: str = Field(min_length=20, max_length=5000)
    field_of_action: str
    place: str | None = Field(default=None, max_length=200)
    client: ClientKey = None

    @field_validator("field_of_action")
    @classmethod
    def _known_field(cls, value: str) -> str:
        if value not in MOBILITY_FIELDS + CLIMATE_FIELDS:
            raise ValueError(f"unbekanntes Handlungsfeld '{value}'")
        return value


class IdeaView(Contract):
    id: uuid.UUID
    title: str
    description: str
    field_of_action: str
    place: str | None
    display_name: str
    status: Literal["submitted", "accepted", "declined"]
    decision_reason: str = ""
    measure_code: MeasureCode | None = None  # set when accepted
    created_at: datetime
    hidden: bool = False


class DecideIdea(Contract):
    idea_id: uuid.UUID
    decision: Literal["accept", "decline"]
    reason: str = Field(default="", max_length=2000)
    actor: str = Field(min_length=1, max_length=200)

    @model_validator(mode="after")
    def _decline_needs_reason(self) -> DecideIdea:
        if self.decision == "decline" and len(self.reason.strip()) < 5:
            raise ValueError("Eine Ablehnung braucht eine Begründung für die Autorin oder den Autor.")
        return self


class Moderate(Contract):
    """A moderation act of a town admin; every act is recorded with who, when and why."""

    target_type: Literal["comment", "idea"]
    target_id: uuid.UUID
    action: Literal["hide", "restore", "dismiss_flags"]
    reason: str = Field(default="", max_length=1000)
    actor: str = Field(min_length=1, max_length=200)

    @model_validator(mode="after")
    def _hide_needs_reason(self) -> Moderate:
        if self.action == "hide" and len(self.reason.strip()) < 3:
            raise ValueError("Bitte begründen Sie das Ausblenden.")
        return self


class ModerationItem(Contract):
    target_type: Literal["comment", "idea"]
    target_id: uuid.UUID
    measure_code: MeasureCode | None = None
    display_name: str
    text: str
    created_at: datetime
    hidden: bool
    flags: int
    flag_reasons: dict[str, int] = Field(default_factory=dict)


class ModerationQueue(Contract):
    """Flagged content first (most flags), then the newest content not yet reviewed."""

    flagged: tuple[ModerationItem, ...]
    new: tuple[ModerationItem, ...]


class ModerationAct(Contract):
    target_type: Literal["comment", "idea"]
    target_id: uuid.UUID
    action: str
    reason: str
    actor: str
    at: datetime


# --------------------------------------------------------------------------- participation: town results


class TownMeasureResult(Contract):
    code: MeasureCode
    title: str
    field_of_action: str
    tally: Tally
    comments: int


class TownDay(Contract):
    day: str  # ISO date, Europe/Berlin
    citizens: int = 0
    ratings: int = 0
    comments: int = 0
    ideas: int = 0


class TownResults(Contract):
    town: TownSlug
    consultation_id: uuid.UUID
    title: str
    status: ConsultationPhase
    participants: int
    measures: tuple[TownMeasureResult, ...]
    days: tuple[TownDay, ...]
    generated_at: datetime


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
CommentView.model_rebuild()
