"""nameko entrypoints of the measures service: thin, they parse, call a handler, answer."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import ValidationError

from services.measures.domain.model import CatalogueError
from services.measures.service_layer import (
    catalogue,
    catalogue_import,
    measure_story,
    projection,
    regional_results,
    results_exports,
    status,
)
from services.measures.service_layer.handlers import MeasuresApp
from soesmart.contracts import (
    CatalogueQuery,
    ChangeMeasureStatus,
    CitizenConfirmed,
    CommentPosted,
    ConsultationMilestone,
    Event,
    IdeaAccepted,
    IdeaSubmitted,
    ParticipationCounted,
    RatingRecorded,
    RatingsRecorded,
)
from soesmart.messaging.nameko_ext import event_consumer, invalid, ok, refuse, rpc
from soesmart.messaging.topology import MEASURES_QUEUE
from soesmart.runtime import AppProvider


class MeasuresService:
    name = "measures"

    app: MeasuresApp = AppProvider(MeasuresApp)  # type: ignore[assignment]

    @event_consumer(MEASURES_QUEUE)
    def on_event(self, event: Event) -> None:
        if isinstance(event, RatingRecorded):
            projection.record_rating(event, self.app.uow())
        elif isinstance(event, RatingsRecorded):
            projection.record_ratings(event, self.app.uow())
        elif isinstance(event, ParticipationCounted):
            projection.record_participation_counts(event, self.app.uow())
        elif isinstance(event, CitizenConfirmed | CommentPosted | IdeaSubmitted):
            projection.record_participation(event, self.app.uow())
        elif isinstance(event, IdeaAccepted):
            catalogue.accept_idea(event, self.app.uow())
        elif isinstance(event, ConsultationMilestone):
            measure_story.record_milestone(event, self.app.uow())

    @rpc
    def list_measures(self) -> dict[str, Any]:
        return ok([m.model_dump(mode="json") for m in catalogue.list_measures(self.app.uow())])

    @rpc
    def list_catalogue(self, query: dict[str, Any] | None = None) -> dict[str, Any]:
        """One page of the catalogue, filtered (see `CatalogueQuery`): `CataloguePage`."""
        try:
            parsed = CatalogueQuery.model_validate(query or {})
        except ValidationError as exc:
            return invalid(exc)
        return ok(catalogue.list_catalogue(parsed, self.app.uow()).model_dump(mode="json"))

    @rpc
    def get_measure(self, code: str) -> dict[str, Any]:
        try:
            return ok(catalogue.get_measure(code, self.app.uow()).model_dump(mode="json"))
        except CatalogueError as exc:
            return refuse(exc.code, str(exc))

    @rpc
    def import_catalogue(self, content: str, format: str, imported_by: str) -> dict[str, Any]:
        """Import a whole catalogue file (CSV or JSON text); all of it or nothing."""
        try:
            report = catalogue_import.import_catalogue(content, format, imported_by, self.app.uow())
            return ok(report.model_dump(mode="json"))
        except CatalogueError as exc:
            return refuse(exc.code, str(exc), getattr(exc, "details", None))

    @rpc
    def export_catalogue(self, format: str = "json") -> dict[str, Any]:
        if format not in ("csv", "json"):
            return refuse("VALIDATION_FAILED", "Format muss csv oder json sein.",
                          [{"field": "format", "problem": "must be csv or json"}])
        return ok(catalogue.export_catalogue(format, self.app.uow()))

    @rpc
    def change_status(self, command: dict[str, Any]) -> dict[str, Any]:
        try:
            cmd = ChangeMeasureStatus.model_validate(command)
            event = status.change_status(cmd, self.app.uow())
        except ValidationError as exc:
            return invalid(exc)
        except CatalogueError as exc:
            return refuse(exc.code, str(exc))
        return ok(event.model_dump(mode="json"))

    @rpc
    def regional_results(self) -> dict[str, Any]:
        return ok(regional_results.regional_results_wire(self.app.uow(), self.app.cache))

    @rpc
    def regional_results_json(self) -> dict[str, Any]:
        """The same as one JSON text, for callers that pass it on unchanged (the gateway)."""
        return ok(regional_results.regional_results_json(self.app.uow(), self.app.cache))

    @rpc
    def top_measures(self, limit: int = 10, min_answers: int = 1,
                     town: str | None = None) -> dict[str, Any]:
        problems = _bounded(limit=(limit, 1, 500), min_answers=(min_answers, 1, 10**7))
        if problems:
            return problems
        top = regional_results.top_measures(self.app.uow(), self.app.cache, limit, min_answers, town)
        return ok(top.model_dump(mode="json"))

    @rpc
    def compare_towns(self, code: str) -> dict[str, Any]:
        try:
            compared = regional_results.compare_towns(self.app.uow(), self.app.cache, code)
            return ok(compared.model_dump(mode="json"))
        except CatalogueError as exc:
            return refuse(exc.code, str(exc))

    @rpc
    def disagreements(self, limit: int = 10, min_answers: int = 20) -> dict[str, Any]:
        problems = _bounded(limit=(limit, 1, 500), min_answers=(min_answers, 1, 10**7))
        if problems:
            return problems
        found = regional_results.disagreements(self.app.uow(), self.app.cache, limit, min_answers)
        return ok(found.model_dump(mode="json"))

    @rpc
    def participation_per_day(self, since: str | None = None,
                              town: str | None = None) -> dict[str, Any]:
        day = _day(since)
        if isinstance(day, dict):
            return day
        days = regional_results.participation_per_day(self.app.uow(), self.app.cache, day, town)
        return ok(days.model_dump(mode="json"))

    @rpc
    def participation_csv(self, since: str | None = None,
                          town: str | None = None) -> dict[str, Any]:
        day = _day(since)
        if isinstance(day, dict):
            return day
        return ok(results_exports.participation_csv(self.app.uow(), self.app.cache, day, town))

    @rpc
    def results_csv(self) -> dict[str, Any]:
        return ok(results_exports.results_csv(self.app.uow(), self.app.cache))

    @rpc
    def republish_catalogue(self) -> dict[str, Any]:
        return ok(catalogue.republish_catalogue(self.app.uow()))

    @rpc
    def ping(self) -> dict[str, Any]:
        return ok("pong")


def _day(since: str | None) -> date | None | dict[str, Any]:
    """The `since` parameter as a day (None: from the first), or a refusal naming it."""
    try:
        return date.fromisoformat(since) if since else None
    except ValueError:
        return refuse("VALIDATION_FAILED", "Datum bitte als JJJJ-MM-TT.",
                      [{"field": "since", "problem": "not an ISO date"}])


def _bounded(**values: tuple[Any, int, int]) -> dict[str, Any] | None:
    """A refusal naming every query parameter outside its range, or None."""
    details = [
        {"field": name, "problem": f"must be a whole number from {lo} to {hi}"}
        for name, (value, lo, hi) in values.items()
        if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi
    ]
    return refuse("VALIDATION_FAILED", "Die Angaben sind ungültig.", details) if details else None
