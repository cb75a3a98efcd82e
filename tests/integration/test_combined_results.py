"""Combined results of all towns on a real database (SQLite and PostgreSQL).

Participation per day counts a rating once, on the day of its first version, in
whatever order its events arrive; the coordinator queries read the counters; a
lost projection is rebuilt from the towns' own ratings to the same figures.
"""

from __future__ import annotations

import json
import random
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from services.measures.service_layer.handlers import MeasuresApp
from services.participation.adapters import tables as pt
from services.participation.service_layer.handlers import ParticipationApp
from soesmart.config import Settings
from soesmart.contracts import (
    RateMeasure,
    RatingRecorded,
    Source,
    Support,
    parse_event,
)
from tests.support.citizens import confirmed_citizen

DAY_1 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DAY_2 = DAY_1 + timedelta(days=1)


@pytest.fixture
def app(settings: Settings) -> MeasuresApp:
    return MeasuresApp(settings)


def rating(code: str, town: str, support: Support | None, effectiveness: int | None = 3, *,
           rating_id: uuid.UUID | None = None, version: int = 1,
           at: datetime = DAY_1) -> RatingRecorded:
    return RatingRecorded(source=Source(service="participation", town=town), town=town,
                          consultation_id=uuid.UUID(int=1), rating_id=rating_id or uuid.uuid4(),
                          measure_code=code, effectiveness=effectiveness, support=support,
                          version=version, occurred_at=at)


def per_day(app: MeasuresApp) -> dict[tuple[str, str], int]:
    return {(d.day, d.town): d.ratings for d in app.participation_per_day().days}


def test_a_rating_counts_once_per_day_on_the_day_of_its_first_version(app: MeasuresApp) -> None:
    rid = uuid.uuid4()
    app.record_rating(rating("VEP-RAD-01", "soest", Support.YES, rating_id=rid, at=DAY_1))
    app.record_rating(rating("VEP-RAD-01", "soest", Support.NO, rating_id=rid, version=2, at=DAY_2))
    app.record_rating(rating("VEP-RAD-02", "olpe", Support.NO, at=DAY_2))
    assert per_day(app) == {("2026-03-02", "soest"): 1, ("2026-03-03", "olpe"): 1}


def test_a_first_version_arriving_after_the_second_moves_the_count_to_its_day(
    app: MeasuresApp,
) -> None:
    rid = uuid.uuid4()
    second = rating("VEP-RAD-01", "soest", Support.NO, rating_id=rid, version=2, at=DAY_2)
    first = rating("VEP-RAD-01", "soest", Support.YES, rating_id=rid, version=1, at=DAY_1)
    app.record_rating(second)
    app.record_rating(first)
    app.record_rating(first)  # and once more, redelivered
    assert per_day(app) == {("2026-03-02", "soest"): 1}
    tally = app.compare_towns("VEP-RAD-01").region
    assert tally.answers == 1 and tally.support_share == 0.0  # the answer is version 2's


def test_coordinators_see_top_measures_town_against_town_and_disagreement(
    app: MeasuresApp,
) -> None:
    # Given Soest all for VEP-RAD-03, Olpe all against it, and everyone for VEP-RAD-04
    for _ in range(3):
        app.record_rating(rating("VEP-RAD-03", "soest", Support.YES, 5))
        app.record_rating(rating("VEP-RAD-03", "olpe", Support.NO, 1))
        app.record_rating(rating("VEP-RAD-04", "soest", Support.RATHER_YES, 4))
        app.record_rating(rating("VEP-RAD-04", "olpe", Support.YES, 4))
    app.record_rating(rating("VEP-RAD-05", "menden", Support.YES))  # too few answers to count

    top = app.top_measures(limit=5, min_answers=3)
    assert [m.code for m in top.measures] == ["VEP-RAD-04", "VEP-RAD-03"]
    assert top.measures[0].region.support_share == 1.0
    assert [m.code for m in app.top_measures(town="olpe", min_answers=3).measures][0] == "VEP-RAD-04"

    compared = app.compare_towns("VEP-RAD-03")
    by_town = {f.town: f for f in compared.towns}
    assert by_town["soest"].support_share == 1.0 and by_town["olpe"].support_share == 0.0
    assert by_town["arnsberg"].answers == 0 and by_town["arnsberg"].support_share is None
    assert compared.region.answers == 6 and compared.region.effectiveness_mean == 3.0

    disagreements = app.disagreements(min_answers=3)
    assert [d.code for d in disagreements.measures] == ["VEP-RAD-03", "VEP-RAD-04"]
    assert disagreements.measures[0].support_spread == 1.0
    assert disagreements.measures[0].effectiveness_spread == 4.0
    assert disagreements.measures[1].support_spread == 0.0


