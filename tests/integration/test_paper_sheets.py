"""Paper questionnaires in a town (SQLite and PostgreSQL) and in the regional results.

Staff enter returned sheets; each answer is a rating with the channel "paper", counted
once in the town and, through the outbox events, once in the region, however often the
events arrive. Refused input writes nothing.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from services.measures.service_layer import projection
from services.measures.service_layer.handlers import MeasuresApp
from services.participation.adapters import tables as t
from services.participation.domain.errors import (
    ConsultationNotOpen,
    EmptyAnswer,
    InvalidInput,
    MeasureNotInConsultation,
    PaperImportInvalid,
    PaperSheetAlreadyEntered,
)
from services.participation.service_layer.handlers import ParticipationApp
from soesmart.config import Settings
from soesmart.contracts import (
    CreateConsultation,
    EnterPaperSheet,
    ImportPaperSheets,
    PaperAnswer,
    RatingRecorded,
    RatingsRecorded,
    Support,
    parse_event,
)
from tests.support.participation import Clock, all_rows, open_consultation, town_app

CODES = ("VEP-RAD-01", "VEP-RAD-02", "VEP-FUSS-01")


@pytest.fixture
def app(settings: Settings) -> ParticipationApp:
    return town_app(settings, Clock())


@pytest.fixture
def region(settings: Settings) -> MeasuresApp:
    url = f"sqlite:///{settings.data_dir / 'measures-paper.db'}"
    return MeasuresApp(settings.model_copy(update={"demo": False, "database_url": url}))


def sheet(cid: str, number: int, *answers: tuple[str, int | None, Support | None], **extra: object
          ) -> EnterPaperSheet:
    return EnterPaperSheet(consultation_id=cid, sheet_number=number, actor="Admin Soest", **extra,
                           answers=tuple(PaperAnswer(measure_code=c, effectiveness=e, support=s)
                                         for c, e, s in answers))


def deliver(app: ParticipationApp, region: MeasuresApp, times: int = 1) -> None:
    """Every rating event of the town's outbox into the regional projection, `times` times."""
    with app.engine.connect() as conn:
        payloads = [json.loads(p) for p in conn.execute(select(t.outbox.c.payload)).scalars()]
    for _ in range(times):
        for payload in payloads:
            event = parse_event(payload)
            if isinstance(event, RatingRecorded):
                region.record_rating(event)
            elif isinstance(event, RatingsRecorded):
                projection.record_ratings(event, region.uow())


def region_tally(region: MeasuresApp, code: str) -> dict:
    found = {m.code: m for m in region.regional_results().measures}[code]
    return found.towns["soest"].model_dump()


def test_a_sheet_counts_once_in_town_and_region_marked_as_paper(
        app: ParticipationApp, region: MeasuresApp) -> None:
    c = open_consultation(app, CODES)
    entered = app.enter_paper_sheet(sheet(c.id, 17, ("VEP-RAD-01", 4, Support.YES),
                                          ("VEP-RAD-02", None, Support.NO)))
    assert entered.sheet_number == 17 and len(entered.answers) == 2
    town = {m.code: m.tally for m in app.town_results(c.id).measures}
    assert town["VEP-RAD-01"].answers == 1 and town["VEP-RAD-01"].paper_answers == 1
    assert town["VEP-RAD-02"].support["no"] == 1 and town["VEP-FUSS-01"].answers == 0
    assert app.town_results(c.id).participants == 1
    assert app.town_results_csv(c.id).split("\r\n")[0].endswith(";davon auf Papier")
    deliver(app, region, times=3)  # redelivered: still once
    rad = region_tally(region, "VEP-RAD-01")
    assert rad["answers"] == 1 and rad["paper_answers"] == 1 and rad["effectiveness_mean"] == 4.0
    assert region.results_csv().split("\r\n")[1].endswith(";1")
    log = app.moderation_log()
    assert log[0].target_type == "paper_sheet" and log[0].actor == "Admin Soest"


