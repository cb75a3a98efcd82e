"""The one place that decides who may do what: principals, the permission table, `require`.

Every route that needs more than "anyone" asks `require(principal, action, town)`.
A principal comes from the request: `Authorization: Bearer s.<staff token>`,
`Bearer c.<citizen session>` or `Bearer <SOESMART_COORDINATOR_TOKEN>` (a service
credential with the coordinator role, for scripts), else the cookies `soesmart_staff`
and `soesmart_citizen`; anonymous otherwise. A credential that is presented but not
valid (expired, revoked, forged) counts as anonymous, so the answer is 401.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Literal

from werkzeug.wrappers import Request

from services.gateway.web.citizen_sessions import BEARER_PREFIX as CITIZEN_PREFIX
from services.gateway.web.citizen_sessions import (  # noqa: F401 - re-exported for the routes
    CITIZEN_COOKIE,
    end_citizen_session,
    issue_citizen_session,
    read_citizen,
)
from services.gateway.web.errors import ApiError
from soesmart.config import Settings
from soesmart.secrets_compare import same_secret

Role = Literal["anonymous", "citizen", "town_admin", "coordinator"]
ROLES: tuple[Role, ...] = ("anonymous", "citizen", "town_admin", "coordinator")

STAFF_COOKIE = "soesmart_staff"
STAFF_PREFIX = "s."
SERVICE_COORDINATOR_NAME = "Regionale Koordination"


@dataclass(frozen=True)
class Principal:
    role: Role
    name: str  # display name / staff name; used as `actor` in commands
    town: str | None = None  # citizen's or town admin's town
    citizen_id: uuid.UUID | None = None
    confirmed: bool = False  # citizens only
    staff_id: str | None = None

    @property
    def is_staff(self) -> bool:
        return self.role in ("town_admin", "coordinator")


ANONYMOUS = Principal(role="anonymous", name="")

CITIZEN: frozenset[str] = frozenset({"citizen"})
TOWN_ADMIN: frozenset[str] = frozenset({"town_admin"})
COORDINATOR: frozenset[str] = frozenset({"coordinator"})
STAFF: frozenset[str] = TOWN_ADMIN | COORDINATOR

# action -> roles allowed. Actions in TOWN_SCOPED also need principal.town == town for
# citizens and town admins (a coordinator's reach is the region); actions in
# CONFIRMED_ONLY need a citizen whose address is confirmed.
PERMISSIONS: dict[str, frozenset[str]] = {
    # citizens, in their own town
    "rating.write": CITIZEN,
    "comment.write": CITIZEN,
    "comment.flag": CITIZEN,
    "idea.write": CITIZEN,
    "citizen.self": CITIZEN,  # "Meine Daten": read, change, delete
    # town admins, in their own town only; coordinators do not run consultations
    "consultation.manage": TOWN_ADMIN,
    "moderation": TOWN_ADMIN,
    "idea.decide": TOWN_ADMIN,
    "paper.enter": TOWN_ADMIN,  # print questionnaires, enter and import returned sheets
    # a town's results: its admins, and the coordinators for every town
    "town_results.read": STAFF,
    "town.overview": STAFF,  # the staff pages of one town (/verwaltung/stadt/<town>)
    # the region
    "catalogue.write": COORDINATOR,
    "measure.status": COORDINATOR,
    "regional_results.read": COORDINATOR,
    "deliveries.read": COORDINATOR,
    # any signed-in staff member
    "staff.area": STAFF,
}
TOWN_SCOPED: frozenset[str] = frozenset({
    "rating.write", "comment.write", "comment.flag", "idea.write", "citizen.self",
    "consultation.manage", "moderation", "idea.decide", "town_results.read", "town.overview",
    "paper.enter",
})
CONFIRMED_ONLY: frozenset[str] = frozenset({"rating.write", "comment.write", "comment.flag",
                                            "idea.write"})


def can(principal: Principal, action: str, town: str | None = None) -> bool:
    """Whether `principal` may do `action` (in `town`, for town-scoped actions)."""
    allowed = PERMISSIONS[action]  # an unknown action is a programming error
    if action in TOWN_SCOPED and town is None:
        raise ValueError(f"{action} is town-scoped: say which town")
    if principal.role not in allowed:
        return False
    if action in TOWN_SCOPED and principal.role in ("citizen", "town_admin") \
            and principal.town != town:
        return False
    if action in CONFIRMED_ONLY and principal.role == "citizen" and not principal.confirmed:
        return False
    return True


def require(principal: Principal, action: str, town: str | None = None) -> Principal:
    """Return the principal if it may do `action`; else 401 (anonymous) or 403."""
    if can(principal, action, town):
        return principal
    if principal.role == "anonymous":
        raise ApiError("UNAUTHORIZED", "Bitte melden Sie sich an.")
    if principal.role == "citizen" and principal.role in PERMISSIONS[action] \
            and action in CONFIRMED_ONLY and not principal.confirmed \
            and (action not in TOWN_SCOPED or principal.town == town):
        raise ApiError("FORBIDDEN", "Bitte bestätigen Sie zuerst Ihre E-Mail-Adresse über den "
                                    "Link, den wir Ihnen geschickt haben.")
    raise ApiError("FORBIDDEN", "Dazu sind Sie nicht berechtigt.")


_ENVIRON_KEY = "soesmart.principal"


def principal_from_request(request: Request, settings: Settings) -> Principal:
    """Who sent this request; looked up once per request (JSON routes and pages alike)."""
    cached = request.environ.get(_ENVIRON_KEY)
    if cached is None:
        cached = request.environ[_ENVIRON_KEY] = _resolve(request, settings)
    return cached


def _resolve(request: Request, settings: Settings) -> Principal:
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, value = header.partition(" ")
        value = value.strip()
        if scheme.lower() != "bearer" or not value:
            return ANONYMOUS
        return _from_bearer(value, settings)
    staff_token = request.cookies.get(STAFF_COOKIE)
    if staff_token:
        principal = _staff(staff_token, settings)
        if principal is not None:
            return principal
    citizen = request.cookies.get(CITIZEN_COOKIE)
    if citizen:
        return _citizen(citizen, settings) or ANONYMOUS
    return ANONYMOUS


def _from_bearer(value: str, settings: Settings) -> Principal:
    expected = settings.coordinator_token
    if same_secret(value, expected):
        return Principal(role="coordinator", name=SERVICE_COORDINATOR_NAME)
    if value.startswith(STAFF_PREFIX):
        return _staff(value[len(STAFF_PREFIX):], settings) or ANONYMOUS
    if value.startswith(CITIZEN_PREFIX):
        return _citizen(value[len(CITIZEN_PREFIX):], settings) or ANONYMOUS
    return ANONYMOUS


def _staff(token: str, settings: Settings) -> Principal | None:
    from services.gateway.service_layer.staff import staff_accounts_for

    account = staff_accounts_for(settings).authenticate(token)
    if account is None:
        return None
    return Principal(role=account.role.value, name=account.display_name, town=account.town,
                     staff_id=account.id)


def _citizen(value: str, settings: Settings) -> Principal | None:
    citizen = read_citizen(value, settings)
    if citizen is None:
        return None
    return Principal(role="citizen", name=citizen.display_name, town=citizen.town,
                     citizen_id=citizen.citizen_id, confirmed=citizen.confirmed)
