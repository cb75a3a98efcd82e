"""A measure's story on a real database (SQLite and PostgreSQL): the consultations of the towns
that asked about it, from their milestone events, with the answers each received."""

from __future__ import annotations

import uuid

import pytest

from services.measures.service_layer import measure_story
from services.measures.service_layer.handlers import MeasuresApp
from soesmart.config import Settings
from soesmart.contracts import ConsultationMilestone, ExportedRating, RatingRecorded, Support

SOEST, OLPE = {"service": "participation", "town": "soest"}, {"service": "participation", "town": "olpe"}


@pytest.fixture
def app(settings: Settings) -> MeasuresApp:
    return MeasuresApp(settings)  # demo catalogue: VEP-RAD-01 and VEP-RAD-02 are in it


def _milestone(source: dict, cid: uuid.UUID, milestone: str, codes: tuple[str, ...],
               title: str = "Radverkehr 2026") -> ConsultationMilestone:
    return ConsultationMilestone(source=source, town=source["town"], consultation_id=cid,
                                 milestone=milestone, title=title, starts_on="2026-03-02",
                                 ends_on="2026-03-30", measure_codes=codes)


def _rating(source: dict, cid: uuid.UUID, code: str) -> RatingRecorded:
    return RatingRecorded(source=source, town=source["town"], consultation_id=cid,
                          rating_id=uuid.uuid4(), measure_code=code, support=Support.YES, version=1)


def test_the_story_names_each_consultation_that_asked_with_its_answers_and_milestones(
        app: MeasuresApp) -> None:
    soest, olpe = uuid.uuid4(), uuid.uuid4()
    opened = _milestone(SOEST, soest, "opened", ("VEP-RAD-01", "VEP-RAD-02"))
    for event in (opened, opened,  # a redelivered milestone changes nothing
                  _milestone(SOEST, soest, "closed", ("VEP-RAD-01", "VEP-RAD-02")),
                  _milestone(SOEST, soest, "results_published", ("VEP-RAD-01", "VEP-RAD-02")),
                  _milestone(OLPE, olpe, "opened", ("VEP-RAD-02",), "Mobil in Olpe")):
        measure_story.record_milestone(event, app.uow())
    for source, cid, code, n in ((SOEST, soest, "VEP-RAD-01", 3), (SOEST, soest, "VEP-RAD-02", 1),
                                 (OLPE, olpe, "VEP-RAD-02", 2)):
        for _ in range(n):
            app.record_rating(_rating(source, cid, code))

    story = app.get_measure("VEP-RAD-02").asked_in
    assert [(a.town, a.title, a.answers) for a in story] == [
        ("olpe", "Mobil in Olpe", 2), ("soest", "Radverkehr 2026", 1)]
    soest_story = next(a for a in story if a.town == "soest")
    assert soest_story.opened_at and soest_story.closed_at and soest_story.results_published_at
    assert next(a for a in story if a.town == "olpe").results_published_at is None
    assert [a.answers for a in app.get_measure("VEP-RAD-01").asked_in] == [3]


def test_a_rebuild_gives_ratings_projected_before_their_consultation(app: MeasuresApp) -> None:
    cid = uuid.uuid4()
    measure_story.record_milestone(_milestone(SOEST, cid, "opened", ("VEP-RAD-01",)), app.uow())
    event = _rating(SOEST, cid, "VEP-RAD-01")
    app.record_rating(event)
    with app.engine.begin() as conn:  # as if projected before ratings kept their consultation
        conn.exec_driver_sql("UPDATE rating_projection SET consultation_id = NULL")
    assert app.get_measure("VEP-RAD-01").asked_in[0].answers == 0
    app.replay_ratings("soest", [ExportedRating(
        rating_id=event.rating_id, consultation_id=cid, measure_code="VEP-RAD-01",
        effectiveness=None, support=Support.YES, version=1, created_at=event.occurred_at)])
    assert app.get_measure("VEP-RAD-01").asked_in[0].answers == 1
