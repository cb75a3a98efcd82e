"""Citizens sign in with a verified identity ("Mit ServiceKonto anmelden") at a real provider:
placed in their town by the verified postcode, confirmed by the verified email, recognised
again by a keyed hash of their subject, and counted as verified in the town's results."""

from __future__ import annotations

from typing import Any

import requests
from sqlalchemy import text

from services.gateway.web.citizen_sessions import CITIZEN_COOKIE
from soesmart.storage import make_engine
from tests.support.oidc_network import OidcWorld, sign_in_at_provider

START = "/stadt/{town}/anmelden/idp/servicekonto"


def soest_citizens(world: OidcWorld) -> list[dict[str, Any]]:
    engine = make_engine(world.net.database_url("participation", "soest"))
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT * FROM citizens WHERE subject_hash IS NOT NULL"))
            return [dict(r._mapping) for r in rows]
    finally:
        engine.dispose()


def signed_in(world: OidcWorld, login: str, town: str = "soest") -> tuple[requests.Session,
                                                                           requests.Response]:
    browser = requests.Session()
    back = sign_in_at_provider(browser, world.net.url + START.format(town=town), login)
    return browser, browser.get(back.headers["Location"], allow_redirects=False)


def first_open_measure(world: OidcWorld, town: str) -> tuple[str, str]:
    consultation = world.net.get(f"/api/v1/towns/{town}/consultations").json()["items"][0]
    detail = world.net.get(f"/api/v1/towns/{town}/consultations/{consultation['id']}").json()
    return consultation["id"], detail["measures"][0]["code"]


def test_a_citizen_with_a_verified_soest_postcode_signs_in_and_rates_at_once(oidc: OidcWorld) -> None:
    browser, response = signed_in(oidc, "citizen-soest")
    assert response.status_code == 303 and response.headers["Location"] == "/stadt/soest?hinweis=welcome"
    cookie = browser.cookies[CITIZEN_COOKIE]
    me = browser.get(oidc.net.url + "/api/v1/auth/me").json()
    assert me["role"] == "citizen" and me["town"] == "soest" and me["confirmed"] is True
    cid, code = first_open_measure(oidc, "soest")
    rated = requests.post(oidc.net.url + "/api/v1/towns/soest/ratings", timeout=10,
                          cookies={CITIZEN_COOKIE: cookie},
                          json={"measure_code": code, "effectiveness": 4, "support": "yes"})
    assert rated.status_code in (200, 201), rated.text
    # Only the keyed hash of the provider's subject is stored, with the stated trust level
    rows = [r for r in soest_citizens(oidc) if r["email"] == "buerger.soest@example.org"]
    assert len(rows) == 1 and rows[0]["trust_level"] == "substantial"
    assert rows[0]["confirmed_at"] is not None and rows[0]["postcode"] == "59494"
    assert "citizen-soest" not in str(rows[0]) and len(rows[0]["subject_hash"]) == 64
    assert rows[0]["display_name"] == "Person aus Soest"  # never the legal name
    # And the staff see the share of answers from verified identities
    results = oidc.net.get(f"/api/v1/towns/soest/consultations/{cid}/results",
                           headers=oidc.net.bearer(oidc.net.token)).json()
    assert results["answers_by_trust"].get("substantial", 0) >= 1
    measure = next(m for m in results["measures"] if m["code"] == code)
    assert measure["verified_answers"] >= 1


def test_the_same_person_is_recognised_on_the_next_sign_in(oidc: OidcWorld) -> None:
    first, _ = signed_in(oidc, "citizen-soest")
    again, _ = signed_in(oidc, "citizen-soest")
    ids = {s.get(oidc.net.url + "/api/v1/towns/soest/me").json()["citizen_id"] for s in (first, again)}
    assert len(ids) == 1
    assert len([r for r in soest_citizens(oidc) if r["email"] == "buerger.soest@example.org"]) == 1


def test_a_resident_of_another_town_is_pointed_to_it_and_nothing_is_created(oidc: OidcWorld) -> None:
    browser, response = signed_in(oidc, "citizen-arnsberg")
    assert response.status_code == 403
    assert "Arnsberg" in response.text and 'href="/stadt/arnsberg"' in response.text
    assert CITIZEN_COOKIE not in browser.cookies
    assert browser.get(oidc.net.url + "/api/v1/auth/me").json()["role"] == "anonymous"
    assert not [r for r in soest_citizens(oidc) if r["email"] == "buerger.arnsberg@example.org"]
    log = oidc.net.children["gateway"].log_path.read_text(errors="replace")
    assert "provider=servicekonto reason=other_town" in log and "buerger.arnsberg" not in log


def test_the_button_is_on_the_towns_sign_in_and_registration_pages(oidc: OidcWorld) -> None:
    for path in ("/stadt/soest/anmelden", "/stadt/soest/registrieren"):
        page = oidc.net.get(path)
        assert 'href="/stadt/soest/anmelden/idp/servicekonto"' in page.text
        assert "Mit ServiceKonto anmelden" in page.text
    assert oidc.net.get("/stadt/soest/anmelden/idp/soest", allow_redirects=False).status_code == 404
