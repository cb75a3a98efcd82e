"""Consultations of a town: drafts, measures picked from the replica, phases and their
milestone events, the calendar loop, and the town's results as JSON and CSV."""

from __future__ import annotations

import threading
import uuid
from datetime import date, timedelta

import pytest
from pydantic import ValidationError

from services.participation.adapters import tables as t
from services.participation.domain.model import (
    ConsultationLocked,
    ConsultationNotOpen,
    ConsultationWithoutMeasures,
    MeasureAlreadyAsked,
    MeasureUnknown,
    PhaseChangeNotAllowed,
)
from services.participation.service_layer.handlers import ParticipationApp
from soesmart.config import Settings
from soesmart.contracts import (
    ChangeConsultationPhase,
    CreateConsultation,
    PostComment,
    ProposeIdea,
    RateMeasure,
    Support,
    UpdateConsultation,
)
from tests.support.citizens import confirmed_citizen, outbox_events
from tests.support.infra import eventually
from tests.support.participation import Clock, all_rows, count, open_consultation, town_app

TODAY = date(2026, 3, 2)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def app(settings: Settings, clock: Clock) -> ParticipationApp:
    return town_app(settings, clock)


def draft(app: ParticipationApp, **kw: object) -> uuid.UUID:
    values: dict = dict(title="Radverkehr 2026", starts_on=TODAY, ends_on=TODAY + timedelta(days=20),
                        measure_codes=("VEP-RAD-02",), actor="Admin Soest")
    values.update(kw)
    return app.create_consultation(CreateConsultation(**values)).id


def phase(app: ParticipationApp, cid: uuid.UUID, to: str) -> str:
    return app.change_consultation_phase(
        ChangeConsultationPhase(consultation_id=cid, phase=to, actor="Admin Soest")).status  # type: ignore[arg-type]


def milestones(app: ParticipationApp) -> list[str]:
    return [e["milestone"] for e in outbox_events(app, "ConsultationMilestone")]


# --------------------------------------------------------------------------- drafts and measures
def test_a_draft_picks_its_measures_by_programme_field_and_code_from_the_towns_replica(
    app: ParticipationApp,
) -> None:
    cid = draft(app, programmes=("masterplan_klimapakt",), fields_of_action=("cycling",),
                measure_codes=("VEP-RAD-09",))
    view = app.consultation(cid)
    assert view.status == "draft"
    # cycling for Soest and the region, the whole Masterplan, and Arnsberg's station by name
    assert [m.code for m in view.measures] == ["VEP-RAD-09", "MPK-EN-01", "VEP-RAD-01", "VEP-RAD-02"]
    assert [c.id for c in app.list_consultations()] == []
    assert [c.id for c in app.list_consultations(include_drafts=True)] == [cid]
    assert milestones(app) == []


def test_a_measure_not_in_the_replica_is_refused_naming_the_code(app: ParticipationApp) -> None:
    before = all_rows(app)
    with pytest.raises(MeasureUnknown) as refused:
        draft(app, measure_codes=("VEP-RAD-02", "VEP-XYZ-77"))
    assert refused.value.details == [
        {"field": "measure_codes", "problem": "not in the catalogue", "code": "VEP-XYZ-77"}]
    assert all_rows(app) == before


def test_an_empty_draft_is_allowed_but_cannot_open(app: ParticipationApp) -> None:
    cid = draft(app, measure_codes=())
    with pytest.raises(ConsultationWithoutMeasures):
        phase(app, cid, "open")
    assert app.consultation(cid).status == "draft" and milestones(app) == []


def test_dates_in_the_wrong_order_are_a_field_error() -> None:
    with pytest.raises(ValidationError):
        CreateConsultation(title="Radverkehr", starts_on=TODAY, ends_on=TODAY - timedelta(days=1),
                           actor="A")


def test_texts_and_dates_change_while_open_but_the_measures_only_in_draft(app: ParticipationApp) -> None:
    cid = draft(app)
    changed = app.update_consultation(UpdateConsultation(
        consultation_id=cid, measure_codes=("VEP-FUSS-01", "VEP-RAD-02"), actor="A"))
    assert [m.code for m in changed.measures] == ["VEP-FUSS-01", "VEP-RAD-02"]
    phase(app, cid, "open")
    retitled = app.update_consultation(UpdateConsultation(
        consultation_id=cid, title="Radverkehr und Fußwege", ends_on=TODAY + timedelta(days=30),
        actor="A"))
    assert (retitled.title, retitled.ends_on) == ("Radverkehr und Fußwege", "2026-04-01")
    with pytest.raises(ConsultationLocked):
        app.update_consultation(UpdateConsultation(consultation_id=cid, measure_codes=("VEP-RAD-01",),
                                                   actor="A"))
    phase(app, cid, "closed")
    with pytest.raises(ConsultationLocked):
        app.update_consultation(UpdateConsultation(consultation_id=cid, title="Noch einmal", actor="A"))


