"""A town's participation instance on a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import func, select, update

from services.participation.adapters import tables as t
from services.participation.domain.model import (
    ConsultationNotOpen,
    EmptyAnswer,
    MeasureNotInConsultation,
)
from services.participation.service_layer.handlers import ParticipationApp
from soesmart.config import Settings
from soesmart.contracts import MeasurePublished, MeasureStatusChanged, RateMeasure, Source, Support
from tests.support.citizens import confirmed_citizen

CODE = "VEP-RAD-02"


@pytest.fixture
def app(settings: Settings) -> ParticipationApp:
    return ParticipationApp(settings)


def count(app: ParticipationApp, table) -> int:  # type: ignore[no-untyped-def]
    with app.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def outbox_payloads(app: ParticipationApp) -> list[dict]:
    with app.engine.connect() as conn:
        return [json.loads(p) for p in conn.execute(
            select(t.outbox.c.payload).where(t.outbox.c.event_type == "RatingRecorded")).scalars()]


@pytest.fixture
def citizen(app: ParticipationApp) -> uuid.UUID:
    return confirmed_citizen(app)


def test_a_rating_and_its_event_are_written_together(app: ParticipationApp, citizen: uuid.UUID) -> None:
    accepted = app.rate(RateMeasure(measure_code=CODE, participant_id=citizen,
                                    effectiveness=4, support=Support.YES))
    assert accepted.version == 1 and accepted.changed
    [event] = outbox_payloads(app)
    assert event["type"] == "RatingRecorded"
    assert event["rating_id"] == str(accepted.rating_id)
    assert event["source"] == {"service": "participation", "town": "soest"}


def test_changing_a_rating_keeps_one_answer_and_raises_its_version(app: ParticipationApp,
                                                                   citizen: uuid.UUID) -> None:
    pid = citizen
    first = app.rate(RateMeasure(measure_code=CODE, participant_id=pid, effectiveness=4))
    second = app.rate(RateMeasure(measure_code=CODE, participant_id=pid, effectiveness=2))
    assert second.rating_id == first.rating_id and second.version == 2
    assert count(app, t.ratings) == 1
    assert [e["version"] for e in outbox_payloads(app)] == [1, 2]


def test_sending_the_same_answer_again_publishes_nothing_new(app: ParticipationApp,
                                                             citizen: uuid.UUID) -> None:
    cmd = RateMeasure(measure_code=CODE, participant_id=citizen, support=Support.NO)
    app.rate(cmd)
    again = app.rate(cmd)
    assert again.changed is False
    assert len(outbox_payloads(app)) == 1


@pytest.mark.parametrize(
    ("code", "effectiveness", "error"),
    [
        ("VEP-NOPE-01", 3, MeasureNotInConsultation),
        (CODE, None, EmptyAnswer),
    ],
)
def test_a_refused_rating_writes_nothing(app: ParticipationApp, citizen: uuid.UUID, code: str,
                                         effectiveness: int | None, error: type[Exception]) -> None:
    before = count(app, t.outbox)
    with pytest.raises(error):
        app.rate(RateMeasure(measure_code=code, participant_id=citizen, effectiveness=effectiveness))
    assert count(app, t.ratings) == 0 and count(app, t.outbox) == before


def test_a_closed_consultation_takes_no_ratings(app: ParticipationApp, citizen: uuid.UUID) -> None:
    with app.engine.begin() as conn:
        conn.execute(update(t.consultations).values(status="closed"))
    app._forget_consultations()
    before = count(app, t.outbox)
    cid = app.engine.connect().execute(select(t.consultations.c.id)).scalar_one()
    with pytest.raises(ConsultationNotOpen):
        app.rate(RateMeasure(measure_code=CODE, participant_id=citizen, effectiveness=3),
                 consultation_id=cid)
    with pytest.raises(ConsultationNotOpen):  # without naming the consultation too
        app.rate(RateMeasure(measure_code=CODE, participant_id=citizen, effectiveness=3))
    assert count(app, t.ratings) == 0 and count(app, t.outbox) == before


def test_the_local_replica_keeps_the_newest_revision(app: ParticipationApp) -> None:
    src = Source(service="measures")
    published = MeasurePublished(source=src, code=CODE, title="Radweg", summary="s",
                                 programme="vep_klima_plus", field_of_action="cycling",
                                 status="in_consultation", revision=1)
    changed = MeasureStatusChanged(source=src, code=CODE, title="Radweg",
                                   old_status="in_consultation", new_status="decided",
                                   changed_by="K", revision=2)
    assert app.apply_measure_event(published)
    assert app.apply_measure_event(changed)
    assert not app.apply_measure_event(published)  # redelivered, older
    [view] = app.open_consultations()
    assert [m.status for m in view.measures if m.code == CODE] == ["decided"]


def test_the_town_page_works_from_the_replica_alone(app: ParticipationApp) -> None:
    # No regional service is involved in reading or rating: only local tables.
    src = Source(service="measures")
    app.apply_measure_event(MeasurePublished(source=src, code=CODE, title="Radweg", summary="s",
                                             programme="vep_klima_plus",
                                             field_of_action="cycling",
                                             status="in_consultation", revision=1))
    [view] = app.open_consultations()
    assert [m.code for m in view.measures] == [CODE]
