"""The measures service wired to its database, outbox and results cache.

The use cases live in one module each (catalogue, catalogue_import, status,
projection, regional_results, results_exports); each takes its command and a
unit of work. `MeasuresApp` opens them for callers in this process (the command
line, tests, benchmarks); the nameko entrypoints call the use cases directly.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from services.measures.adapters import tables as t
from services.measures.adapters.unit_of_work import UnitOfWork
from services.measures.service_layer import (
    catalogue,
    catalogue_import,
    demo_catalogue,
    projection,
    regional_results,
    results_exports,
    status,
)
from services.measures.service_layer.results_cache import ResultsCache
from soesmart.config import Settings
from soesmart.contracts import (
    CataloguePage,
    CatalogueQuery,
    ChangeMeasureStatus,
    CitizenConfirmed,
    CommentPosted,
    Disagreements,
    ExportedRating,
    IdeaAccepted,
    IdeaSubmitted,
    ImportReport,
    MeasureDetail,
    MeasurePublished,
    MeasureStatusChanged,
    MeasureSummary,
    ParticipationPerDay,
    RatingRecorded,
    RegionalResults,
    TopMeasures,
    TownComparison,
)
from soesmart.messaging.outbox import OutboxRelay
from soesmart.storage import make_engine, migrate

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


class MeasuresApp:
    """The measures service, wired to its database and outbox."""

    def __init__(self, settings: Settings, engine: Engine | None = None) -> None:
        self.settings = settings
        self.engine = engine or make_engine(settings.database_url_for("measures"),
                                            **settings.engine_options())
        migrate(self.engine, MIGRATIONS)
        self.relay = OutboxRelay(
            self.engine, t.outbox, settings.broker_url, batch_size=settings.outbox_batch
        )
        self.cache = ResultsCache()
        if settings.demo:
            self.load_demo_catalogue()

    def uow(self) -> UnitOfWork:
        """A fresh unit of work on this service's database and outbox."""
        return UnitOfWork(self.engine, self.relay, self.cache.changed)

    def _changed(self) -> None:
        """Forget the cached results (as after a rating)."""
        self.cache.changed()

    # ------------------------------------------------------------------ lifecycle
    def background_loops(self) -> list:
        return [self.relay.run]

    def stop(self) -> None:
        self.relay.stop()

    # ------------------------------------------------------------------ catalogue
    def load_demo_catalogue(self) -> int:
        return demo_catalogue.load_demo_catalogue(self.uow())

    def import_catalogue(self, content: str, fmt: str, imported_by: str) -> ImportReport:
        return catalogue_import.import_catalogue(content, fmt, imported_by, self.uow())

    def accept_idea(self, event: IdeaAccepted) -> MeasurePublished | None:
        return catalogue.accept_idea(event, self.uow())

    def export_catalogue(self, fmt: str) -> str:
        return catalogue.export_catalogue(fmt, self.uow())

    def republish_catalogue(self) -> int:
        return catalogue.republish_catalogue(self.uow())

    def list_catalogue(self, query: CatalogueQuery) -> CataloguePage:
        return catalogue.list_catalogue(query, self.uow())

    def list_measures(self) -> list[MeasureSummary]:
        return catalogue.list_measures(self.uow())

    def get_measure(self, code: str) -> MeasureDetail:
        return catalogue.get_measure(code, self.uow())

    def change_status(self, cmd: ChangeMeasureStatus) -> MeasureStatusChanged:
        return status.change_status(cmd, self.uow())

    # ------------------------------------------------------------------ projection
    def record_rating(self, event: RatingRecorded) -> bool:
        return projection.record_rating(event, self.uow())

    def record_participation(self, event: CitizenConfirmed | CommentPosted | IdeaSubmitted) -> bool:
        return projection.record_participation(event, self.uow())

    def reset_projection(self, town: str | None = None) -> None:
        projection.reset_projection(town, self.uow())

    def replay_ratings(self, town: str, ratings: Iterable[ExportedRating]) -> int:
        return projection.replay_ratings(town, ratings, self.uow())

    # ------------------------------------------------------------------ results
    def regional_results(self) -> RegionalResults:
        return regional_results.regional_results(self.uow(), self.cache)

    def regional_results_wire(self) -> dict[str, Any]:
        return regional_results.regional_results_wire(self.uow(), self.cache)

    def regional_results_json(self) -> str:
        return regional_results.regional_results_json(self.uow(), self.cache)

    def top_measures(self, limit: int = 10, min_answers: int = 1,
                     town: str | None = None) -> TopMeasures:
        return regional_results.top_measures(self.uow(), self.cache, limit, min_answers, town)

    def compare_towns(self, code: str) -> TownComparison:
        return regional_results.compare_towns(self.uow(), self.cache, code)

    def disagreements(self, limit: int = 10, min_answers: int = 20) -> Disagreements:
        return regional_results.disagreements(self.uow(), self.cache, limit, min_answers)

    def participation_per_day(self, since: date | None = None,
                              town: str | None = None) -> ParticipationPerDay:
        return regional_results.participation_per_day(self.uow(), self.cache, since, town)

    def participation_csv(self, since: date | None = None, town: str | None = None) -> str:
        return results_exports.participation_csv(self.uow(), self.cache, since, town)

    def results_csv(self) -> str:
        return results_exports.results_csv(self.uow(), self.cache)
