"""A town instance for tests: a movable clock, a replica with a few measures, counting helpers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Table, func, select, update

from services.participation.service_layer.handlers import ParticipationApp
from soesmart.config import Settings
from soesmart.contracts import (
    ChangeConsultationPhase,
    ConsultationView,
    CreateConsultation,
    MeasurePublished,
    Source,
)


@dataclass
class Clock:
    """The instance's clock, moved by the test."""

    now: datetime = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday, 10:00 in Soest

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


# code, title, programme, field of action, towns
MEASURES = (
    ("VEP-RAD-01", "Velorouten West", "vep_klima_plus", "cycling", ("soest",)),
    ("VEP-RAD-02", "Radweg auf der ehemaligen Bahntrasse", "vep_klima_plus", "cycling", ()),
    ("VEP-RAD-09", "Radstation Arnsberg", "vep_klima_plus", "cycling", ("arnsberg",)),
    ("VEP-FUSS-01", "Sichere Schulwege", "vep_klima_plus", "walking", ()),
    ("MPK-EN-01", "Solardächer auf Schulen", "masterplan_klimapakt", "energy_supply", ()),
)


def fill_replica(app: ParticipationApp) -> None:
    src = Source(service="measures")
    for code, title, programme, field, towns in MEASURES:
        app.apply_measure_event(MeasurePublished(
            source=src, code=code, title=title, summary=f"Kurz: {title}", programme=programme,
            field_of_action=field, status="in_consultation", towns=towns, revision=1))


def town_app(settings: Settings, clock: Clock, demo: bool = False, **overrides: Any) -> ParticipationApp:
    app = ParticipationApp(settings.model_copy(update={"demo": demo, **overrides}), clock=clock)
    fill_replica(app)
    return app


def count(app: ParticipationApp, table: Table, *where: Any) -> int:
    with app.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one())


def all_rows(app: ParticipationApp) -> dict[str, int]:
    """How many rows each table holds: a refused command changes none of them."""
    from services.participation.adapters import tables as t

    return {name: count(app, table) for name, table in t.metadata.tables.items()}


def open_consultation(app: ParticipationApp, codes: tuple[str, ...], days: int = 28,
                      title: str = "Radverkehr in Soest") -> ConsultationView:
    """A consultation about `codes`, opened today (by the app's clock), its events marked sent."""
    from services.participation.adapters import tables as t

    today = app.clock().date()
    draft = app.create_consultation(CreateConsultation(
        title=title, description="Ihre Meinung zählt.", starts_on=today,
        ends_on=today + timedelta(days=days), measure_codes=codes, actor="Admin Soest"))
    opened = app.change_consultation_phase(ChangeConsultationPhase(
        consultation_id=draft.id, phase="open", actor="Admin Soest"))
    with app.engine.begin() as conn:  # what the tests count comes after this
        conn.execute(update(t.outbox).values(published_at=app.clock()))
    return opened
