"""The legal pages as a person reaches them: from every town's page, from a real mail's footer.

The whole network runs as real processes with a real SMTP server on loopback (aiosmtpd);
headless Chromium follows the links a person sees, and axe-core audits every legal page
in German and English. The accessibility feedback form is sent without an account and
is found delivered to the town's contact.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from soesmart.legal import legal_info
from soesmart.towns import towns
from tests.support.browser import assert_accessible
from tests.support.erasure_journey import assert_download_then_erasure
from tests.support.infra import create_vhost, delete_vhost, eventually
from tests.support.network import Network
from tests.support.smtp import SmtpServer, text_of

pytestmark = pytest.mark.browser

LINKS = {"de": ("Impressum", "Datenschutz", "Barrierefreiheit"),
         "en": ("Legal notice", "Privacy", "Accessibility")}
HEADINGS = {"de": ("Impressum", "Datenschutzerklärung", "Erklärung zur Barrierefreiheit"),
            "en": ("Legal notice (Impressum)", "Privacy notice", "Accessibility statement")}
PATHS = ("/impressum", "/datenschutz", "/barrierefreiheit")
MIN_FILL_SECONDS = 4  # the forms' minimum fill time on this network (bot protection)


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory, smtp: SmtpServer) -> Iterator[Network]:
    vhost, url = create_vhost()
    net = Network(data_dir=tmp_path_factory.mktemp("legal"), broker_url=url, vhost=vhost,
                  smtp_url=smtp.url, smtp=smtp,
                  extra_env={"SOESMART_FORM_MIN_SECONDS": str(MIN_FILL_SECONDS)})
    try:
        # On a loaded machine the gateway's start (hashing the demo staff passwords) has
        # taken longer than the default minute.
        net.start(wait=False)
        net.wait_ready(timeout=180)
        yield net
    finally:
        net.stop()
        delete_vhost(vhost)


@pytest.fixture
def audit_page(browser: Any, network: Network) -> Iterator[Any]:
    """A fresh person; the CSP is bypassed so that axe-core can be injected."""
    context = browser.new_context(base_url=network.url, locale="de-DE", bypass_csp=True)
    try:
        yield context.new_page()
    finally:
        context.close()


def _follow_footer(page: Any, axe_script: str | None, start: str, base: str, lang: str) -> None:
    """From `start`, follow each legal link of the footer; each page answers and is the
    controller's own; with `axe_script`, each is audited too."""
    from playwright.sync_api import expect

    for label, heading, path in zip(LINKS[lang], HEADINGS[lang], PATHS, strict=True):
        response = page.goto(start)
        assert response is not None and response.status == 200, start
        footer = page.get_by_role("contentinfo")
        footer.get_by_role("navigation").get_by_role("link", name=label, exact=True).click()
        expect(page).to_have_url(re.compile(re.escape(base + path) + "$"))
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        expect(page.locator("html")).to_have_attribute("lang", lang)
        if axe_script:
            assert_accessible(page, axe_script)


@pytest.mark.parametrize("lang", ["de", "en"])
def test_every_legal_page_is_reached_from_every_town_page_and_is_accessible(
        audit_page: Any, axe_script: str, network: Network, lang: str) -> None:
    from playwright.sync_api import expect

    audit_page.goto(f"/?lang={lang}")  # the language choice is kept in a cookie
    # The region's pages from the start page
    _follow_footer(audit_page, axe_script, "/", "", lang)
    expect(audit_page.get_by_role("main")).to_contain_text(legal_info("region").body)
    # Each town's own pages from the town's page (the pages of all towns are one template
    # with each town's facts: the first town's are audited, the others' reached)
    for i, town in enumerate(towns()):
        _follow_footer(audit_page, axe_script if i == 0 else None, f"/stadt/{town.slug}",
                       f"/stadt/{town.slug}", lang)
        expect(audit_page.get_by_role("main")).to_contain_text(f"Stadt {town.name}")


def _mail_footer_links(smtp: SmtpServer, address: str) -> list[str]:
    def footer() -> list[str]:
        for message in smtp.to(address):
            text = text_of(message)
            if "\n-- \n" in text:
                return re.findall(r"https?://\S+", text.split("\n-- \n", 1)[1])
        return []

    return eventually(footer, timeout=20, message=f"a mail with a footer reaches {address}")


@pytest.mark.parametrize("lang", ["de", "en"])
def test_a_real_mail_names_the_town_and_its_footer_leads_to_its_legal_pages(
        audit_page: Any, axe_script: str, network: Network, smtp: SmtpServer, lang: str) -> None:
    from playwright.sync_api import expect

    # Given a person who registers in Olpe in `lang`
    address = f"footer-{uuid.uuid4().hex[:8]}@example.org"
    response = network.post("/api/v1/towns/olpe/citizens",
                            json={"email": address, "postcode": "57462", "display_name": "Fu",
                                  "language": lang})
    assert response.status_code == 202, response.text
    # When the confirmation mail arrives
    links = _mail_footer_links(smtp, address)
    message = smtp.to(address)[-1]
    assert "Stadt Olpe" in text_of(message)
    # Then its footer links Olpe's three legal pages, each opens in the mail's language
    assert [link.removeprefix(network.url) for link in links] == [
        f"/stadt/olpe{path}" for path in PATHS]
    audit_page.goto(f"/?lang={lang}")
    for link, heading in zip(links, HEADINGS[lang], strict=True):
        response = audit_page.goto(link)
        assert response is not None and response.status == 200, link
        expect(audit_page.get_by_role("heading", level=1)).to_have_text(heading)
        assert_accessible(audit_page, axe_script)


