"""The network with OpenID sign-in configured: a real provider (oidc-provider) with test
clients and accounts, a crafted in-test provider, and one provider that is down."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import requests

from tests.support.crafted_provider import CraftedProvider
from tests.support.infra import create_vhost, delete_vhost, free_port
from tests.support.network import Network
from tests.support.oidc_provider import OidcProvider

SECRET = "test-client-secret-0123456789"
SECRET_ENV = "OIDC_TEST_CLIENT_SECRET"

# The test provider's accounts: a login names one (no password: a test provider).
ACCOUNTS: dict[str, dict[str, Any]] = {
    "soest-admin": {"email": "verwaltung.test@soest.example", "email_verified": True,
                    "name": "Testkonto Verwaltung Soest", "groups": ["soesmart-admins"]},
    "coordinator": {"email": "koordination.test@region.example", "email_verified": True,
                    "name": "Testkonto Koordination", "groups": ["soesmart-koordination"]},
    "no-role": {"email": "ohne.rolle@soest.example", "email_verified": True,
                "name": "Testkonto ohne Rolle", "groups": ["kantine"]},
    "citizen-soest": {"email": "buerger.soest@example.org", "email_verified": True,
                      "name": "Testperson Soest", "acr": "substantial",
                      "address": {"postal_code": "59494", "locality": "Soest"}},
    "citizen-arnsberg": {"email": "buerger.arnsberg@example.org", "email_verified": True,
                         "name": "Testperson Arnsberg", "acr": "substantial",
                         "address": {"postal_code": "59755", "locality": "Arnsberg"}},
}
CLIENTS = {"soest": "soesmart-soest", "region": "soesmart-region", "servicekonto": "soesmart-bkonto"}


def identity_toml(issuer: str, crafted: str, down: str) -> str:
    def staff(pid: str, name: str, client: str, iss: str, rules: str, town: str = "") -> str:
        town_line = f'town = "{town}"\n' if town else ""
        return (f'[[provider]]\nid = "{pid}"\naudience = "staff"\nname = "{name}"\n'
                f'issuer = "{iss}"\nclient_id = "{client}"\nclient_secret_env = "{SECRET_ENV}"\n'
                f'scopes = ["openid", "email", "profile", "groups"]\n{town_line}{rules}\n')

    soest_admins = ('[[provider.role]]\nclaim = "groups"\nvalue = "soesmart-admins"\n'
                    'role = "town_admin"\ntown = "soest"\n')
    coordinators = ('[[provider.role]]\nclaim = "groups"\nvalue = "soesmart-koordination"\n'
                    'role = "coordinator"\n')
    return (
        'no_password_sign_in = ["soest"]\n\n'
        + staff("soest", "Stadtverwaltung Soest (Test)", CLIENTS["soest"], issuer, soest_admins, "soest")
        + staff("region", "Region (Test)", CLIENTS["region"], issuer, coordinators)
        + staff("crafted", "Crafted (Test)", "soesmart-crafted", crafted, soest_admins, "soest")
        + staff("down", "Down (Test)", "soesmart-down", down, soest_admins, "soest")
        + f'[[provider]]\nid = "servicekonto"\naudience = "citizens"\nname = "ServiceKonto"\n'
          f'issuer = "{issuer}"\nclient_id = "{CLIENTS["servicekonto"]}"\n'
          f'client_secret_env = "{SECRET_ENV}"\nscopes = ["openid", "email", "profile", "address"]\n'
          'towns = ["soest", "arnsberg", "bad-berleburg", "menden", "olpe"]\n'
    )


def provider_clients(gateway: str) -> list[dict[str, Any]]:
    def client(client_id: str, callback: str) -> dict[str, Any]:
        return {"client_id": client_id, "client_secret": SECRET, "redirect_uris": [gateway + callback],
                "post_logout_redirect_uris": [gateway + "/verwaltung/anmelden?abgemeldet=1"],
                "grant_types": ["authorization_code"], "response_types": ["code"]}

    return [client(CLIENTS["soest"], "/verwaltung/anmelden/idp/soest/rueckkehr"),
            client(CLIENTS["region"], "/verwaltung/anmelden/idp/region/rueckkehr"),
            client(CLIENTS["servicekonto"], "/anmelden/idp/servicekonto/rueckkehr")]


@dataclass
class OidcWorld:
    net: Network
    provider: OidcProvider
    crafted: CraftedProvider


@contextmanager
def oidc_world(data_dir: Path) -> Iterator[OidcWorld]:
    vhost, url = create_vhost()
    gateway_port = free_port()
    gateway = f"http://127.0.0.1:{gateway_port}"
    provider = OidcProvider(free_port(), provider_clients(gateway), ACCOUNTS, data_dir)
    crafted = CraftedProvider("soesmart-crafted")
    identity = data_dir / "identity.toml"
    identity.write_text(identity_toml(provider.issuer, crafted.issuer,
                                      f"http://127.0.0.1:{free_port()}"), encoding="utf-8")
    net = Network(data_dir=data_dir, broker_url=url, vhost=vhost, port=gateway_port,
                  extra_env={"SOESMART_IDENTITY_FILE": str(identity), SECRET_ENV: SECRET,
                             "SOESMART_SUBJECT_HASH_KEY": "test-subject-key",
                             "SOESMART_OIDC_TIMEOUT": "2"})
    try:
        provider.start()
        crafted.start()
        net.start(wait=False)
        net.wait_ready(timeout=180)  # ten processes start on a shared 2-core machine
        yield OidcWorld(net, provider, crafted)
    finally:
        net.stop()
        provider.stop()
        crafted.stop()
        delete_vhost(vhost)


def sign_in_at_provider(session: requests.Session, start_url: str, login: str) -> requests.Response:
    """Follow a sign-in from our start page through the provider's form, up to (not into)
    the redirect back to the gateway; returns that redirect."""
    r = session.get(start_url, allow_redirects=False)
    assert r.status_code == 303, r.text[:300]
    location = r.headers["Location"]
    while True:
        r = session.get(location, allow_redirects=False)
        if r.status_code == 200:
            break
        assert r.status_code in (302, 303), r.text[:300]
        location = urljoin(location, r.headers["Location"])
    action = re.search(r'action="([^"]+)"', r.text)
    assert action, r.text[:300]
    r = session.post(urljoin(location, action.group(1)), data={"login": login}, allow_redirects=False)
    while r.status_code in (302, 303):
        target = urljoin(location, r.headers["Location"])
        if "/rueckkehr" in urlsplit(target).path:
            r.headers["Location"] = target
            return r
        r = session.get(target, allow_redirects=False)
    raise AssertionError(f"the provider did not send the browser back: {r.status_code} {r.text[:300]}")


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