def test_a_sheet_number_is_entered_once_and_corrected_with_a_logged_reason(
        app: ParticipationApp, region: MeasuresApp) -> None:
    c = open_consultation(app, CODES)
    app.enter_paper_sheet(sheet(c.id, 5, ("VEP-RAD-01", 2, None)))
    before = all_rows(app)
    with pytest.raises(PaperSheetAlreadyEntered) as refused:
        app.enter_paper_sheet(sheet(c.id, 5, ("VEP-RAD-01", 5, None)))
    assert "Bogen 5" in str(refused.value) and refused.value.details[0]["field"] == "sheet_number"
    with pytest.raises(InvalidInput):  # a correction needs a reason
        app.enter_paper_sheet(sheet(c.id, 5, ("VEP-RAD-01", 5, None), correction=True))
    assert all_rows(app) == before
    app.enter_paper_sheet(sheet(c.id, 5, ("VEP-RAD-01", 5, None), correction=True,
                                reason="Kreuz falsch gelesen"))
    deliver(app, region, times=2)
    rad = region_tally(region, "VEP-RAD-01")
    assert rad["answers"] == 1 and rad["paper_answers"] == 1 and rad["effectiveness_mean"] == 5.0
    act = app.moderation_log()[0]
    assert act.action == "corrected" and "Kreuz falsch gelesen" in act.reason and "2" in act.reason


@pytest.mark.parametrize("answers, error, field", [
    ((("VEP-RAD-09", 3, None),), MeasureNotInConsultation, "answers.0.measure_code"),
    ((("VEP-RAD-01", None, None),), EmptyAnswer, "answers.0"),
    ((), InvalidInput, "answers"),
])
def test_a_bad_sheet_is_refused_with_its_field_and_writes_nothing(
        app: ParticipationApp, answers: tuple, error: type, field: str) -> None:
    c = open_consultation(app, CODES)
    before = all_rows(app)
    with pytest.raises(error) as refused:
        app.enter_paper_sheet(sheet(c.id, 1, *answers))
    assert refused.value.details[0]["field"] == field
    assert all_rows(app) == before


def test_a_draft_takes_no_sheets(app: ParticipationApp) -> None:
    draft = app.create_consultation(CreateConsultation(
        title="Entwurf", description="", starts_on=app.clock().date(), ends_on=app.clock().date(),
        measure_codes=CODES, actor="Admin Soest"))
    with pytest.raises(ConsultationNotOpen) as refused:
        app.enter_paper_sheet(sheet(draft.id, 1, ("VEP-RAD-01", 3, None)))
    assert refused.value.details[0]["field"] == "consultation_id"


def test_a_csv_of_scanned_sheets_is_imported_whole_or_not_at_all(
        app: ParticipationApp, region: MeasuresApp) -> None:
    c = open_consultation(app, CODES)
    app.enter_paper_sheet(sheet(c.id, 3, ("VEP-RAD-01", 1, None)))
    before = all_rows(app)
    bad = ("\ufeffBogen;Code;Wirksamkeit;Unterstützung\r\n1;VEP-RAD-01;4;ja\r\n1;VEP-RAD-09;2;\r\n"
           "2;VEP-RAD-02;6;nein\r\n3;VEP-RAD-02;;eher ja\r\n")
    with pytest.raises(PaperImportInvalid) as refused:
        app.import_paper_sheets(ImportPaperSheets(consultation_id=c.id, content=bad, actor="Admin Soest"))
    where = {(p["row"], p["column"]) for p in refused.value.details}
    assert where == {(3, "Code"), (4, "Wirksamkeit")}  # the entered sheet 3 is checked once the rest is fine
    assert all_rows(app) == before
    again = "Bogen,Code,Wirksamkeit,Unterstützung\n3,VEP-RAD-02,,eher ja\n"
    with pytest.raises(PaperImportInvalid) as refused:
        app.import_paper_sheets(ImportPaperSheets(consultation_id=c.id, content=again, actor="Admin Soest"))
    assert refused.value.details[0] == {"row": 2, "column": "Bogen",
                                        "problem": "Bogen 3 wurde bereits erfasst"}
    good = ("Bogen;Code;Wirksamkeit;Unterstützung\n1;VEP-RAD-01;4;ja\n1;VEP-RAD-02;;2\n"
            "2;VEP-RAD-01;5;eher nein\n")
    report = app.import_paper_sheets(ImportPaperSheets(consultation_id=c.id, content=good,
                                                       actor="Admin Soest"))
    assert (report.sheets, report.answers) == (2, 3)
    deliver(app, region, times=2)
    rad = region_tally(region, "VEP-RAD-01")
    assert rad["answers"] == 3 and rad["paper_answers"] == 3
    assert region_tally(region, "VEP-RAD-02")["support"]["rather_yes"] == 1
