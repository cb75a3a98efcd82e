"""Rules of sign-in through an OpenID provider: which provider serves whom, roles from claims.

Plain rules without framework imports. A provider is configured for the staff (a town's
own directory, or the region's) or for citizens (ServiceKonto.NRW / BundID style); the
configuration file is read by `adapters.identity_config`.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from services.gateway.domain.staff import StaffRole

Audience = Literal["staff", "citizens"]


@dataclass(frozen=True)
class RoleRule:
    """`claim` (a dotted path into the ID token) equals or contains `value`: grants the role."""

    claim: str
    value: str
    role: StaffRole
    town: str | None = None


@dataclass(frozen=True)
class ProviderConfig:
    id: str  # in URLs: /verwaltung/anmelden/idp/<id>
    audience: Audience
    name: str  # on the button: "Anmelden mit …"
    issuer: str
    client_id: str
    client_secret: str
    scopes: tuple[str, ...] = ("openid", "email", "profile")
    # staff: the town whose directory this is (None: the region's); what it may grant
    town: str | None = None
    roles: tuple[RoleRule, ...] = ()
    # citizens: the towns that show the button, and where the residence is read
    towns: tuple[str, ...] = ()
    postcode_claim: str = "address.postal_code"
    municipality_claim: str = "address.locality"
    trust_claim: str = "acr"
    display_name_claim: str = "name"
    extra_authorize_params: Mapping[str, str] = field(default_factory=dict)

    def may_grant(self, rule: RoleRule) -> bool:
        """A town's directory speaks only for its own staff; the region's for everyone."""
        if self.town is None:
            return True
        return rule.role is StaffRole.TOWN_ADMIN and rule.town == self.town


class IdentityConfigInvalid(ValueError):
    """The identity providers file says something that cannot work."""


def check_provider(p: ProviderConfig, town_slugs: Iterable[str]) -> None:
    slugs = set(town_slugs)
    if "openid" not in p.scopes:
        raise IdentityConfigInvalid(f"provider {p.id}: scopes must include openid")
    if p.audience == "staff":
        if p.town is not None and p.town not in slugs:
            raise IdentityConfigInvalid(f"provider {p.id}: unknown town {p.town}")
        for rule in p.roles:
            if rule.role is StaffRole.TOWN_ADMIN and rule.town not in slugs:
                raise IdentityConfigInvalid(f"provider {p.id}: a town admin rule needs a known town")
            if rule.role is StaffRole.COORDINATOR and rule.town:
                raise IdentityConfigInvalid(f"provider {p.id}: a coordinator rule has no town")
            if not p.may_grant(rule):
                raise IdentityConfigInvalid(
                    f"provider {p.id}: the directory of {p.town} may only make admins of {p.town}")
        if not p.roles:
            raise IdentityConfigInvalid(f"provider {p.id}: a staff provider needs role rules")
    else:
        unknown = set(p.towns) - slugs
        if unknown:
            raise IdentityConfigInvalid(f"provider {p.id}: unknown towns {sorted(unknown)}")


def claim(claims: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted path (`address.postal_code`), or None."""
    value: Any = claims
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def _matches(value: Any, wanted: str) -> bool:
    if isinstance(value, list | tuple):
        return any(str(v) == wanted for v in value)
    return value is not None and str(value) == wanted


@dataclass(frozen=True)
class GrantedRole:
    role: StaffRole
    town: str | None


def staff_role(provider: ProviderConfig, claims: Mapping[str, Any]) -> GrantedRole | None:
    """The role the claims grant, or None. A coordinator rule wins over a town's admin rule;
    among town rules the first that matches."""
    matched = [r for r in provider.roles
               if provider.may_grant(r) and _matches(claim(claims, r.claim), r.value)]
    for rule in matched:
        if rule.role is StaffRole.COORDINATOR:
            return GrantedRole(StaffRole.COORDINATOR, None)
    for rule in matched:
        return GrantedRole(StaffRole.TOWN_ADMIN, rule.town)
    return None


def subject_hash(key: str, issuer: str, subject: str) -> str:
    """A keyed hash of the provider's identifier: the same person is recognised, and a copy
    of the database does not say who they are at the provider."""
    message = f"{issuer}\n{subject}".encode()
    return hmac.new(key.encode("utf-8"), message, hashlib.sha256).hexdigest()


def text_claim(claims: Mapping[str, Any], path: str, limit: int = 200) -> str | None:
    value = claim(claims, path)
    if isinstance(value, str | int) and str(value).strip():
        return str(value).strip()[:limit]
    return None


class SignInRefused(Exception):
    """A sign-in through a provider that must not go on; `reason` is a short code for the
    operator's log and the page's text (never personal data)."""

    def __init__(self, reason: str, status: int = 400) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


class ProviderUnavailable(SignInRefused):
    """The provider did not answer, or not as a provider does (discovery, keys, token)."""

    def __init__(self, reason: str = "provider_unavailable") -> None:
        super().__init__(reason, 503)
