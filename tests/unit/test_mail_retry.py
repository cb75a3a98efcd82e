"""The retry schedule of mail (RFC 5321 4.5.4.1) and what an SMTP reply means for it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.notifications.adapters.mail import (
    PermanentMailFailure,
    ServerBusy,
    TemporaryMailFailure,
    refusal,
)
from services.notifications.domain.retry import DomainBackoff, RetryPolicy
from services.notifications.service_layer.handlers import retry_policy
from soesmart.config import Settings


def test_the_default_window_keeps_trying_for_days_at_growing_intervals_of_at_most_an_hour() -> None:
    policy = retry_policy(Settings())
    waits = [policy.delay(n) for n in range(1, 9)]
    assert [w.total_seconds() / 60 for w in waits] == [5, 10, 20, 40, 60, 60, 60, 60]
    assert policy.window >= timedelta(days=2)
    queued = datetime(2026, 12, 1, tzinfo=UTC)
    assert not policy.gives_up(queued, queued + timedelta(days=2))
    assert policy.gives_up(queued, queued + policy.window + timedelta(seconds=1))


def test_a_greylisting_server_that_waits_five_minutes_is_passed_at_the_second_try() -> None:
    assert RetryPolicy().delay(1) >= timedelta(minutes=5)


def test_a_busy_domain_waits_longer_each_time_in_a_row_and_starts_again_after_a_delivery() -> None:
    policy, backoff = RetryPolicy(), DomainBackoff()
    waits = [policy.throttle_delay(backoff.busy("example.org")) for _ in range(8)]
    assert waits[:3] == [timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=4)]
    assert waits[-1] == timedelta(hours=1)
    assert policy.throttle_delay(backoff.busy("other.example")) == timedelta(minutes=1)
    backoff.delivered("example.org")
    assert policy.throttle_delay(backoff.busy("example.org")) == timedelta(minutes=1)


def test_smtp_replies_mean_busy_server_greylisting_or_a_bounce() -> None:
    assert isinstance(refusal(421, b"4.7.0 Too many connections"), ServerBusy)
    assert isinstance(refusal(451, "4.7.1 Too many messages, slow down"), ServerBusy)
    greylisted = refusal(451, b"4.7.1 Greylisted, please try again later")
    assert type(greylisted) is TemporaryMailFailure
    bounce = refusal(550, b"5.1.1 <x@example.org>:  no such\r\n user")
    assert isinstance(bounce, PermanentMailFailure) and bounce.bounce
    assert str(bounce) == "550 5.1.1 <x@example.org>: no such user"
    assert not refusal(553, "5.7.1 sender rejected", bounce=False).bounce  # type: ignore[attr-defined]
