"""An OpenID Connect relying party: discovery, keys, the code flow with PKCE, ID token checks.

Authlib's requests client builds the authorization request (PKCE S256) and redeems the
code; joserfc (Authlib's JOSE library) checks the ID token: signature against the
provider's published keys, issuer, audience (and `azp`), expiry, issued-at and nonce.
Discovery documents and key sets are fetched with a timeout and kept for an hour; an
unknown key id fetches the keys again once (the provider rotated them).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import requests
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwt
from joserfc.errors import (
    BadSignatureError,
    ExpiredTokenError,
    InvalidClaimError,
    InvalidKeyIdError,
    JoseError,
    MissingClaimError,
)
from joserfc.jwk import KeySet

from services.gateway.domain.identity import ProviderConfig, ProviderUnavailable, SignInRefused

CACHE_SECONDS = 3600.0
REFETCH_KEYS_AFTER = 60.0  # at most one extra key fetch a minute for unknown key ids
LEEWAY = 60  # seconds of clock difference accepted for exp/iat
ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"]


@dataclass
class _Cached:
    value: Any
    fetched_at: float


_cache: dict[str, _Cached] = {}
_lock = threading.Lock()


def forget_cache() -> None:
    with _lock:
        _cache.clear()


def _get_json(url: str, timeout: float) -> dict[str, Any]:
    try:
        response = requests.get(url, timeout=timeout, headers={"Accept": "application/json"})
        response.raise_for_status()
        data = response.json()
    except (requests.RequestException, ValueError):
        raise ProviderUnavailable() from None
    if not isinstance(data, dict):
        raise ProviderUnavailable()
    return data


def _cached_json(url: str, timeout: float, max_age: float = CACHE_SECONDS) -> dict[str, Any]:
    now = time.monotonic()
    with _lock:
        hit = _cache.get(url)
    if hit is not None and now - hit.fetched_at < max_age:
        return hit.value  # type: ignore[no-any-return]
    data = _get_json(url, timeout)
    with _lock:
        _cache[url] = _Cached(data, now)
    return data


@dataclass(frozen=True)
class AuthorizationRequest:
    url: str
    state: str
    nonce: str
    code_verifier: str


class OpenIDClient:
    """One configured provider, seen from the gateway (a relying party)."""

    def __init__(self, provider: ProviderConfig, redirect_uri: str, timeout: float = 5.0) -> None:
        self.provider = provider
        self.redirect_uri = redirect_uri
        self.timeout = timeout

    # --- the provider's documents
    def metadata(self) -> dict[str, Any]:
        meta = _cached_json(self.provider.issuer + "/.well-known/openid-configuration", self.timeout)
        if meta.get("issuer", "").rstrip("/") != self.provider.issuer:
            # the document of another provider (RFC 8414 section 3.3): never trust it
            raise ProviderUnavailable("discovery_issuer_mismatch")
        for key in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            if not isinstance(meta.get(key), str):
                raise ProviderUnavailable("discovery_incomplete")
        return meta

    def keys(self, refresh: bool = False) -> KeySet:
        url = self.metadata()["jwks_uri"]
        data = _cached_json(url, self.timeout, REFETCH_KEYS_AFTER if refresh else CACHE_SECONDS)
        try:
            return KeySet.import_key_set(data)  # type: ignore[arg-type]
        except (JoseError, ValueError, KeyError, TypeError):
            raise ProviderUnavailable("jwks_unreadable") from None

    def end_session_endpoint(self) -> str | None:
        try:
            value = self.metadata().get("end_session_endpoint")
        except ProviderUnavailable:
            return None
        return value if isinstance(value, str) else None

    def _session(self, state: str | None = None) -> OAuth2Session:
        return OAuth2Session(self.provider.client_id, self.provider.client_secret,
                             scope=" ".join(self.provider.scopes), redirect_uri=self.redirect_uri,
                             code_challenge_method="S256", state=state,
                             token_endpoint_auth_method="client_secret_basic")

    # --- the flow
    def authorization_request(self, state: str, nonce: str, code_verifier: str) -> AuthorizationRequest:
        endpoint = self.metadata()["authorization_endpoint"]
        url, _ = self._session().create_authorization_url(
            endpoint, state=state, nonce=nonce, code_verifier=code_verifier,
            **dict(self.provider.extra_authorize_params))
        return AuthorizationRequest(url, state, nonce, code_verifier)

    def redeem(self, code: str, code_verifier: str, nonce: str) -> dict[str, Any]:
        """Exchange the code (with the PKCE verifier) and return the checked ID token's claims."""
        token_endpoint = self.metadata()["token_endpoint"]
        try:
            token = self._session().fetch_token(
                token_endpoint, grant_type="authorization_code", code=code,
                code_verifier=code_verifier, timeout=self.timeout)
        except OAuthError as exc:  # the provider refused: a reused, expired or foreign code
            raise SignInRefused(f"token_{exc.error or 'refused'}") from None
        except requests.RequestException:
            raise ProviderUnavailable("token_endpoint_unreachable") from None
        except ValueError:
            raise ProviderUnavailable("token_endpoint_unreadable") from None
        id_token = token.get("id_token")
        if not isinstance(id_token, str):
            raise SignInRefused("id_token_missing")
        return self.check_id_token(id_token, nonce)

    def check_id_token(self, id_token: str, nonce: str) -> dict[str, Any]:
        token = self._decode(id_token)
        claims = dict(token.claims)
        registry = jwt.JWTClaimsRegistry(
            leeway=LEEWAY,
            iss={"essential": True, "value": self.provider.issuer},
            aud={"essential": True, "value": self.provider.client_id},
            sub={"essential": True}, exp={"essential": True}, iat={"essential": True},
            nonce={"essential": True, "value": nonce},
        )
        try:
            registry.validate(claims)
        except ExpiredTokenError:
            raise SignInRefused("id_token_expired") from None
        except (InvalidClaimError, MissingClaimError) as exc:
            raise SignInRefused(f"id_token_{_claim_name(exc)}") from None
        except JoseError:
            raise SignInRefused("id_token_claims") from None
        audience = claims["aud"]
        if isinstance(audience, list) and len(audience) > 1 \
                and claims.get("azp") != self.provider.client_id:
            raise SignInRefused("id_token_aud")
        return claims

    def _decode(self, id_token: str) -> jwt.Token:
        for refresh in (False, True):
            try:
                return jwt.decode(id_token, self.keys(refresh=refresh), algorithms=ALGORITHMS)
            except BadSignatureError:
                raise SignInRefused("id_token_signature") from None
            except InvalidKeyIdError:
                if refresh:  # not among the provider's keys even after fetching them again
                    raise SignInRefused("id_token_signature") from None
            except JoseError:
                raise SignInRefused("id_token_unreadable") from None
            except (ValueError, TypeError):
                raise SignInRefused("id_token_unreadable") from None
        raise SignInRefused("id_token_unreadable")  # pragma: no cover - the loop returns or raises


def _claim_name(exc: JoseError) -> str:
    name = getattr(exc, "claim", "") or ""
    return name if name in ("iss", "aud", "sub", "exp", "iat", "nonce") else "claims"


def logout_url(endpoint: str, client_id: str, after: str, id_token_hint: str | None = None) -> str:
    from urllib.parse import urlencode

    query: Mapping[str, str] = {"client_id": client_id, "post_logout_redirect_uri": after}
    if id_token_hint:
        query = {**query, "id_token_hint": id_token_hint}
    return endpoint + ("&" if "?" in endpoint else "?") + urlencode(query)
