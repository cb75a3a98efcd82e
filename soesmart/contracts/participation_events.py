"""Events a town's `participation` instance publishes.

Facts of one town's participation instance. Events that make the notifications
service write to one person (links, replies, ideas) carry that person's address
and language, so the mail needs no call back into the town's instance.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import ClassVar, Literal

from pydantic import EmailStr, Field

from soesmart.contracts.common import Channel, Event, Language, MeasureCode, Support, TownSlug


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
    # "paper": entered by staff from a returned questionnaire; events from before the
    # field existed were all online, hence the default.
    channel: Channel = "online"


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

    The notifications service erases the address: subscriptions (also those the person
    made on their own), consents and delivery log by keyed hash, waiting news and
    pending mails.
    """

    event_type: ClassVar[str] = "CitizenErased"
    town: TownSlug
    # None: the gateway had the notifications service erase the address before
    # (so the town's outbox keeps no copy of it); else the service erases it now.
    email: EmailStr | None = None


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
