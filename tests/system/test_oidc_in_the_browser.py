"""Signing in through the OpenID provider in headless Chromium, as people do it: staff of Soest
(who then see only Soest), a coordinator by their group, and a citizen of Soest who rates
at once. The provider is the real oidc-provider on loopback."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.browser import assert_accessible
from tests.support.oidc_network import OidcWorld

pytestmark = pytest.mark.browser


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(locale="de-DE")
    yield context.new_page()
    context.close()


def provider_sign_in(page: Any, login: str) -> None:
    """The provider's own form: the login names a test account."""
    page.get_by_label("Login").fill(login)
    page.get_by_role("button", name="Sign in").click()


def test_staff_of_soest_sign_in_through_the_provider_and_see_only_soest(
        oidc: OidcWorld, page: Any, axe_script: str) -> None:
    from playwright.sync_api import expect

    page.goto(oidc.net.url + "/verwaltung/anmelden")
    assert_accessible(page, axe_script)
    page.get_by_role("link", name="Anmelden mit Stadtverwaltung Soest (Test)").click()
    provider_sign_in(page, "soest-admin")
    expect(page).to_have_url(oidc.net.url + "/verwaltung")
    main = page.get_by_role("main")
    expect(main).to_contain_text("Verwaltung von Soest")
    expect(main.get_by_role("link", name=re.compile("Ergebnisse"))).not_to_have_count(0)
    assert page.locator('a[href^="/verwaltung/stadt/olpe"]').count() == 0
    assert page.locator('a[href^="/verwaltung/region/katalog"]').count() == 0
    page.goto(oidc.net.url + "/verwaltung/stadt/olpe")
    expect(page.get_by_role("alert")).to_be_visible()


def test_a_coordinators_group_gives_the_coordinator_role(oidc: OidcWorld, page: Any) -> None:
    from playwright.sync_api import expect

    page.goto(oidc.net.url + "/verwaltung/anmelden")
    page.get_by_role("link", name="Anmelden mit Region (Test)").click()
    provider_sign_in(page, "coordinator")
    expect(page).to_have_url(oidc.net.url + "/verwaltung")
    expect(page.locator('a[href="/verwaltung/region/katalog"]')).to_have_count(1)
    expect(page.locator('a[href^="/verwaltung/stadt/olpe"]').first).to_be_visible()


def test_a_citizen_with_a_verified_soest_postcode_signs_in_and_rates_at_once(
        oidc: OidcWorld, page: Any, axe_script: str) -> None:
    from playwright.sync_api import expect

    page.goto(oidc.net.url + "/stadt/soest/anmelden")
    assert_accessible(page, axe_script)
    page.get_by_role("link", name="Mit ServiceKonto anmelden").click()
    provider_sign_in(page, "citizen-soest")
    expect(page).to_have_url(re.compile(r"/stadt/soest\?hinweis=welcome$"))
    measure = page.get_by_role("article").first
    measure.get_by_role("group", name=re.compile("Wie zielführend")).get_by_label("5", exact=True).click()
    measure.get_by_role("group", name=re.compile("Würden Sie diese Maßnahme")) \
        .get_by_role("radio", name="Ja", exact=True).check()
    measure.get_by_role("button", name=re.compile("^Antwort speichern")).click()
    expect(page.get_by_role("status").first).to_contain_text("ist gespeichert")


def test_a_refused_sign_in_is_a_clear_accessible_page(oidc: OidcWorld, page: Any,
                                                      axe_script: str) -> None:
    from playwright.sync_api import expect

    page.goto(oidc.net.url + "/stadt/soest/anmelden")
    page.get_by_role("link", name="Mit ServiceKonto anmelden").click()
    provider_sign_in(page, "citizen-arnsberg")
    expect(page.get_by_role("heading", level=1)).to_have_text("Anmeldung nicht möglich")
    expect(page.get_by_role("alert")).to_contain_text("Arnsberg")
    assert_accessible(page, axe_script)
    page.get_by_role("link", name="Zur Beteiligung in Arnsberg").click()
    expect(page).to_have_url(re.compile(r"/stadt/arnsberg$"))
