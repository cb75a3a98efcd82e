"""RPC commands and answers of a town's `participation` instance."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import EmailStr, Field, field_validator, model_validator

from soesmart.contracts.common import (
    CLIMATE_FIELDS,
    MOBILITY_FIELDS,
    Channel,
    Contract,
    Language,
    MeasureCode,
    Programme,
    Support,
    Tally,
    TownSlug,
)
from soesmart.contracts.measures import ConsultationMeasure


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


class ConsultationView(Contract):
    id: uuid.UUID
    town: TownSlug
    title: str
    description: str
    status: Literal["draft", "open", "closed", "results_published"]
    starts_on: str
    ends_on: str
    measures: tuple[ConsultationMeasure, ...]


class ExportedRating(Contract):
    """A town's stored rating, as `export_ratings` pages it out for a rebuild."""

    rating_id: uuid.UUID
    consultation_id: uuid.UUID
    measure_code: MeasureCode
    effectiveness: int | None
    support: Support | None
    version: int = Field(ge=1)
    created_at: datetime
    channel: Channel = "online"


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


class VerifiedSignIn(Contract):
    """Command: sign in with an identity an OpenID provider verified (ServiceKonto style).

    The gateway checked the provider's ID token and placed the person in this town by
    the verified postcode or municipality. Only a keyed hash of the provider's subject
    arrives here; the same person is recognised by it. An email the provider vouches for
    (`email_verified`) confirms the address without a link.
    """

    subject_hash: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    email: EmailStr
    email_verified: bool = False
    postcode: Postcode | None = None
    trust_level: Annotated[str, Field(min_length=1, max_length=60)] | None = None
    language: Language = "de"


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
    target_type: Literal["comment", "idea", "paper_sheet"]  # a paper sheet: entered or corrected
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
    verified_answers: int = 0  # answers from citizens whose identity a provider verified


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
    # answers of the consultation by the trust level the provider stated (e.g. its acr)
    answers_by_trust: dict[str, int] = Field(default_factory=dict)


CommentView.model_rebuild()
