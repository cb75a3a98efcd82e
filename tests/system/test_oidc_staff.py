"""Staff sign in through their directory's OpenID provider: a real one (oidc-provider) for the
happy paths and the provider's own refusals, a crafted one for tokens a provider must never
send; every refusal is a clear page, creates nothing and signs nobody in."""

from __future__ import annotations

from typing import Any

import requests
from sqlalchemy import text

from services.gateway.web.idp import STATE_COOKIE
from services.gateway.web.permissions import STAFF_COOKIE
from soesmart.storage import make_engine
from tests.support.crafted_provider import CraftedProvider
from tests.support.oidc_network import OidcWorld, query_of, sign_in_at_provider

START = "/verwaltung/anmelden/idp/"


def accounts(world: OidcWorld) -> list[dict[str, Any]]:
    engine = make_engine(world.net.database_url("gateway"))
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT email, role, town, active, provider FROM staff_accounts "
                                     "WHERE provider IS NOT NULL ORDER BY email"))
            return [dict(r._mapping) for r in rows]
    finally:
        engine.dispose()


def gateway_log(world: OidcWorld) -> str:
    return world.net.children["gateway"].log_path.read_text(errors="replace")


def me(world: OidcWorld, session: requests.Session) -> dict[str, Any]:
    return dict(session.get(world.net.url + "/api/v1/auth/me", timeout=10).json())


def assert_refused(world: OidcWorld, response: requests.Response, status: int, words: str,
                   session: requests.Session) -> None:
    assert response.status_code == status, response.text[:500]
    assert "Anmeldung nicht möglich" in response.text and words in response.text
    assert 'role="alert"' in response.text
    assert STAFF_COOKIE not in response.cookies
    assert me(world, session)["role"] == "anonymous"


def test_a_town_admin_of_soest_signs_in_through_the_provider_and_sees_only_soest(oidc: OidcWorld) -> None:
    browser = requests.Session()
    back = sign_in_at_provider(browser, oidc.net.url + START + "soest", "soest-admin")
    response = browser.get(back.headers["Location"], allow_redirects=False)
    assert response.status_code == 303 and response.headers["Location"] == "/verwaltung"
    assert STATE_COOKIE not in browser.cookies  # spent
    assert me(oidc, browser)["role"] == "town_admin" and me(oidc, browser)["town"] == "soest"
    home = browser.get(oidc.net.url + "/verwaltung")
    assert "/verwaltung/stadt/soest/" in home.text and "/verwaltung/stadt/olpe/" not in home.text
    assert browser.get(oidc.net.url + "/verwaltung/stadt/olpe", allow_redirects=False).status_code == 403
    made = [a for a in accounts(oidc) if a["email"] == "verwaltung.test@soest.example"]
    assert made == [{"email": "verwaltung.test@soest.example", "role": "town_admin", "town": "soest",
                     "active": True, "provider": "soest"}]


def test_the_coordinators_group_gives_the_coordinator_role(oidc: OidcWorld) -> None:
    browser = requests.Session()
    back = sign_in_at_provider(browser, oidc.net.url + START + "region", "coordinator")
    browser.get(back.headers["Location"], allow_redirects=False)
    assert me(oidc, browser)["role"] == "coordinator"


def test_signing_out_ends_the_session_here_and_at_the_provider(oidc: OidcWorld) -> None:
    browser = requests.Session()
    back = sign_in_at_provider(browser, oidc.net.url + START + "soest", "soest-admin")
    browser.get(back.headers["Location"], allow_redirects=False)
    token = browser.cookies[STAFF_COOKIE]
    csrf = browser.get(oidc.net.url + "/verwaltung/anmelden").cookies.get("soesmart_csrf") \
        or browser.cookies["soesmart_csrf"]
    out = browser.post(oidc.net.url + "/verwaltung/abmelden", data={"csrf": csrf},
                       allow_redirects=False)
    assert out.status_code == 303
    assert out.headers["Location"].startswith(oidc.provider.issuer + "/session/end?")
    assert query_of(out.headers["Location"])["client_id"] == "soesmart-soest"
    # the old session value no longer signs anyone in, wherever it is presented
    check = requests.get(oidc.net.url + "/api/v1/auth/me", headers={"Authorization": f"Bearer s.{token}"})
    assert check.json()["role"] == "anonymous"


def test_claims_that_grant_no_role_sign_nobody_in_and_create_nothing(oidc: OidcWorld) -> None:
    browser = requests.Session()
    back = sign_in_at_provider(browser, oidc.net.url + START + "soest", "no-role")
    response = browser.get(back.headers["Location"], allow_redirects=False)
    assert_refused(oidc, response, 403, "keine Rolle", browser)
    assert "ohne.rolle@soest.example" not in {a["email"] for a in accounts(oidc)}
    log = gateway_log(oidc)
    assert "provider=soest reason=no_role" in log and "ohne.rolle" not in log


def test_a_replayed_or_foreign_state_is_refused(oidc: OidcWorld) -> None:
    browser = requests.Session()
    back = sign_in_at_provider(browser, oidc.net.url + START + "soest", "soest-admin")
    callback = back.headers["Location"]
    state = query_of(callback)["state"]
    # another browser (without this sign-in's cookie) cannot use the callback
    stranger = requests.Session()
    assert_refused(oidc, stranger.get(callback, allow_redirects=False), 400, "anderen Browser",
                   stranger)
    assert browser.get(callback, allow_redirects=False).status_code == 303  # the real one: in
    # the same callback again, even with the cookie put back, is refused
    replay = requests.Session()
    replay.cookies.set(STATE_COOKIE, state)
    assert_refused(oidc, replay.get(callback, allow_redirects=False), 400, "schon verwendet", replay)
    assert "reason=state_used_or_expired" in gateway_log(oidc)
    # a made-up state with its own cookie
    forged = requests.Session()
    forged.cookies.set(STATE_COOKIE, "made-up")
    assert_refused(oidc, forged.get(callback.replace(state, "made-up"), allow_redirects=False),
                   400, "Anmeldung", forged)


