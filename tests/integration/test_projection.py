"""The combined results projection on a real database (SQLite and PostgreSQL).

Redelivered, duplicated or reordered rating events never change a figure; a
changed rating moves it.
"""

from __future__ import annotations

import uuid

import pytest

from services.measures.domain.model import MeasureNotFound, TransitionNotAllowed
from services.measures.service_layer.handlers import MeasuresApp
from soesmart.config import Settings
from soesmart.contracts import (
    ChangeMeasureStatus,
    MeasureStatus,
    RatingRecorded,
    Source,
    Support,
)

CODE = "VEP-RAD-02"


@pytest.fixture
def app(settings: Settings) -> MeasuresApp:
    return MeasuresApp(settings)


def rating(rating_id: uuid.UUID, version: int, effectiveness: int | None,
           support: Support | None, town: str = "soest") -> RatingRecorded:
    return RatingRecorded(source=Source(service="participation", town=town), town=town,
                          consultation_id=uuid.UUID(int=1), rating_id=rating_id,
                          measure_code=CODE, effectiveness=effectiveness, support=support,
                          version=version)


def tally(app: MeasuresApp, town: str = "soest") -> dict:
    for m in app.regional_results().measures:
        if m.code == CODE:
            return m.towns[town].model_dump()
    return {}


def test_a_redelivered_event_is_counted_once(app: MeasuresApp) -> None:
    event = rating(uuid.uuid4(), 1, 4, Support.YES)
    assert app.record_rating(event) is True
    assert app.record_rating(event) is False
    assert tally(app)["answers"] == 1


def test_the_same_rating_under_a_new_event_id_is_not_counted_twice(app: MeasuresApp) -> None:
    # An outbox relay that crashed after publishing re-sends the row: same event id.
    # A producer that re-sent the same version under a new id must not count either.
    rid = uuid.uuid4()
    app.record_rating(rating(rid, 1, 4, Support.YES))
    app.record_rating(rating(rid, 1, 4, Support.YES))
    assert tally(app)["answers"] == 1


def test_a_changed_rating_moves_the_tally(app: MeasuresApp) -> None:
    rid = uuid.uuid4()
    app.record_rating(rating(rid, 1, 4, Support.YES))
    app.record_rating(rating(rid, 2, 2, Support.NO))
    t = tally(app)
    assert t["answers"] == 1
    assert t["effectiveness_mean"] == 2.0
    assert t["support"] == {"yes": 0, "rather_yes": 0, "rather_no": 0, "no": 1}


def test_an_older_version_arriving_late_changes_nothing(app: MeasuresApp) -> None:
    rid = uuid.uuid4()
    app.record_rating(rating(rid, 2, 2, Support.NO))
    app.record_rating(rating(rid, 1, 4, Support.YES))
    t = tally(app)
    assert t["answers"] == 1 and t["support"]["no"] == 1 and t["support"]["yes"] == 0


def test_towns_are_counted_apart_and_summed_in_the_total(app: MeasuresApp) -> None:
    app.record_rating(rating(uuid.uuid4(), 1, 5, Support.YES, town="soest"))
    app.record_rating(rating(uuid.uuid4(), 1, 3, Support.RATHER_YES, town="olpe"))
    result = next(m for m in app.regional_results().measures if m.code == CODE)
    assert result.towns["soest"].answers == 1 and result.towns["olpe"].answers == 1
    assert result.total.answers == 2 and result.total.effectiveness_mean == 4.0


def test_a_status_change_is_recorded_in_history_and_outbox(app: MeasuresApp) -> None:
    before = app.relay.pending()
    event = app.change_status(ChangeMeasureStatus(code=CODE, status=MeasureStatus.DECIDED,
                                                  note="Ratsbeschluss", changed_by="Koordination"))
    measure = app.get_measure(CODE)
    assert measure.status == MeasureStatus.DECIDED
    assert [h.status for h in measure.history][-1] == MeasureStatus.DECIDED
    assert measure.history[-1].note == "Ratsbeschluss"
    assert event.revision == measure.revision == 2
    assert app.relay.pending() == before + 1


def test_a_refused_status_change_writes_nothing(app: MeasuresApp) -> None:
    before = app.relay.pending()
    with pytest.raises(TransitionNotAllowed):
        app.change_status(ChangeMeasureStatus(code=CODE, status=MeasureStatus.IMPLEMENTED,
                                              changed_by="Koordination"))
    with pytest.raises(MeasureNotFound):
        app.change_status(ChangeMeasureStatus(code="VEP-NOPE-01", status=MeasureStatus.DECIDED,
                                              changed_by="Koordination"))
    assert app.get_measure(CODE).status == MeasureStatus.IN_CONSULTATION
    assert len(app.get_measure(CODE).history) == 1
    assert app.relay.pending() == before
