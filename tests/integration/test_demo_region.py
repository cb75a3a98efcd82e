"""The lived-in demo of a town (SQLite): seeded once, marked as demo, and what the region
makes of its events is exactly what the town holds."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import func, select

from services.measures.service_layer import measure_story, projection
from services.measures.service_layer.handlers import MeasuresApp
from services.participation.adapters import tables as t
from services.participation.service_layer import demo_region
from services.participation.service_layer.handlers import ParticipationApp
from soesmart.config import Settings
from soesmart.contracts import ConsultationMilestone, ParticipationCounted, RatingsRecorded, parse_event
from soesmart.demo import DEMO_MEASURES
from tests.support.participation import Clock


def test_a_town_seeds_its_demo_once_and_the_region_counts_exactly_what_it_holds(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, town="olpe", demo=True, demo_region=True, broker_url="amqp://127.0.0.1:1//",
                        database_url=f"sqlite:///{tmp_path / 'olpe.db'}")
    town = ParticipationApp(settings, clock=Clock())
    held = demo_region.count_demo(town.uow())
    assert held["citizens"] > 60 and held["ratings"] > 500 and held["paper_sheets"] > 0
    # A second start finds the demo and adds nothing
    again = ParticipationApp(settings, clock=Clock())
    assert demo_region.count_demo(again.uow()) == held
    with town.engine.connect() as conn:
        payloads = [json.loads(p) for p in conn.execute(select(t.outbox.c.payload)).scalars()]
        consultations = dict(conn.execute(select(t.consultations.c.status, func.count())
                                          .group_by(t.consultations.c.status)).all())
        demo_marked = conn.execute(select(func.count()).select_from(t.citizens)
                                   .where(t.citizens.c.demo.is_(False))).scalar_one()
    assert consultations == {"open": 1, "results_published": 1} and demo_marked == 0
    region = MeasuresApp(settings.model_copy(update={
        "demo": False, "town": None, "database_url": f"sqlite:///{tmp_path / 'measures.db'}"}))
    for _ in range(2):  # delivered twice: counted once
        for payload in payloads:
            event = parse_event(payload)
            if isinstance(event, RatingsRecorded):
                projection.record_ratings(event, region.uow())
            elif isinstance(event, ParticipationCounted):
                projection.record_participation_counts(event, region.uow())
            elif isinstance(event, ConsultationMilestone):
                measure_story.record_milestone(event, region.uow())
    figures = [m.towns["olpe"] for m in region.regional_results().measures]
    assert sum(f.answers for f in figures) == held["ratings"]
    assert sum(f.paper_answers for f in figures) > 0
    days = region.participation_per_day(town="olpe").days
    assert sum(d.ratings for d in days) == held["ratings"]
    assert sum(d.citizens for d in days) == held["citizens"] - 3  # the three older demo citizens stay local
    # A region-wide featured measure was asked in both demo consultations: its story has two
    again = [m.code for m in DEMO_MEASURES if not m.towns][1]
    with region.uow() as uow:
        asked = measure_story.asked_in(again, uow)
    assert len(asked) == 2 and sum(1 for a in asked if a.results_published_at) == 1
