"""Staff accounts against a real database (SQLite and PostgreSQL): sign-in, sessions, lockout."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from services.gateway.adapters.tables import staff_accounts, staff_sessions
from services.gateway.domain.staff import (
    AccountExists,
    InvalidCredentials,
    SignInLocked,
    StaffRole,
    StaffRuleViolated,
)
from services.gateway.service_layer.staff import StaffAccounts, token_hash
from soesmart.config import Settings
from soesmart.storage import make_engine
from soesmart.towns import towns

PASSWORD = "richtig-langes-passwort"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def delays() -> list[float]:
    return []


@pytest.fixture
def staff(database_url: str, tmp_path: Path, clock: Clock, delays: list[float]) -> Iterator[StaffAccounts]:
    settings = Settings(data_dir=tmp_path, database_url=database_url, secret_key="test")
    engine = make_engine(database_url)
    yield StaffAccounts(settings, engine=engine, clock=clock, sleep=delays.append)
    engine.dispose()


@pytest.fixture
def admin(staff: StaffAccounts) -> str:
    staff.create("Admin.Menden@Example.org", "Verwaltung Menden", "town_admin", "menden", PASSWORD)
    return "admin.menden@example.org"


def test_an_account_is_stored_with_an_argon2id_hash_and_a_lower_case_email(
    staff: StaffAccounts, admin: str
) -> None:
    with staff.engine.connect() as conn:
        row = conn.execute(select(staff_accounts)).one()
    assert row.email == admin
    assert row.password_hash.startswith("$argon2id$")
    assert PASSWORD not in row.password_hash
    [account] = staff.accounts()
    assert (account.role, account.town, account.active) == (StaffRole.TOWN_ADMIN, "menden", True)


def test_the_same_email_twice_and_rule_breaking_accounts_are_refused(
    staff: StaffAccounts, admin: str
) -> None:
    with pytest.raises(AccountExists):
        staff.create("ADMIN.MENDEN@example.org", "Zweite", "town_admin", "menden", PASSWORD)
    with pytest.raises(StaffRuleViolated):
        staff.create("kurz@example.org", "Kurz", "coordinator", None, "zu-kurz")
    with pytest.raises(StaffRuleViolated):
        staff.create("ohne-stadt@example.org", "Ohne Stadt", "town_admin", None, PASSWORD)


def test_signing_in_gives_a_session_whose_value_is_stored_only_as_a_hash(
    staff: StaffAccounts, admin: str, clock: Clock
) -> None:
    signed = staff.sign_in(admin, PASSWORD, "addr-1")
    assert signed.expires_at == clock.now + timedelta(hours=12)
    with staff.engine.connect() as conn:
        stored = conn.execute(select(staff_sessions.c.token_hash)).scalar_one()
    assert stored == token_hash(signed.token) and stored != signed.token
    account = staff.authenticate(signed.token)
    assert account is not None and account.email == admin


def test_a_session_ends_when_it_expires_is_revoked_or_its_account_is_disabled(
    staff: StaffAccounts, admin: str, clock: Clock
) -> None:
    expiring = staff.sign_in(admin, PASSWORD, "addr-1")
    revoked = staff.sign_in(admin, PASSWORD, "addr-1", kind="api")
    kept = staff.sign_in(admin, PASSWORD, "addr-1")

    assert staff.revoke(revoked.token)
    assert staff.authenticate(revoked.token) is None
    assert staff.authenticate(kept.token) is not None

    clock.advance(hours=12)
    assert staff.authenticate(expiring.token) is None

    clock.advance(hours=-1)
    fresh = staff.sign_in(admin, PASSWORD, "addr-1")
    staff.disable(admin)
    assert staff.authenticate(fresh.token) is None
    with pytest.raises(InvalidCredentials):
        staff.sign_in(admin, PASSWORD, "addr-1")
    assert staff.authenticate("not-a-token") is None


def test_five_failures_lock_the_account_even_for_the_right_password_then_it_opens_again(
    staff: StaffAccounts, admin: str, clock: Clock, delays: list[float]
) -> None:
    # Given five wrong passwords within a few minutes, from different addresses
    for i in range(5):
        with pytest.raises(InvalidCredentials):
            staff.sign_in(admin, f"falsch-{i}-passwort", f"addr-{i}")
        clock.advance(seconds=30)
    # Then each failure was slowed down a little more than the one before
    assert len(delays) == 5 and delays == sorted(delays) and delays[0] > 0

    # When the right password follows, it is refused while the lock lasts
    with pytest.raises(SignInLocked) as locked:
        staff.sign_in(admin, PASSWORD, "addr-9")
    assert 0 < locked.value.retry_after <= 15 * 60

    # And after the lock, the right password works again
    clock.advance(seconds=locked.value.retry_after)
    assert staff.sign_in(admin, PASSWORD, "addr-9").account.email == admin


def test_an_unknown_email_is_locked_the_same_way_so_the_answer_reveals_nothing(
    staff: StaffAccounts, admin: str
) -> None:
    for _ in range(5):
        with pytest.raises(InvalidCredentials):
            staff.sign_in("niemand@example.org", "irgendein-passwort", "addr-1")
    with pytest.raises(SignInLocked):
        staff.sign_in("niemand@example.org", "irgendein-passwort", "addr-2")
    # the real account is not affected by failures against another email
    assert staff.sign_in(admin, PASSWORD, "addr-2")


def test_one_address_trying_many_accounts_is_locked(staff: StaffAccounts, admin: str) -> None:
    for i in range(staff.policy.max_per_address):
        with pytest.raises(InvalidCredentials):
            staff.sign_in(f"person-{i}@example.org", "irgendein-passwort", "sprayer")
    with pytest.raises(SignInLocked):
        staff.sign_in(admin, PASSWORD, "sprayer")
    assert staff.sign_in(admin, PASSWORD, "elsewhere")


def test_a_successful_sign_in_forgets_the_earlier_failures_of_the_account(
    staff: StaffAccounts, admin: str
) -> None:
    for _ in range(4):
        with pytest.raises(InvalidCredentials):
            staff.sign_in(admin, "falsches-passwort", "addr-1")
    staff.sign_in(admin, PASSWORD, "addr-1")
    for _ in range(4):
        with pytest.raises(InvalidCredentials):
            staff.sign_in(admin, "falsches-passwort", "addr-1")
    assert staff.sign_in(admin, PASSWORD, "addr-1")


def test_demo_accounts_are_created_once_and_disabled_when_demo_mode_is_off(
    staff: StaffAccounts,
) -> None:
    created = staff.ensure_demo_accounts(towns())
    assert len(created) == 1 + len(list(towns()))
    assert staff.ensure_demo_accounts(towns()) == created
    assert len(staff.accounts()) == len(created)
    coordinator = next(a for a in created if a.role is StaffRole.COORDINATOR)
    signed = staff.sign_in(coordinator.email, coordinator.password, "addr-1")

    assert staff.disable_demo_accounts() == len(created)
    assert staff.authenticate(signed.token) is None
    with pytest.raises(InvalidCredentials):
        staff.sign_in(coordinator.email, coordinator.password, "addr-1")
