"""How one citizen's answer moves the combined results (pure domain, no I/O)."""

from __future__ import annotations

import pytest

from services.measures.domain.model import (
    Answer,
    TransitionNotAllowed,
    check_transition,
    is_newer,
    tally_delta,
)
from soesmart.contracts import MeasureStatus, Support


def test_a_first_answer_adds_one_to_every_counter_it_touches() -> None:
    delta = tally_delta(None, Answer(4, Support.YES)).as_increments()
    assert delta == {"answers": 1, "eff_count": 1, "eff_sum": 4, "eff_4": 1, "sup_yes": 1}


def test_a_changed_answer_moves_the_counters_without_adding_an_answer() -> None:
    delta = tally_delta(Answer(4, Support.YES), Answer(2, Support.NO)).as_increments()
    assert delta == {"eff_sum": -2, "eff_4": -1, "eff_2": 1, "sup_yes": -1, "sup_no": 1}
    assert "answers" not in delta


def test_the_same_answer_again_changes_nothing() -> None:
    assert tally_delta(Answer(3, None), Answer(3, None)).as_increments() == {}


def test_answering_only_the_support_question_leaves_effectiveness_alone() -> None:
    delta = tally_delta(None, Answer(None, Support.RATHER_NO)).as_increments()
    assert delta == {"answers": 1, "sup_rather_no": 1}


@pytest.mark.parametrize(("stored", "incoming", "expected"),
                         [(None, 1, True), (1, 2, True), (2, 2, False), (3, 2, False)])
def test_only_a_higher_version_counts(stored: int | None, incoming: int, expected: bool) -> None:
    assert is_newer(stored, incoming) is expected


def test_a_measure_cannot_jump_from_idea_to_implemented() -> None:
    with pytest.raises(TransitionNotAllowed):
        check_transition(MeasureStatus.IDEA, MeasureStatus.IMPLEMENTED)


def test_a_decided_measure_can_go_into_implementation() -> None:
    check_transition(MeasureStatus.DECIDED, MeasureStatus.IN_IMPLEMENTATION)
