"""The client address for rate limits and lockouts, with and without trusted proxies."""

from __future__ import annotations

from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from services.gateway.web.clients import client_address, client_key
from soesmart.config import Settings


def _request(forwarded: str | None = None, remote: str = "10.0.0.2") -> Request:
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    return Request(EnvironBuilder(path="/", headers=headers,
                                  environ_base={"REMOTE_ADDR": remote}).get_environ())


def test_without_trusted_proxies_the_header_is_ignored() -> None:
    settings = Settings(trusted_proxies=0)
    assert client_address(_request("203.0.113.9"), settings) == "10.0.0.2"


def test_behind_one_proxy_the_address_it_saw_counts_not_what_the_client_wrote() -> None:
    settings = Settings(trusted_proxies=1)
    assert client_address(_request("203.0.113.9"), settings) == "203.0.113.9"
    # a client that sends its own X-Forwarded-For cannot choose its key
    assert client_address(_request("1.2.3.4, 203.0.113.9"), settings) == "203.0.113.9"
    assert client_address(_request(), settings) == "10.0.0.2"


def test_behind_two_proxies() -> None:
    settings = Settings(trusted_proxies=2)
    assert client_address(_request("1.2.3.4, 203.0.113.9, 10.0.0.7"), settings) == "203.0.113.9"


def test_the_key_is_opaque_and_stable() -> None:
    settings = Settings(secret_key="s" * 32)
    key = client_key(_request(), settings)
    assert key == client_key(_request(), settings) and "10.0.0.2" not in key and len(key) == 32