def test_a_reused_authorization_code_is_refused_by_the_provider(oidc: OidcWorld) -> None:
    browser = requests.Session()
    back = sign_in_at_provider(browser, oidc.net.url + START + "soest", "soest-admin")
    first = query_of(back.headers["Location"])
    assert browser.get(back.headers["Location"], allow_redirects=False).status_code == 303
    # a new sign-in of another browser, fed the first one's code
    other = requests.Session()
    start = other.get(oidc.net.url + START + "soest", allow_redirects=False)
    state = query_of(start.headers["Location"])["state"]
    url = f"{oidc.net.url}{START}soest/rueckkehr?code={first['code']}&state={state}"
    assert_refused(oidc, other.get(url, allow_redirects=False), 400, "keine gültige Bestätigung", other)
    assert "reason=token_invalid_grant" in gateway_log(oidc)


def crafted_callback(world: OidcWorld, browser: requests.Session, token: str | None = None,
                     **changes: Any) -> requests.Response:
    """Start a sign-in at the crafted provider and come back with the ID token it then hands out."""
    crafted: CraftedProvider = world.crafted
    start = browser.get(world.net.url + START + "crafted", allow_redirects=False)
    assert start.status_code == 303, start.text[:300]
    query = query_of(start.headers["Location"])
    assert query["code_challenge_method"] == "S256" and query["code_challenge"]
    crafted.next_id_token = token or crafted.sign(crafted.claims(query["nonce"], **changes))
    return browser.get(f"{world.net.url}{START}crafted/rueckkehr?code=c&state={query['state']}",
                       allow_redirects=False)


def test_id_tokens_a_provider_must_never_send_are_refused(oidc: OidcWorld) -> None:
    c = oidc.crafted
    cases: dict[str, dict[str, Any]] = {
        "id_token_expired": {"exp": 1_000_000_000, "iat": 999_999_000},
        "id_token_aud": {"aud": "someone-else"},
        "id_token_iss": {"iss": "http://127.0.0.1:1/other"},
        "id_token_nonce": {"nonce": "not-the-one-we-sent"},
    }
    for reason, changes in cases.items():
        browser = requests.Session()
        assert_refused(oidc, crafted_callback(oidc, browser, **changes), 400,
                       "keine gültige Bestätigung", browser)
        assert f"provider=crafted reason={reason}" in gateway_log(oidc), reason
    browser = requests.Session()
    start = browser.get(oidc.net.url + START + "crafted", allow_redirects=False)
    nonce = query_of(start.headers["Location"])["nonce"]
    forged = c.sign(c.claims(nonce), key=c.other_key)  # same key id, another key
    assert_refused(oidc, crafted_callback(oidc, browser, token=forged), 400, "keine gültige", browser)
    assert "provider=crafted reason=id_token_signature" in gateway_log(oidc)
    assert "crafted@soest.example" not in {a["email"] for a in accounts(oidc)}
    assert "crafted@soest.example" not in gateway_log(oidc)
    # the token endpoint was asked with the PKCE verifier and the client's credentials
    assert all("code_verifier=" in body for body in c.token_requests)


def test_an_account_is_disabled_when_the_claims_no_longer_grant_its_role(oidc: OidcWorld) -> None:
    first = requests.Session()
    response = crafted_callback(oidc, first, sub="leaving-person", email="geht@soest.example")
    assert response.status_code == 303 and me(oidc, first)["role"] == "town_admin"
    later = requests.Session()
    refused = crafted_callback(oidc, later, sub="leaving-person", email="geht@soest.example",
                               groups=["kantine"])
    assert_refused(oidc, refused, 403, "keine Rolle", later)
    assert me(oidc, first)["role"] == "anonymous"  # the earlier session ended too
    assert [a["active"] for a in accounts(oidc) if a["email"] == "geht@soest.example"] == [False]


def test_a_provider_that_is_down_gives_a_clear_page(oidc: OidcWorld) -> None:
    browser = requests.Session()
    response = browser.get(oidc.net.url + START + "down", allow_redirects=False)
    assert_refused(oidc, response, 503, "nicht erreichbar", browser)
    english = browser.get(oidc.net.url + START + "down?lang=en", allow_redirects=False)
    assert english.status_code == 503 and "cannot be reached" in english.text
    assert "provider=down reason=provider_unavailable" in gateway_log(oidc)


def test_password_sign_in_can_be_switched_off_per_town(oidc: OidcWorld) -> None:
    soest = oidc.net.post("/api/v1/auth/token", json={"email": "admin.soest@demo.soesmart.example",
                                                      "password": "demo-soest-2026"})
    assert soest.status_code == 403 and soest.json()["error"] == "PASSWORD_SIGN_IN_OFF"
    olpe = oidc.net.post("/api/v1/auth/token", json={"email": "admin.olpe@demo.soesmart.example",
                                                     "password": "demo-olpe-2026"})
    assert olpe.status_code == 201
    listed = oidc.net.get("/api/v1/auth/providers").json()["items"]
    assert {p["id"] for p in listed} == {"soest", "region", "crafted", "down", "servicekonto"}
    assert all("secret" not in str(p) for p in listed)
    page = oidc.net.get("/verwaltung/anmelden")
    assert "Anmelden mit Stadtverwaltung Soest (Test)" in page.text
