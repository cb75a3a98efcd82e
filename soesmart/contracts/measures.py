"""Contracts the regional `measures` service publishes: catalogue events, measure views,
catalogue import/export, combined results and the coordinators' queries."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, ClassVar

from pydantic import Field, ValidationInfo, field_validator

from soesmart.contracts.common import (
    CLIMATE_FIELDS,
    FIELDS_OF_ACTION,
    MOBILITY_FIELDS,
    Contract,
    CostClass,
    Event,
    MeasureCode,
    MeasureStatus,
    Programme,
    Tally,
    TownSlug,
)
from soesmart.geo import parse_geometry

# A GeoJSON geometry (RFC 7946, WGS84): {"type": "Point" | "LineString" | "Polygon" | Multi…,
# "coordinates": [...]}. Checked where it enters (`CatalogueEntry`); carried as it is.
Geometry = dict[str, Any]


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
    geometry: Geometry | None = None


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


# --------------------------------------------------------------------------- RPC payloads


class MeasureSummary(Contract):
    code: MeasureCode
    title: str
    summary: str
    programme: Programme
    field_of_action: str
    status: MeasureStatus


class MeasureDetail(MeasureSummary):
    towns: tuple[TownSlug, ...]
    revision: int
    history: tuple[StatusEntry, ...] = ()
    description: str = ""
    co2_saving_t_per_year: float | None = None
    cost_class: CostClass | None = None
    responsible_body: str = ""
    place: str | None = None
    geometry: Geometry | None = None
    asked_in: tuple[ConsultationAsked, ...] = ()


class ConsultationAsked(Contract):
    """A town's consultation that asked about a measure, as its milestone events told it."""

    town: TownSlug
    consultation_id: uuid.UUID
    title: str
    starts_on: date
    ends_on: date
    opened_at: datetime | None = None
    closed_at: datetime | None = None
    results_published_at: datetime | None = None
    answers: int = Field(default=0, description="ratings of this measure in that consultation")


class ConsultationMeasure(MeasureSummary):
    """A measure as a town's consultation shows it: with its place for the town's map."""

    geometry: Geometry | None = None


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
    geometry: Geometry | None = Field(
        default=None, description="GeoJSON geometry (RFC 7946, WGS84); in CSV as GeoJSON text")

    @field_validator("geometry", mode="before")
    @classmethod
    def _valid_geojson(cls, value: Any) -> Any:
        return parse_geometry(value)  # GeometryError is a ValueError: a field error

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


# --------------------------------------------------------------------------- catalogue listing


class CatalogueQuery(Contract):
    """Which measures `list_catalogue` returns, and which page of them (in code order).

    A filter left out (None or an empty text) matches every measure. `town` keeps the
    measures named for that town and the region-wide ones (no town named); `q` is
    looked for in the code and the title, regardless of case.
    """

    programme: Programme | None = None
    field_of_action: str | None = Field(default=None, max_length=60)
    status: MeasureStatus | None = None
    town: TownSlug | None = None
    q: str | None = Field(default=None, max_length=200)
    limit: int = Field(default=50, ge=1, le=500)
    offset: int = Field(default=0, ge=0)

    @field_validator("programme", "field_of_action", "status", "town", "q", mode="before")
    @classmethod
    def _blank_is_no_filter(cls, value: object) -> object:
        if isinstance(value, str):
            return value.strip() or None
        return value


class CatalogueItem(MeasureSummary):
    """A measure as the catalogue lists it."""

    towns: tuple[TownSlug, ...] = ()
    revision: int


class CataloguePage(Contract):
    """One page of `list_catalogue`; `total` counts the matching measures on all pages."""

    items: tuple[CatalogueItem, ...]
    total: int
    limit: int
    offset: int


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
    paper_answers: int = 0  # of `answers`, those from paper questionnaires


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


MeasureDetail.model_rebuild()
