"""The rules of a town's consultation (pure domain)."""

from __future__ import annotations

from datetime import date

import pytest

from services.participation.domain.model import (
    Answer,
    Consultation,
    ConsultationNotOpen,
    EmptyAnswer,
    MeasureNotInConsultation,
)
from soesmart.contracts import Support

TODAY = date(2026, 11, 24)


def consultation(status: str = "open", ends_on: date = date(2026, 12, 31)) -> Consultation:
    return Consultation(id="c1", title="t", status=status, starts_on=date(2026, 11, 1),
                        ends_on=ends_on, measure_codes=frozenset({"VEP-RAD-01"}))


def test_an_open_consultation_takes_answers_for_its_measures() -> None:
    consultation().check_can_rate("VEP-RAD-01", TODAY)


@pytest.mark.parametrize("status", ["draft", "closed", "results_published"])
def test_outside_the_open_phase_no_answer_is_taken(status: str) -> None:
    with pytest.raises(ConsultationNotOpen):
        consultation(status).check_can_rate("VEP-RAD-01", TODAY)


def test_after_the_end_date_no_answer_is_taken_even_if_still_marked_open() -> None:
    with pytest.raises(ConsultationNotOpen):
        consultation(ends_on=date(2026, 11, 23)).check_can_rate("VEP-RAD-01", TODAY)


def test_a_measure_outside_the_consultation_is_refused_naming_the_field() -> None:
    with pytest.raises(MeasureNotInConsultation) as err:
        consultation().check_can_rate("VEP-RAD-99", TODAY)
    assert err.value.details[0]["field"] == "measure_code"


def test_an_answer_to_neither_question_is_refused() -> None:
    with pytest.raises(EmptyAnswer):
        Answer(None, None, "nur ein Kommentar").check_not_empty()


def test_answers_compare_by_content() -> None:
    assert Answer(3, Support.YES, None).same_as(Answer(3, Support.YES, ""))
    assert not Answer(3, Support.YES, None).same_as(Answer(3, Support.NO, None))
