"""The identity providers file (SOESMART_IDENTITY_FILE, TOML): which OpenID providers sign in whom.

Client secrets are not written into the file: `client_secret_env` names an environment
variable (a Kubernetes Secret, a compose `.env`), `client_secret_file` a file holding it.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from services.gateway.domain.identity import (
    IdentityConfigInvalid,
    ProviderConfig,
    RoleRule,
    check_provider,
)
from services.gateway.domain.staff import StaffRole
from soesmart.config import Settings
from soesmart.towns import towns

REGION = "region"
KNOWN_KEYS = {"id", "audience", "name", "issuer", "client_id", "client_secret_env",
              "client_secret_file", "scopes", "town", "role", "towns", "postcode_claim",
              "municipality_claim", "trust_claim", "display_name_claim", "authorize_params"}


@dataclass(frozen=True)
class IdentityConfig:
    providers: tuple[ProviderConfig, ...] = ()
    # towns (slugs) whose admins may not sign in with a password; "region": coordinators
    no_password_sign_in: frozenset[str] = frozenset()

    def provider(self, provider_id: str) -> ProviderConfig | None:
        return next((p for p in self.providers if p.id == provider_id), None)

    def staff_providers(self) -> list[ProviderConfig]:
        return [p for p in self.providers if p.audience == "staff"]

    def citizen_providers(self, town: str) -> list[ProviderConfig]:
        return [p for p in self.providers if p.audience == "citizens" and town in p.towns]

    def password_allowed(self, town: str | None) -> bool:
        return (town or REGION) not in self.no_password_sign_in

    def staff_origins(self) -> tuple[str, ...]:
        """Origins of the staff providers: signing out sends the browser to their end-session
        page, so the pages' CSP `form-action` names them."""
        origins: list[str] = []
        for p in self.staff_providers():
            parts = urlsplit(p.issuer)
            if f"{parts.scheme}://{parts.netloc}" not in origins:
                origins.append(f"{parts.scheme}://{parts.netloc}")
        return tuple(origins)

    @property
    def password_anywhere(self) -> bool:
        return any(self.password_allowed(t) for t in [None, *towns().slugs])


def _secret(raw: dict[str, Any], pid: str) -> str:
    if raw.get("client_secret_env"):
        value = os.environ.get(str(raw["client_secret_env"]), "")
    elif raw.get("client_secret_file"):
        value = Path(str(raw["client_secret_file"])).read_text(encoding="utf-8").strip()
    else:
        raise IdentityConfigInvalid(f"provider {pid}: client_secret_env or client_secret_file")
    if not value:
        raise IdentityConfigInvalid(f"provider {pid}: its client secret is empty")
    return value


def _provider(raw: dict[str, Any]) -> ProviderConfig:
    pid = str(raw.get("id", ""))
    unknown = set(raw) - KNOWN_KEYS
    if unknown:
        raise IdentityConfigInvalid(f"provider {pid}: unknown keys {sorted(unknown)}")
    if not pid.replace("-", "").isalnum() or pid.lower() != pid:
        raise IdentityConfigInvalid(f"provider id {pid!r}: lower-case letters, digits and '-'")
    try:
        rules = tuple(RoleRule(claim=str(r["claim"]), value=str(r["value"]),
                               role=StaffRole(r["role"]), town=r.get("town"))
                      for r in raw.get("role", []))
        return ProviderConfig(
            id=pid, audience=raw["audience"], name=str(raw["name"]),
            issuer=str(raw["issuer"]).rstrip("/"), client_id=str(raw["client_id"]),
            client_secret=_secret(raw, pid),
            scopes=tuple(raw.get("scopes", ("openid", "email", "profile"))),
            town=raw.get("town"), roles=rules, towns=tuple(raw.get("towns", ())),
            **{k: str(raw[k]) for k in ("postcode_claim", "municipality_claim", "trust_claim",
                                        "display_name_claim") if k in raw},
            extra_authorize_params={str(k): str(v)
                                    for k, v in raw.get("authorize_params", {}).items()},
        )
    except (KeyError, ValueError) as exc:
        raise IdentityConfigInvalid(f"provider {pid}: {exc}") from None


def parse_identity_config(text: str) -> IdentityConfig:
    data = tomllib.loads(text)
    providers = tuple(_provider(raw) for raw in data.get("provider", []))
    ids = [p.id for p in providers]
    if len(set(ids)) != len(ids):
        raise IdentityConfigInvalid("provider ids must be unique")
    for p in providers:
        if p.audience not in ("staff", "citizens"):
            raise IdentityConfigInvalid(f"provider {p.id}: audience is staff or citizens")
        check_provider(p, towns().slugs)
    off = frozenset(str(s) for s in data.get("no_password_sign_in", []))
    if off - {REGION, *towns().slugs}:
        raise IdentityConfigInvalid(f"no_password_sign_in: unknown {sorted(off - {REGION})}")
    return IdentityConfig(providers, off)


@lru_cache(maxsize=8)
def _load(path: str) -> IdentityConfig:
    return parse_identity_config(Path(path).read_text(encoding="utf-8"))


def identity_config(settings: Settings) -> IdentityConfig:
    """The providers of this process (read once per file); none without SOESMART_IDENTITY_FILE."""
    if settings.identity_file is None:
        return IdentityConfig()
    return _load(str(settings.identity_file))
