"""Paper questionnaires and answers recorded in batches: a town's staff enter returned sheets.

One sheet is one anonymous respondent; its answers are ratings like a citizen's,
marked `channel="paper"`. `RatingsRecorded` carries many ratings in one event (a
CSV import of sheets, the demo's seeding); the regional projection applies each
item as it applies a `RatingRecorded` (highest version per `rating_id`), so the
same batch twice changes nothing. `ParticipationCounted` adds per-day counts of
new citizens, comments and ideas in one event, counted once by its event id.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import ClassVar

from pydantic import Field

from soesmart.contracts.common import Channel, Contract, Event, MeasureCode, Support, TownSlug

SHEET_NUMBER_MAX = 999_999


class PaperAnswer(Contract):
    """One measure's answers on a sheet (at least one of the two, see the town's rules)."""

    measure_code: MeasureCode
    effectiveness: int | None = Field(default=None, ge=1, le=5)
    support: Support | None = None


class EnterPaperSheet(Contract):
    """A returned sheet as staff read it; `correction` changes a sheet entered before
    (with a reason, logged like a moderation act)."""

    consultation_id: uuid.UUID
    sheet_number: int = Field(ge=1, le=SHEET_NUMBER_MAX)
    answers: tuple[PaperAnswer, ...] = Field(max_length=500)
    actor: str = Field(min_length=1, max_length=200)
    correction: bool = False
    reason: str = Field(default="", max_length=1000)


class ImportPaperSheets(Contract):
    """Scanned sheets as CSV text (`Bogen;Code;Wirksamkeit;Unterstützung`, one answer a row)."""

    consultation_id: uuid.UUID
    content: str = Field(max_length=4 * 1024 * 1024)
    actor: str = Field(min_length=1, max_length=200)


class PaperSheetView(Contract):
    consultation_id: uuid.UUID
    sheet_number: int
    answers: tuple[PaperAnswer, ...]
    entered_by: str
    entered_at: datetime
    corrected: bool = False


class PaperImportReport(Contract):
    consultation_id: uuid.UUID
    sheets: int
    answers: int


class RecordedRating(Contract):
    """One rating inside a `RatingsRecorded` batch (the fields of a `RatingRecorded`)."""

    rating_id: uuid.UUID
    version: int = Field(ge=1)
    consultation_id: uuid.UUID
    measure_code: MeasureCode
    effectiveness: int | None = Field(default=None, ge=1, le=5)
    support: Support | None = None
    channel: Channel = "online"
    recorded_at: datetime  # when this version was given: the day it counts on


class RatingsRecorded(Event):
    """Many ratings of one town at once; each item counts like its own `RatingRecorded`."""

    event_type: ClassVar[str] = "RatingsRecorded"
    town: TownSlug
    ratings: tuple[RecordedRating, ...] = Field(min_length=1, max_length=5000)


class DayCounts(Contract):
    day: date
    citizens: int = Field(default=0, ge=0)
    comments: int = Field(default=0, ge=0)
    ideas: int = Field(default=0, ge=0)


class ParticipationCounted(Event):
    """New citizens, comments and ideas of a town per day, given at once (demo seeding)."""

    event_type: ClassVar[str] = "ParticipationCounted"
    town: TownSlug
    days: tuple[DayCounts, ...] = Field(min_length=1, max_length=1000)