def test_the_results_export_is_a_csv_for_german_spreadsheets(app: MeasuresApp) -> None:
    app.record_rating(rating("VEP-RAD-01", "soest", Support.YES, 4))
    app.record_rating(rating("VEP-RAD-01", "soest", Support.NO, 3))
    app.record_rating(rating("VEP-RAD-01", "bad-berleburg", Support.RATHER_NO, 5))
    text = app.results_csv()
    assert text.startswith("\ufeffCode;Maßnahme;Stadt;Antworten;")
    lines = text.removeprefix("\ufeff").split("\r\n")
    region = lines[1].split(";")
    assert region[:4] == ["VEP-RAD-01", "Velorouten West, Südwest und Nordwest", "Region (gesamt)", "3"]
    assert region[4] == "4" and region[-2] == "33,3"  # decimal comma
    assert region[-1] == "0"  # none of them on paper
    assert [line.split(";")[2] for line in lines[2:4]] == ["Bad Berleburg", "Soest"]


def test_a_lost_projection_is_rebuilt_from_the_towns_own_ratings_to_the_same_figures(
    app: MeasuresApp, settings: Settings, tmp_path: Path,
) -> None:
    # Given a town whose citizens rated, one of them twice
    town_settings = settings.model_copy(
        update={"database_url": f"sqlite:///{tmp_path / 'soest.db'}", "town": "soest"})
    soest = ParticipationApp(town_settings)
    codes = ["VEP-RAD-01", "VEP-RAD-02", "VEP-FUSS-01"]
    people = [confirmed_citizen(soest) for _ in range(7)]
    for i, person in enumerate(people):
        for code in codes[: 1 + i % 3]:
            soest.rate(RateMeasure(measure_code=code, participant_id=person,
                                   effectiveness=1 + i % 5, support=list(Support)[i % 4]))
    soest.rate(RateMeasure(measure_code="VEP-RAD-01", participant_id=people[0],
                           effectiveness=5, support=Support.NO))
    # ... and the projection got their events duplicated and out of order
    with soest.engine.connect() as conn:
        payloads = conn.execute(select(pt.outbox.c.payload)
                                .where(pt.outbox.c.event_type == "RatingRecorded")).scalars().all()
    events = [parse_event(json.loads(p)) for p in payloads]
    mixed = events + events[:5]
    random.Random(4).shuffle(mixed)
    for event in mixed:
        assert isinstance(event, RatingRecorded)
        app.record_rating(event)
    before = app.regional_results().model_dump(exclude={"generated_at"})
    days_before = app.participation_per_day()
    assert sum(m["total"]["answers"] for m in before["measures"]) == 13

    # When the projection is lost and rebuilt page by page from the town's export
    app.reset_projection()
    assert app.regional_results().measures == ()
    after_id = None
    while True:
        page = soest.export_ratings(after_id, limit=4)
        app.replay_ratings(page.town, page.items)
        if page.next_after is None:
            break
        after_id = page.next_after

    # Then every figure is what it was, and replaying once more changes nothing
    assert app.regional_results().model_dump(exclude={"generated_at"}) == before
    assert app.participation_per_day() == days_before
    assert app.replay_ratings("soest", soest.export_ratings(None, 1000).items) == 0
    assert app.regional_results().model_dump(exclude={"generated_at"}) == before
