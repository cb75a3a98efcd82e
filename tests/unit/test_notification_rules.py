"""Who hears about what and when: scope matching, one item per person, bundling, digests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from services.notifications.adapters.clock import Clock, FakeClock, SystemClock
from services.notifications.domain.model import (
    Candidate,
    Item,
    Scope,
    area_of,
    digest_due,
    group_by_town_and_measure,
    one_per_recipient,
    scopes_following_measure,
)
from soesmart.contracts import Subscribe

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
ALL = ["soest", "arnsberg", "bad-berleburg", "menden", "olpe"]


def test_a_measure_change_concerns_the_measure_its_field_its_towns_and_the_region() -> None:
    scopes = scopes_following_measure("VEP-RAD-01", "cycling", ["soest"], ALL)
    assert set(scopes) == {Scope("measure", "VEP-RAD-01"), Scope("field_of_action", "cycling"),
                           Scope("town", "soest"), Scope("region", "all")}


def test_a_measure_without_towns_concerns_every_town() -> None:
    towns = {s.value for s in scopes_following_measure("VEP-RAD-02", "", [], ALL)
             if s.type == "town"}
    assert towns == set(ALL)


def test_a_person_matching_several_scopes_is_counted_once_with_the_most_urgent_and_specific() -> None:
    chosen = one_per_recipient([
        Candidate("s1", "a@example.org", "region", "all", "weekly"),
        Candidate("s2", "A@example.org", "town", "soest", "immediate"),
        Candidate("s3", "a@example.org", "measure", "VEP-RAD-01", "immediate"),
        Candidate("s4", "b@example.org", "region", "all", "daily"),
    ])
    assert [(c.email.lower(), c.subscription_id) for c in chosen] == [
        ("a@example.org", "s3"), ("b@example.org", "s4")]


def test_a_town_subscriber_sees_news_under_their_town_others_under_the_measures_towns() -> None:
    assert area_of("town", "olpe", ()) == "olpe"
    assert area_of("region", "all", ("soest", "menden")) == "soest,menden"
    assert area_of("measure", "VEP-RAD-02", ()) == ""


def test_a_digest_is_due_one_period_after_the_last_one() -> None:
    assert not digest_due("daily", None, T0, T0 + timedelta(hours=23))
    assert digest_due("daily", None, T0, T0 + timedelta(days=1))
    assert not digest_due("weekly", T0, T0 - timedelta(days=30), T0 + timedelta(days=6))
    assert digest_due("weekly", T0, T0 - timedelta(days=30), T0 + timedelta(days=7))


def item(n: int, area: str, code: str, hours: int) -> Item:
    return Item(id=n, subscription_id="s", area=area, measure_code=code,
                occurred_at=T0 + timedelta(hours=hours), payload={"title": code.lower()})


def test_a_digest_groups_by_town_then_measure_newest_first() -> None:
    groups = group_by_town_and_measure([
        item(1, "soest", "VEP-A-01", 1), item(2, "arnsberg", "VEP-B-01", 5),
        item(3, "soest", "VEP-A-02", 3), item(4, "soest", "VEP-A-01", 4),
    ])
    assert [g.area for g in groups] == ["arnsberg", "soest"]
    soest = groups[1]
    assert [m.code for m in soest.measures] == ["VEP-A-01", "VEP-A-02"]
    assert [i.id for i in soest.measures[0].items] == [4, 1]


@pytest.mark.parametrize("clock", [SystemClock(), FakeClock(T0)], ids=["system", "fake"])
def test_every_clock_tells_aware_utc_time_that_does_not_go_back(clock: Clock) -> None:
    first, second = clock.now(), clock.now()
    assert first.tzinfo is not None and first.utcoffset() == timedelta(0)
    assert second >= first


def test_the_fake_clock_moves_only_when_told() -> None:
    clock = FakeClock(T0)
    assert clock.now() == T0
    assert clock.advance(days=7) == T0 + timedelta(days=7) == clock.now()


# --------------------------------------------------------------------------- the Subscribe contract


def test_a_subscription_with_only_a_measure_code_still_means_that_measure() -> None:
    cmd = Subscribe(email="a@example.org", measure_code="VEP-RAD-02")
    assert (cmd.scope_type, cmd.scope_value, cmd.frequency) == ("measure", "VEP-RAD-02",
                                                                "immediate")


def test_a_region_subscription_needs_no_value() -> None:
    assert Subscribe(email="a@example.org", scope_type="region").scope_value == "all"


@pytest.mark.parametrize("data, field", [
    ({"email": "kein-at-zeichen", "scope_type": "region"}, "email"),
    ({"email": "a@stadt.example", "scope_type": "region"}, "email"),
    ({"email": "a@mail.test", "scope_type": "region"}, "email"),
    ({"email": "a@localhost", "scope_type": "region"}, "email"),
    ({"email": "a@example.org", "scope_type": "town", "scope_value": "Soest!"}, "scope_value"),
    ({"email": "a@example.org", "scope_type": "field_of_action", "scope_value": "x"},
     "scope_value"),
    ({"email": "a@example.org", "scope_type": "measure"}, "scope_value"),
    ({"email": "a@example.org", "scope_type": "region", "frequency": "hourly"}, "frequency"),
])
def test_malformed_or_undeliverable_subscriptions_are_refused_naming_the_field(
    data: dict, field: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        Subscribe.model_validate(data)
    assert field in {str(e["loc"][0]) for e in refused.value.errors() if e["loc"]}
