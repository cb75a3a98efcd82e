"""Who may do what: the lockout policy, the permission table, principals from requests."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request, Response

from services.gateway.domain.staff import (
    LockoutPolicy,
    StaffRole,
    StaffRuleViolated,
    check_password,
    check_role_and_town,
)
from services.gateway.web.citizen_sessions import (
    CITIZEN_COOKIE,
    end_citizen_session,
    issue_citizen_session,
    read_citizen,
    sign_citizen,
)
from services.gateway.web.errors import ApiError
from services.gateway.web.permissions import (
    ANONYMOUS,
    CONFIRMED_ONLY,
    PERMISSIONS,
    ROLES,
    TOWN_SCOPED,
    Principal,
    can,
    principal_from_request,
    require,
)
from soesmart.config import Settings
from soesmart.contracts import CitizenSession

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
SETTINGS = Settings(secret_key="unit-secret", coordinator_token="coordinator-service-token",
                    public_url="https://beteiligung.example")

CITIZEN_MENDEN = Principal("citizen", "Anna", town="menden", citizen_id=uuid.uuid4(), confirmed=True)
UNCONFIRMED_MENDEN = Principal("citizen", "Ben", town="menden", citizen_id=uuid.uuid4())
ADMIN_MENDEN = Principal("town_admin", "Verwaltung Menden", town="menden", staff_id="a1")
ADMIN_OLPE = Principal("town_admin", "Verwaltung Olpe", town="olpe", staff_id="a2")
COORDINATOR = Principal("coordinator", "Koordination", staff_id="c1")


# --- lockout policy


def minutes(*ms: float) -> list[datetime]:
    return [T0 + timedelta(minutes=m) for m in ms]


def test_five_failures_within_fifteen_minutes_lock_for_fifteen_minutes() -> None:
    policy = LockoutPolicy()
    failures = minutes(0, 1, 2, 3, 4)
    assert policy.locked_until(failures, 5, T0 + timedelta(minutes=4)) == T0 + timedelta(minutes=19)
    assert policy.locked_until(failures, 5, T0 + timedelta(minutes=18, seconds=59)) is not None
    assert policy.locked_until(failures, 5, T0 + timedelta(minutes=19)) is None


def test_four_failures_do_not_lock_and_failures_spread_over_more_than_the_window_do_not_either() -> None:
    policy = LockoutPolicy()
    assert policy.locked_until(minutes(0, 1, 2, 3), 5, T0 + timedelta(minutes=3)) is None
    assert policy.locked_until(minutes(0, 4, 8, 12, 16), 5, T0 + timedelta(minutes=16)) is None


def test_the_delay_grows_with_each_failure_up_to_a_ceiling() -> None:
    policy = LockoutPolicy()
    delays = [policy.delay_after(n) for n in range(1, 20)]
    assert delays == sorted(delays)
    assert delays[0] > 0
    assert delays[-1] == policy.max_delay


def test_a_town_admin_needs_a_town_and_a_coordinator_has_none() -> None:
    check_role_and_town(StaffRole.TOWN_ADMIN, "menden")
    check_role_and_town(StaffRole.COORDINATOR, None)
    with pytest.raises(StaffRuleViolated):
        check_role_and_town(StaffRole.TOWN_ADMIN, None)
    with pytest.raises(StaffRuleViolated):
        check_role_and_town(StaffRole.COORDINATOR, "olpe")


def test_passwords_under_twelve_characters_are_refused() -> None:
    with pytest.raises(StaffRuleViolated):
        check_password("elf-zeichen")
    check_password("zwoelf-zeich")


# --- the permission table


def test_every_action_names_known_roles_and_the_extra_rules_name_known_actions() -> None:
    for action, roles in PERMISSIONS.items():
        assert roles and roles <= set(ROLES), action
    assert TOWN_SCOPED <= set(PERMISSIONS)
    assert CONFIRMED_ONLY <= set(PERMISSIONS)
    assert CONFIRMED_ONLY <= TOWN_SCOPED


@pytest.mark.parametrize("action", sorted(PERMISSIONS))
def test_nobody_anonymous_may_do_anything_in_the_table(action: str) -> None:
    town = "menden" if action in TOWN_SCOPED else None
    with pytest.raises(ApiError) as refused:
        require(ANONYMOUS, action, town)
    assert refused.value.status == 401


def test_an_admin_of_menden_never_acts_in_olpe() -> None:
    for action in TOWN_SCOPED:
        assert not can(ADMIN_MENDEN, action, "olpe"), action
        with pytest.raises(ApiError) as refused:
            require(ADMIN_MENDEN, action, "olpe")
        assert refused.value.status == 403
    for action in ("consultation.manage", "moderation", "idea.decide", "town_results.read"):
        assert can(ADMIN_MENDEN, action, "menden")


def test_coordinators_read_every_towns_results_but_moderate_nowhere() -> None:
    for town in ("menden", "olpe"):
        assert can(COORDINATOR, "town_results.read", town)
        assert not can(COORDINATOR, "moderation", town)
        assert not can(COORDINATOR, "consultation.manage", town)
    for action in ("catalogue.write", "measure.status", "regional_results.read", "deliveries.read"):
        assert can(COORDINATOR, action)
        assert not can(ADMIN_MENDEN, action)
        assert not can(CITIZEN_MENDEN, action)


def test_citizens_take_part_in_their_own_town_once_confirmed() -> None:
    assert can(CITIZEN_MENDEN, "rating.write", "menden")
    assert not can(CITIZEN_MENDEN, "rating.write", "olpe")
    assert not can(UNCONFIRMED_MENDEN, "rating.write", "menden")
    assert can(UNCONFIRMED_MENDEN, "citizen.self", "menden")  # may see and delete their data
    with pytest.raises(ApiError, match="bestätigen"):
        require(UNCONFIRMED_MENDEN, "comment.write", "menden")
    assert not can(ADMIN_MENDEN, "rating.write", "menden")


def test_a_town_scoped_action_without_a_town_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        can(ADMIN_MENDEN, "moderation")
    with pytest.raises(KeyError):
        can(ADMIN_MENDEN, "no.such.action")


# --- citizens' signed sessions and principals from requests


def session(confirmed: bool = True) -> CitizenSession:
    return CitizenSession(citizen_id=uuid.uuid4(), town="menden", display_name="Anna M.",
                          confirmed=confirmed)


def request(headers: dict[str, str] | None = None, cookies: dict[str, str] | None = None) -> Request:
    builder = EnvironBuilder(path="/", headers=headers or {})
    for name, value in (cookies or {}).items():
        builder.headers.add("Cookie", f"{name}={value}")
    return Request(builder.get_environ())


def test_a_citizen_session_cookie_is_signed_http_only_lax_and_secure_on_https() -> None:
    response = Response()
    bearer = issue_citizen_session(response, session(), SETTINGS)
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith(f"{CITIZEN_COOKIE}=")
    for flag in ("HttpOnly", "SameSite=Lax", "Secure", "Path=/", "Max-Age=2592000"):
        assert flag in cookie
    assert bearer.startswith("c.")
    end = Response()
    end_citizen_session(end)
    assert 'soesmart_citizen=""' in end.headers["Set-Cookie"] or "Max-Age=0" in end.headers["Set-Cookie"]


def test_a_forged_tampered_or_old_citizen_session_is_nobody() -> None:
    value = sign_citizen(session(), SETTINGS)
    assert read_citizen(value, SETTINGS) is not None
    assert read_citizen(value, Settings(secret_key="another-key")) is None
    body, _, sig = value.rpartition(".")
    assert read_citizen(body[:-2] + "xx." + sig, SETTINGS) is None
    old = sign_citizen(session(), SETTINGS, issued_at=int(time.time()) - 31 * 86400)
    assert read_citizen(old, SETTINGS) is None


def test_principals_come_from_bearer_values_and_cookies() -> None:
    s = session(confirmed=False)
    bearer = "c." + sign_citizen(s, SETTINGS)
    by_bearer = principal_from_request(request({"Authorization": f"Bearer {bearer}"}), SETTINGS)
    assert (by_bearer.role, by_bearer.town, by_bearer.citizen_id, by_bearer.confirmed) == \
        ("citizen", "menden", s.citizen_id, False)
    by_cookie = principal_from_request(
        request(cookies={CITIZEN_COOKIE: sign_citizen(s, SETTINGS)}), SETTINGS)
    assert by_cookie.citizen_id == s.citizen_id

    service = principal_from_request(
        request({"Authorization": "Bearer coordinator-service-token"}), SETTINGS)
    assert service.role == "coordinator" and service.name

    for header in ("Bearer wrong", "Bearer c.forged.value", "Basic abc", "Bearer "):
        assert principal_from_request(request({"Authorization": header}), SETTINGS) == ANONYMOUS
    assert principal_from_request(request(), SETTINGS) == ANONYMOUS
