"""Rules for staff accounts: roles, who belongs to which town, passwords, failed sign-ins.

Plain rules without framework imports; the service layer feeds them rows and a clock.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class StaffRole(StrEnum):
    TOWN_ADMIN = "town_admin"  # exactly one town
    COORDINATOR = "coordinator"  # the whole region; keeps the catalogue


MIN_PASSWORD_LENGTH = 12


class StaffRuleViolated(ValueError):
    """An account that may not exist as asked (town missing, password too short, ...)."""


def check_role_and_town(role: StaffRole, town: str | None) -> None:
    if role is StaffRole.TOWN_ADMIN and not town:
        raise StaffRuleViolated("a town admin belongs to exactly one town (--town)")
    if role is StaffRole.COORDINATOR and town:
        raise StaffRuleViolated("a coordinator works for all towns and has no --town")


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise StaffRuleViolated(f"the password needs at least {MIN_PASSWORD_LENGTH} characters")


def normalise_email(email: str) -> str:
    return email.strip().lower()


@dataclass(frozen=True)
class StaffAccount:
    id: str
    email: str
    display_name: str
    role: StaffRole
    town: str | None
    active: bool
    created_at: datetime
    demo: bool = False
    provider: str | None = None  # made by a sign-in through this OpenID provider


@dataclass(frozen=True)
class LockoutPolicy:
    """Failed sign-ins are slowed down, and too many in a window lock for a while.

    Counted per account (by the email that was typed, whether or not an account has
    it, so the answer says nothing about which accounts exist) and per client address
    (one address trying many accounts). While locked, even the right password is
    refused, and the attempts are not recorded: the lock ends on time.
    """

    window: timedelta = timedelta(minutes=15)
    lock_for: timedelta = timedelta(minutes=15)
    max_per_account: int = 5
    max_per_address: int = 20
    delay_step: float = 0.25  # seconds added per recent failure
    max_delay: float = 2.0

    @property
    def look_back(self) -> timedelta:
        """How far back failures can still matter."""
        return self.window + self.lock_for

    def locked_until(self, failures: Iterable[datetime], limit: int,
                     now: datetime) -> datetime | None:
        """End of the lock if `limit` failures fell within one window, else None."""
        times = sorted(failures)
        until: datetime | None = None
        for i in range(limit - 1, len(times)):
            if times[i] - times[i - limit + 1] <= self.window:
                end = times[i] + self.lock_for
                if end > now and (until is None or end > until):
                    until = end
        return until

    def delay_after(self, recent_failures: int) -> float:
        """Seconds to wait before answering a failed attempt: grows with each failure."""
        return min(self.delay_step * max(recent_failures, 1), self.max_delay)

    def recent(self, failures: Iterable[datetime], now: datetime) -> int:
        return sum(1 for f in failures if now - f <= self.window)


class InvalidCredentials(Exception):
    """Wrong email or password, or a disabled account: one answer for all three."""


class SignInLocked(Exception):
    """Too many failed sign-ins for this email or from this address."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"locked for {retry_after} s")
        self.retry_after = retry_after


class AccountExists(Exception):
    """An account with this email exists already."""


class PasswordSignInOff(Exception):
    """The account's town (or the region) signs its staff in through its OpenID provider only."""