# --------------------------------------------------------------------------- phases
def test_phases_go_forward_only_and_each_step_is_a_milestone_event(app: ParticipationApp) -> None:
    cid = draft(app)
    for wrong in ("closed", "results_published"):
        with pytest.raises(PhaseChangeNotAllowed):
            phase(app, cid, wrong)
    assert phase(app, cid, "open") == "open"
    with pytest.raises(PhaseChangeNotAllowed):
        phase(app, cid, "open")
    assert phase(app, cid, "closed") == "closed"
    assert phase(app, cid, "results_published") == "results_published"
    for wrong in ("open", "closed", "results_published"):
        with pytest.raises(PhaseChangeNotAllowed) as refused:
            phase(app, cid, wrong)
        assert refused.value.details[0]["field"] == "phase"
    events = outbox_events(app, "ConsultationMilestone")
    assert [e["milestone"] for e in events] == ["opened", "closed", "results_published"]
    assert events[0]["measure_codes"] == ["VEP-RAD-02"] and events[0]["ends_on"] == "2026-03-22"
    assert events[0]["consultation_id"] == str(cid) and events[0]["town"] == "soest"


def test_a_measure_is_asked_in_one_open_consultation_of_the_town_at_a_time(
    app: ParticipationApp,
) -> None:
    first, second = draft(app), draft(app, title="Noch einmal Radverkehr")
    assert phase(app, first, "open") == "open"
    with pytest.raises(MeasureAlreadyAsked) as refused:
        phase(app, second, "open")
    assert [d["code"] for d in refused.value.details] == ["VEP-RAD-02"]
    assert app.consultation(second).status == "draft"
    assert milestones(app) == ["opened"]
    # once the first one is closed, the second may ask again
    phase(app, first, "closed")
    assert phase(app, second, "open") == "open"


def test_outside_the_open_phase_nobody_rates_or_comments_but_ideas_are_always_welcome(
    app: ParticipationApp,
) -> None:
    citizen = confirmed_citizen(app)
    cid = draft(app)
    rate = RateMeasure(measure_code="VEP-RAD-02", participant_id=citizen, effectiveness=4)
    comment = PostComment(citizen_id=citizen, measure_code="VEP-RAD-02", consultation_id=cid, body="Hm")
    for step in ("draft", "closed", "results_published"):
        if step != "draft":
            phase(app, cid, step)
        before = all_rows(app)
        with pytest.raises(ConsultationNotOpen) as refused:
            app.rate(rate, consultation_id=cid)
        assert "nicht geöffnet" in str(refused.value)
        with pytest.raises(ConsultationNotOpen):
            app.rate(rate)  # the measure's consultation is found, and it says why
        with pytest.raises(ConsultationNotOpen):
            app.post_comment(comment)
        assert all_rows(app) == before
        if step == "draft":
            phase(app, cid, "open")
            assert app.rate(rate).version == 1
    idea = app.propose_idea(ProposeIdea(citizen_id=citizen, title="Mehr Bänke",
                                        description="Bänke entlang der Wege zum Ausruhen.",
                                        field_of_action="walking"))
    assert idea.status == "submitted"


# --------------------------------------------------------------------------- the calendar
def test_closing_soon_is_said_once_and_a_consultation_past_its_end_closes_itself(
    app: ParticipationApp, clock: Clock,
) -> None:
    cid = draft(app, ends_on=TODAY + timedelta(days=10))
    phase(app, cid, "open")
    assert app.check_consultations() == []
    clock.advance(days=7)  # ends in 3 days
    assert app.check_consultations() == [(str(cid), "closing_soon")]
    clock.advance(days=1)
    assert app.check_consultations() == []
    clock.advance(days=2, hours=12)  # the last day, 22:00 in Soest: still open
    assert app.check_consultations() == []
    clock.advance(hours=2)  # midnight in Soest (23:00 UTC, still the last day in UTC)
    assert app.check_consultations() == [(str(cid), "closed")]
    assert app.consultation(cid).status == "closed"
    assert milestones(app) == ["opened", "closing_soon", "closed"]
    assert app.check_consultations() == []


def test_the_calendar_loop_runs_in_the_background_and_stops_promptly(
    settings: Settings, clock: Clock,
) -> None:
    app = town_app(settings, clock, consultation_check_seconds=0.05)
    cid = draft(app, ends_on=TODAY + timedelta(days=1))
    phase(app, cid, "open")
    loop = threading.Thread(target=app.consultation_loop, daemon=True)
    loop.start()
    eventually(lambda: "closing_soon" in milestones(app), timeout=10, message="closing soon")
    clock.advance(days=2)
    eventually(lambda: app.consultation(cid).status == "closed", timeout=10, message="closed")
    app.stop()
    loop.join(timeout=30)
    assert not loop.is_alive(), "the loop ends when the instance stops"
    assert milestones(app).count("closing_soon") == 1


