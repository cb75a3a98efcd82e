"""The rules of a town's participation (pure domain) and the one reply shape of its RPC methods."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from services.participation.domain.model import (
    CitizenNotConfirmed,
    CitizenNotFound,
    CitizenStanding,
    CommentNotFound,
    Consultation,
    ConsultationWithoutMeasures,
    Limit,
    Link,
    LinkInvalid,
    ParentComment,
    PhaseChangeNotAllowed,
    PostcodeNotInTown,
    PostcodeOfOtherTown,
    RateLimited,
    ReplyToReply,
    check_postcode,
    support_share,
    tally,
)
from services.participation.entrypoints.service import answer
from soesmart.contracts import RegisterCitizen

TODAY = date(2026, 3, 2)
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def consultation(status: str = "draft", codes: frozenset[str] = frozenset({"VEP-RAD-01"}),
                 ends_on: date = date(2026, 3, 31)) -> Consultation:
    return Consultation(id="c1", title="t", status=status, starts_on=TODAY, ends_on=ends_on,
                        measure_codes=codes)


@pytest.mark.parametrize(("status", "to"), [("draft", "open"), ("open", "closed"),
                                            ("closed", "results_published")])
def test_a_consultation_moves_one_step_forward(status: str, to: str) -> None:
    consultation(status).check_phase_change(to, TODAY)


@pytest.mark.parametrize(("status", "to"), [("draft", "closed"), ("open", "open"), ("closed", "open"),
                                            ("results_published", "closed"), ("draft", "results_published")])
def test_no_other_phase_change_is_allowed(status: str, to: str) -> None:
    with pytest.raises(PhaseChangeNotAllowed):
        consultation(status).check_phase_change(to, TODAY)


def test_opening_needs_a_measure_and_an_end_date_still_ahead() -> None:
    with pytest.raises(ConsultationWithoutMeasures):
        consultation(codes=frozenset()).check_phase_change("open", TODAY)
    with pytest.raises(PhaseChangeNotAllowed):
        consultation(ends_on=TODAY - timedelta(days=1)).check_phase_change("open", TODAY)


def test_closing_soon_means_the_end_is_at_most_three_days_ahead() -> None:
    c = consultation("open", ends_on=TODAY + timedelta(days=3))
    assert c.closes_soon(TODAY) and not c.closes_soon(TODAY - timedelta(days=1))
    assert not c.is_over(TODAY + timedelta(days=3)) and c.is_over(TODAY + timedelta(days=4))


def test_a_postcode_of_another_town_names_that_town() -> None:
    check_postcode("59494", "soest", "Soest", ("59494",), ("soest", "Soest"))
    with pytest.raises(PostcodeOfOtherTown) as refused:
        check_postcode("57462", "soest", "Soest", ("59494",), ("olpe", "Olpe"))
    assert refused.value.details[0]["town"] == "olpe" and "in Olpe" in str(refused.value)
    with pytest.raises(PostcodeNotInTown):
        check_postcode("10115", "soest", "Soest", ("59494",), None)


@pytest.mark.parametrize(("link", "purpose", "now"), [
    (Link("confirm_registration", NOW, None, False), "confirm_registration", NOW),  # expired now
    (Link("confirm_registration", NOW + timedelta(hours=1), NOW, False), "confirm_registration", NOW),
    (Link("sign_in", NOW + timedelta(hours=1), None, False), "confirm_registration", NOW),
    (Link("sign_in", NOW + timedelta(hours=1), None, True), "sign_in", NOW),
])
def test_a_link_is_refused_when_expired_used_of_another_purpose_or_its_citizen_erased(
    link: Link, purpose: str, now: datetime,
) -> None:
    with pytest.raises(LinkInvalid):
        link.check_redeemable(purpose, now)


def test_only_a_confirmed_citizen_takes_part() -> None:
    CitizenStanding(exists=True, confirmed=True, erased=False).check_can_participate()
    with pytest.raises(CitizenNotConfirmed):
        CitizenStanding(exists=True, confirmed=False, erased=False).check_can_participate()
    for standing in (CitizenStanding(False, False, False), CitizenStanding(True, True, True)):
        with pytest.raises(CitizenNotFound):
            standing.check_can_participate()


def test_replies_go_one_level_deep_on_the_same_measure() -> None:
    ParentComment("p", "VEP-RAD-01", "c1", None).check_can_take_reply("VEP-RAD-01", "c1")
    with pytest.raises(ReplyToReply):
        ParentComment("r", "VEP-RAD-01", "c1", "p").check_can_take_reply("VEP-RAD-01", "c1")
    with pytest.raises(CommentNotFound):
        ParentComment("p", "VEP-RAD-02", "c1", None).check_can_take_reply("VEP-RAD-01", "c1")


def test_a_full_window_says_when_to_retry() -> None:
    limit = Limit(count=2, window=600)
    limit.check([NOW], NOW, "Kommentare")
    with pytest.raises(RateLimited) as refused:
        limit.check([NOW - timedelta(minutes=4), NOW - timedelta(minutes=1)], NOW, "Kommentare")
    assert refused.value.details[0]["retry_after"] == 360
    Limit(count=0, window=600).check([NOW] * 5, NOW, "x")  # 0: no limit


def test_a_tally_from_counts() -> None:
    result = tally([(4, 2), (None, 1), (1, 1)], [("yes", 2), ("no", 1), (None, 1)], answers=4)
    assert result.effectiveness_count == 3 and result.effectiveness_mean == 3.0
    assert result.effectiveness_distribution == {"1": 1, "2": 0, "3": 0, "4": 2, "5": 0}
    assert support_share(result) == pytest.approx(2 / 3)
    assert support_share(tally([], [], 0)) is None


def test_every_rpc_answer_has_one_shape() -> None:
    assert answer(lambda: {"erased": True}) == {"ok": True, "data": {"erased": True}}
    refused = answer(lambda: RegisterCitizen.model_validate({"email": "x", "postcode": "1",
                                                             "display_name": "A"}))
    assert refused["ok"] is False and refused["error"]["code"] == "VALIDATION_FAILED"
    assert {d["field"] for d in refused["error"]["details"]} == {"email", "postcode", "display_name"}

    def raise_domain_error() -> None:
        raise ReplyToReply("nicht so tief", [{"field": "parent_id", "problem": "too deep"}])

    assert answer(raise_domain_error) == {"ok": False, "error": {
        "code": "REPLY_TO_REPLY", "message": "nicht so tief",
        "details": [{"field": "parent_id", "problem": "too deep"}]}}