def test_the_accessibility_feedback_form_reaches_the_towns_contact_without_an_account(
        audit_page: Any, axe_script: str, network: Network, smtp: SmtpServer) -> None:
    from playwright.sync_api import expect

    contact = legal_info("arnsberg").feedback_email
    words = f"Die Schaltfläche ist zu klein ({uuid.uuid4().hex[:6]})"
    # Given a person without an account on Arnsberg's accessibility statement
    audit_page.goto("/stadt/arnsberg/barrierefreiheit?lang=de")
    # When they send the form empty, it comes back with the field named, nothing sent
    audit_page.get_by_role("button", name="Rückmeldung senden").click()
    expect(audit_page.get_by_role("alert")).to_contain_text("Bitte schreiben Sie eine Nachricht.")
    assert_accessible(audit_page, axe_script)
    # And when they write their message and send it
    audit_page.get_by_label("Ihre Nachricht").fill(words)
    audit_page.get_by_label(re.compile("^Ihre E-Mail-Adresse")).fill("fragende@example.org")
    audit_page.get_by_role("button", name="Rückmeldung senden").click()
    expect(audit_page.get_by_role("heading", level=1)).to_have_text(
        "Vielen Dank für Ihre Rückmeldung")
    # Then the town's contact receives it, with the address to answer to
    delivered = eventually(lambda: [m for m in smtp.to(contact) if words in text_of(m)],
                           timeout=20, message="the feedback reaches the town's contact")
    assert "fragende@example.org" in text_of(delivered[0])
    assert "Arnsberg" in str(delivered[0]["From"])


# ------------------------------------------------------------------ a person's data (SQLite)
def test_a_persons_data_from_every_service_is_downloaded_then_erased_from_every_database(
        network: Network) -> None:
    assert_download_then_erasure(network)


# ------------------------------------------------------------------ bot protection
@pytest.fixture(params=["js-on", "js-off"])
def person(request: pytest.FixtureRequest, browser: Any,
           network: Network) -> Iterator[tuple[Any, bool]]:
    """A fresh visitor with JavaScript on or off (and whether it is on); CSP bypassed for axe."""
    js = request.param == "js-on"
    context = browser.new_context(base_url=network.url, locale="de-DE", bypass_csp=True,
                                  java_script_enabled=js)
    try:
        yield context.new_page(), js
    finally:
        context.close()


def _fill_registration(page: Any, address: str) -> None:
    page.goto("/stadt/menden/registrieren")
    page.get_by_label("E-Mail-Adresse").fill(address)
    page.get_by_label("Postleitzahl").fill("58706")
    page.get_by_label(re.compile("^Anzeigename")).fill("Mensch")


def _registered(network: Network, address: str) -> bool:
    from sqlalchemy import text

    from soesmart.storage import make_engine

    engine = make_engine(network.database_url("participation", "menden"))
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT count(*) FROM citizens WHERE email_key = :k"),
                                {"k": address}).scalar_one() > 0
    finally:
        engine.dispose()


def test_a_bot_like_registration_is_answered_as_a_persons_and_writes_nothing(
        person: tuple[Any, bool], axe_script: str, network: Network) -> None:
    from playwright.sync_api import expect

    page, js = person
    bots = [f"bot-{i}-{uuid.uuid4().hex[:6]}@example.org" for i in range(3)]
    human = f"mensch-{uuid.uuid4().hex[:6]}@example.org"
    heading = "Bitte sehen Sie in Ihr Postfach"
    # A bot that fills every field, the hidden one too
    _fill_registration(page, bots[0])
    if js:  # axe-core itself needs JavaScript; the page's markup is the same without it
        assert_accessible(page, axe_script)
    page.locator("#register-website").fill("https://spam.example.org", force=True)
    page.wait_for_timeout(MIN_FILL_SECONDS * 1000 + 300)
    page.get_by_role("button", name="Registrieren").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    # A bot that sends the form at once
    _fill_registration(page, bots[1])
    page.get_by_role("button", name="Registrieren").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    # A bot with a forged proof of work
    _fill_registration(page, bots[2])
    if js:  # let the page's own solution arrive first, so it cannot overwrite the forgery
        expect(page.locator("input[name='pow']")).not_to_have_value("", timeout=20_000)
    page.locator("input[name='pow']").evaluate("(e) => { e.value = 'eyJub3QiOiAicmlnaHQifQ=='; }")
    page.wait_for_timeout(MIN_FILL_SECONDS * 1000 + 300)
    page.get_by_role("button", name="Registrieren").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    # And a person who takes a moment (with JavaScript, the page solves the proof of work)
    _fill_registration(page, human)
    if js:
        expect(page.locator("input[name='pow']")).not_to_have_value("", timeout=20_000)
    page.wait_for_timeout(MIN_FILL_SECONDS * 1000 + 300)
    page.get_by_role("button", name="Registrieren").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    # Then the person's link arrives; the bots, who were answered the same, got nothing
    eventually(lambda: network.mails_to(human), timeout=20, message="the person's link arrives")
    assert _registered(network, human)
    for bot in bots:
        assert not network.mails_to(bot) and not _registered(network, bot), bot