def test_stopping_wakes_the_calendar_loop_from_its_wait(settings: Settings, clock: Clock) -> None:
    # Given a loop that checked once and now waits an hour for its next round
    app = town_app(settings, clock, consultation_check_seconds=3600)
    cid = draft(app, ends_on=TODAY + timedelta(days=1))
    phase(app, cid, "open")
    loop = threading.Thread(target=app.consultation_loop, daemon=True)
    loop.start()
    eventually(lambda: "closing_soon" in milestones(app), timeout=10, message="the first round")
    # When the instance stops, the loop ends instead of sleeping out its hour
    app.stop()
    loop.join(timeout=30)
    assert not loop.is_alive(), "stop() wakes the loop from its wait"


# --------------------------------------------------------------------------- results
def test_town_results_count_tally_comments_participants_and_days(
    app: ParticipationApp, clock: Clock,
) -> None:
    view = open_consultation(app, ("VEP-RAD-02", "VEP-FUSS-01"))
    people = [confirmed_citizen(app) for _ in range(3)]
    answers = [(4, Support.YES), (5, Support.RATHER_YES), (None, Support.NO)]
    for person, (effectiveness, support) in zip(people, answers, strict=True):
        app.rate(RateMeasure(measure_code="VEP-RAD-02", participant_id=person,
                             effectiveness=effectiveness, support=support))
    clock.advance(days=1)
    app.rate(RateMeasure(measure_code="VEP-RAD-02", participant_id=people[2], effectiveness=1,
                         support=Support.NO))  # a change: still one answer, counted on day 1
    commenter = confirmed_citizen(app)
    app.post_comment(PostComment(citizen_id=commenter, measure_code="VEP-RAD-02", body="Ja, bitte"))
    app.propose_idea(ProposeIdea(citizen_id=commenter, title="Mehr Bänke",
                                 description="Bänke entlang der Wege zum Ausruhen.",
                                 field_of_action="walking"))

    results = app.town_results(view.id)
    rad, fuss = results.measures
    assert (rad.code, rad.title, rad.field_of_action) == ("VEP-RAD-02",
                                                          "Radweg auf der ehemaligen Bahntrasse", "cycling")
    assert rad.tally.answers == 3 and rad.tally.effectiveness_count == 3
    assert rad.tally.effectiveness_mean == pytest.approx(10 / 3, abs=0.001)
    assert rad.tally.effectiveness_distribution == {"1": 1, "2": 0, "3": 0, "4": 1, "5": 1}
    assert rad.tally.support == {"yes": 1, "rather_yes": 1, "rather_no": 0, "no": 1}
    assert rad.comments == 1
    assert fuss.tally.answers == 0 and fuss.tally.effectiveness_mean is None
    assert results.participants == 4
    days = {d.day: d for d in results.days}
    assert (days["2026-03-02"].citizens, days["2026-03-02"].ratings) == (3, 3)
    assert (days["2026-03-03"].citizens, days["2026-03-03"].comments, days["2026-03-03"].ideas,
            days["2026-03-03"].ratings) == (1, 1, 1, 0)


def test_the_town_results_csv_opens_in_german_spreadsheets(app: ParticipationApp) -> None:
    view = open_consultation(app, ("VEP-RAD-02", "VEP-FUSS-01"))
    for effectiveness, support in ((4, Support.YES), (5, Support.NO), (4, Support.YES)):
        app.rate(RateMeasure(measure_code="VEP-RAD-02", participant_id=confirmed_citizen(app),
                             effectiveness=effectiveness, support=support))
    data = app.town_results_csv(view.id).encode("utf-8")
    assert data.startswith(b"\xef\xbb\xbfCode;Ma\xc3\x9fnahme;Handlungsfeld;Antworten;")
    lines = data.decode("utf-8").removeprefix("\ufeff").split("\r\n")
    assert lines[0].endswith(";Zustimmung (%);Kommentare;davon auf Papier")
    assert lines[1] == ("VEP-RAD-02;Radweg auf der ehemaligen Bahntrasse;Radverkehr;3;4,33;"
                        "0;0;0;2;1;2;0;0;1;66,7;0;0")
    assert lines[2] == "VEP-FUSS-01;Sichere Schulwege;Fußverkehr;0;;0;0;0;0;0;0;0;0;0;;0;0"
    assert lines[3] == ""


def test_results_of_an_unknown_consultation_are_refused(app: ParticipationApp) -> None:
    from services.participation.domain.model import ConsultationNotFound, InvalidInput

    with pytest.raises(ConsultationNotFound):
        app.town_results(uuid.uuid4())
    with pytest.raises(InvalidInput):
        app.town_results("not-an-id")
    assert count(app, t.consultations) == 0
