"""Staff sign in as a person and as a script would: the form, the token API, the lockout."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator

import pytest
import requests

from tests.support.infra import create_vhost, delete_vhost
from tests.support.network import Network

PASSWORD = "menden-verwaltung-2026"


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    vhost, url = create_vhost()
    # Served as if behind HTTPS, so cookies must carry Secure; no demo accounts.
    net = Network(data_dir=tmp_path_factory.mktemp("staff"), broker_url=url, vhost=vhost,
                  extra_env={"SOESMART_PUBLIC_URL": "https://beteiligung.example",
                             "SOESMART_DEMO": "false"})
    try:
        for email, name, town in [("anna.admin@menden.example", "Anna Admin", "menden"),
                                  ("bernd.admin@menden.example", "Bernd Admin", "menden")]:
            created = subprocess.run(
                [sys.executable, "-m", "launcher.cli", "staff", "create", "--email", email,
                 "--name", name, "--role", "town_admin", "--town", town],
                env={**net.env(), "SOESMART_STAFF_PASSWORD": PASSWORD},
                capture_output=True, text=True, timeout=60)
            assert created.returncode == 0, created.stderr
        net.start(only=["gateway"])
        yield net
    finally:
        net.stop()
        delete_vhost(vhost)


def set_cookie(response: requests.Response, name: str) -> str:
    headers = [v for k, v in response.raw.headers.items() if k.lower() == "set-cookie"]
    found = [h for h in headers if h.startswith(name + "=")]
    assert found, f"no cookie {name} in {headers}"
    return found[0]


def csrf_of(network: Network, path: str) -> tuple[str, dict[str, str]]:
    page = network.get(path)
    assert page.status_code == 200
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token
    return token.group(1), {"soesmart_csrf": token.group(1)}


def sign_in_by_form(network: Network, email: str, password: str) -> requests.Response:
    csrf, cookies = csrf_of(network, "/verwaltung/anmelden")
    return network.post("/verwaltung/anmelden", cookies=cookies, allow_redirects=False,
                        data={"csrf": csrf, "email": email, "password": password})


def test_a_town_admin_signs_in_with_the_form_and_gets_a_safe_session_cookie(network: Network) -> None:
    # Given the staff area sends strangers to the sign-in form
    stranger = network.get("/verwaltung/stadt/menden", allow_redirects=False)
    assert stranger.status_code == 303
    assert stranger.headers["Location"] == "/verwaltung/anmelden?weiter=%2Fverwaltung%2Fstadt%2Fmenden"

    # When Anna signs in with the form
    sent = sign_in_by_form(network, "Anna.Admin@menden.example", PASSWORD)

    # Then she is sent to the staff area with a session cookie scripts cannot read
    assert sent.status_code == 303 and sent.headers["Location"] == "/verwaltung"
    cookie = set_cookie(sent, "soesmart_staff")
    for flag in ("HttpOnly", "SameSite=Lax", "Secure", "Path=/"):
        assert flag in cookie
    session = {"soesmart_staff": sent.cookies["soesmart_staff"]}
    home = network.get("/verwaltung", cookies=session)
    assert home.status_code == 200
    assert "Anna Admin" in home.text and "/verwaltung/stadt/menden/moderation" in home.text
    assert "/verwaltung/stadt/olpe" not in home.text
    assert network.get("/verwaltung/stadt/menden", cookies=session).status_code == 200

    # And Olpe's staff pages are closed to her
    assert network.get("/verwaltung/stadt/olpe", cookies=session).status_code == 403

    # When she signs out, the session ends on the server too: the old cookie opens nothing
    csrf, cookies = csrf_of(network, "/verwaltung/anmelden")
    out = network.post("/verwaltung/abmelden", data={"csrf": csrf}, cookies={**cookies, **session},
                       allow_redirects=False)
    assert out.status_code == 303
    assert network.get("/verwaltung", cookies=session, allow_redirects=False).status_code == 303
    assert network.get("/api/v1/auth/me", cookies=session).json()["role"] == "anonymous"


def test_after_signing_in_the_form_returns_to_the_staff_page_asked_for_and_nowhere_else(
    network: Network,
) -> None:
    for weiter, expected in [("/verwaltung/stadt/menden", "/verwaltung/stadt/menden"),
                             ("https://evil.example/", "/verwaltung"),
                             ("/verwaltung//evil.example", "/verwaltung")]:
        csrf, cookies = csrf_of(network, "/verwaltung/anmelden?weiter=" + weiter)
        sent = network.post("/verwaltung/anmelden", cookies=cookies, allow_redirects=False,
                            data={"csrf": csrf, "email": "anna.admin@menden.example",
                                  "password": PASSWORD, "weiter": weiter})
        assert sent.headers["Location"] == expected


def test_a_wrong_password_on_the_form_says_so_without_signing_in(network: Network) -> None:
    sent = sign_in_by_form(network, "anna.admin@menden.example", "nicht-das-passwort")
    assert sent.status_code == 401
    assert "stimmen nicht" in sent.text
    assert "soesmart_staff" not in sent.cookies


def test_a_town_admin_gets_an_api_token_that_works_until_it_is_revoked(network: Network) -> None:
    token = network.post("/api/v1/auth/token",
                         json={"email": "anna.admin@menden.example", "password": PASSWORD})
    assert token.status_code == 201, token.text
    body = token.json()
    assert body["token"].startswith("s.") and body["role"] == "town_admin"
    assert body["town"] == "menden" and body["expires_at"]
    auth = {"Authorization": f"Bearer {body['token']}"}

    me = network.get("/api/v1/auth/me", headers=auth).json()
    assert (me["role"], me["town"], me["name"]) == ("town_admin", "menden", "Anna Admin")
    # a town admin is no coordinator
    assert network.get("/api/v1/results/top", headers=auth).status_code == 403
    assert network.post("/api/v1/measures/VEP-RAD-01/status", headers=auth,
                        json={"status": "decided"}).status_code == 403

    assert network.post("/api/v1/auth/logout", headers=auth).status_code == 200
    assert network.get("/api/v1/auth/me", headers=auth).json()["role"] == "anonymous"
    assert network.get("/api/v1/results/top", headers=auth).status_code == 401


def test_repeated_failures_lock_the_account_and_an_unknown_email_looks_the_same(
    network: Network,
) -> None:
    def attempt(email: str, password: str) -> requests.Response:
        return network.post("/api/v1/auth/token", json={"email": email, "password": password})

    # Given five wrong passwords for Bernd, and five for an address without an account
    answers = {email: [attempt(email, f"falsches-passwort-{i}") for i in range(5)]
               for email in ("bernd.admin@menden.example", "niemand@menden.example")}
    for tries in answers.values():
        assert [r.status_code for r in tries] == [401] * 5
        assert {r.json()["error"] for r in tries} == {"INVALID_CREDENTIALS"}
    assert answers["bernd.admin@menden.example"][0].json()["message"] == \
        answers["niemand@menden.example"][0].json()["message"]

    # When the right password follows, it is refused for a while
    locked = attempt("bernd.admin@menden.example", PASSWORD)
    assert locked.status_code == 429
    assert locked.json()["error"] == "ACCOUNT_LOCKED"
    retry_after = int(locked.headers["Retry-After"])
    assert 0 < retry_after <= 15 * 60
    assert locked.json()["details"] == [{"retry_after": retry_after}]

    # Then an email without an account is answered in the same words
    unknown = attempt("niemand@menden.example", "noch-ein-passwort")
    assert unknown.status_code == 429
    assert unknown.json()["message"] == locked.json()["message"]

    # And the form says so too
    form = sign_in_by_form(network, "bernd.admin@menden.example", PASSWORD)
    assert form.status_code == 429 and "Zu viele" in form.text


def test_without_demo_mode_there_are_no_demo_accounts(network: Network) -> None:
    demo = network.post("/api/v1/auth/token", json={
        "email": "koordination@demo.soesmart.example", "password": "demo-region-2026"})
    assert demo.status_code == 401
