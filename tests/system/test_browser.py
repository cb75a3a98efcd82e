"""The pages as a person meets them in a real browser: headless Chromium, keyboard and mouse.

The whole network runs as real processes in a fresh vhost (no SMTP: mails become .eml
files). Chromium is Debian's (/usr/bin/chromium); axe-core comes from the
axe-playwright-python package, so nothing is fetched while the tests run.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.support.browser import assert_accessible
from tests.support.infra import eventually
from tests.support.network import Network, running_network

pytestmark = pytest.mark.browser

TOWNS = ["soest", "arnsberg", "bad-berleburg", "menden", "olpe"]
CODE = "VEP-RAD-01"  # on Soest's open consultation in the demo data
TITLE = "Velorouten West, Südwest und Nordwest"


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    with running_network(tmp_path_factory.mktemp("net")) as net:
        yield net


@pytest.fixture
def page(browser: Any, network: Network) -> Iterator[Any]:
    """A fresh person: own cookies, German browser, the site's CSP in force."""
    context = browser.new_context(base_url=network.url, locale="de-DE")
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def audit_page(browser: Any, network: Network) -> Iterator[Any]:
    """Like `page`, but the CSP (script-src 'self') is bypassed so axe-core can be injected."""
    context = browser.new_context(base_url=network.url, locale="de-DE", bypass_csp=True)
    try:
        yield context.new_page()
    finally:
        context.close()


def _open_town(page: Any, slug: str) -> None:
    """Open a town's page, reloading until its consultation lists measures (demo seeding)."""
    def listed() -> bool:
        response = page.goto(f"/stadt/{slug}")
        assert response is not None and response.status == 200, f"/stadt/{slug} answered"
        return page.get_by_role("article").count() > 0

    eventually(listed, timeout=20, interval=0.5, message=f"the page of {slug} lists measures")


def _register(page: Any, network: Network, town: str, name: str = "Barbara B.") -> None:
    """Register with the form, open the link from the mail, press the button, as a person does."""
    import uuid

    from playwright.sync_api import expect

    from soesmart.towns import towns

    address = f"browser-{uuid.uuid4().hex[:8]}@example.org"
    page.goto(f"/stadt/{town}")
    page.get_by_role("link", name=re.compile("^Registrieren")).click()
    page.get_by_label("E-Mail-Adresse").fill(address)
    page.get_by_label("Postleitzahl").fill(towns().get(town).postcodes[0])
    page.get_by_label(re.compile("^Anzeigename")).fill(name)
    page.get_by_role("button", name="Registrieren").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Bitte sehen Sie in Ihr Postfach")
    token = network.link_token(address, f"/stadt/{town}/bestaetigen")
    page.goto(f"/stadt/{town}/bestaetigen?token={token}")
    page.get_by_role("button", name="Adresse bestätigen").click()
    expect(page.get_by_role("status")).to_contain_text(f"Willkommen, {name}!")


# ---------------------------------------------------------------------------------- journey
def test_a_citizen_rates_a_measure_in_soest_with_the_browser_and_the_region_counts_it(
    page: Any, network: Network
) -> None:
    from playwright.sync_api import expect

    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))

    # Given Soest's open consultation, and a citizen on the start page
    eventually(lambda: CODE in network.get("/api/v1/towns/soest/consultations").text, timeout=20,
               interval=0.3, message="Soest's consultation lists the measure")
    before = network.settled_results(CODE).get("towns", {}).get("soest", {}).get("answers", 0)
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.get_by_role("heading", level=1)).to_have_text("Die fünf Städte")

    # When they follow the link to Soest
    page.get_by_role("main").get_by_role("link", name="Soest", exact=True).click()
    expect(page).to_have_url(re.compile(r"/stadt/soest$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Soest")
    expect(page.get_by_role("button", name=re.compile("^Antwort speichern"))).to_have_count(0)

    # And register, confirming the address by the link in the mail
    _register(page, network, "soest")
    expect(page).to_have_url(re.compile(r"/stadt/soest\?hinweis=welcome$"))
    measure = page.get_by_role("article", name=re.compile(re.escape(TITLE)))
    expect(measure).to_be_visible()

    # And answer both questions: the first with the mouse, the second with the keyboard
    effectiveness = measure.get_by_role("group", name=re.compile("Wie zielführend"))
    effectiveness.get_by_label("4", exact=True).click()
    support = measure.get_by_role("group", name=re.compile("Würden Sie diese Maßnahme"))
    support.get_by_role("radio", name="Ja", exact=True).focus()
    page.keyboard.press("ArrowDown")  # the arrow keys move the choice within the group
    expect(support.get_by_role("radio", name="Eher ja", exact=True)).to_be_checked()
    expect(effectiveness.get_by_role("radio", name="4", exact=True)).to_be_checked()

    # And send the form by the keyboard from its button
    measure.get_by_role("button", name=re.compile("^Antwort speichern")).focus()
    page.keyboard.press("Enter")

    # Then the page confirms it in German, in a status region at the measure, in view
    expect(page).to_have_url(re.compile(r"/stadt/soest\?gespeichert=VEP-RAD-01#m-VEP-RAD-01$"))
    status = page.get_by_role("status")
    expect(status).to_contain_text("ist gespeichert")
    expect(status).to_contain_text(TITLE)
    expect(measure.get_by_role("status")).to_be_in_viewport()

    # And the regional results show the rating under Soest
    def counted() -> dict[str, Any] | None:
        soest = (network.results_for(CODE) or {}).get("towns", {}).get("soest")
        return soest if soest and soest["answers"] == before + 1 else None

    soest = eventually(counted, timeout=10, message="the rating reaches the regional results")
    assert soest is not None and soest["support"]["rather_yes"] >= 1

    # When they switch the language with the link in the header
    page.get_by_role("link", name=re.compile(r"^English")).click()

    # Then the page is in English, the question too
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("group", name=re.compile("How effective is this measure?")).first
           ).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("^Save answer")).first).to_be_visible()

    # And nothing on the way was loaded from anyone but the network itself
    assert requested, "the browser made requests"
    foreign = [url for url in requested if not url.startswith(network.url + "/")]
    assert not foreign, f"requests to third parties: {foreign}"
    assert any(url.endswith("/static/style.css") for url in requested), "the own stylesheet loads"


# ----------------------------------------------------------------------------- accessibility
def _visit(path: str, heading: str, status: int = 200) -> Callable[[Any], None]:
    """Open a page and require the state the row is about: its status and heading, an
    alert on an error page and none elsewhere (so a 404 or a failure is never audited
    in place of the page)."""
    def go(page: Any) -> None:
        from playwright.sync_api import expect

        response = page.goto(path)
        assert response is not None and response.status == status, (path, response and response.status)
        expect(page.get_by_role("heading", level=1)).to_contain_text(heading)
        alerts = page.get_by_role("alert")
        if status >= 400:
            expect(alerts.first).to_be_visible()
        else:
            expect(alerts).to_have_count(0)
    return go


def _town(slug: str) -> Callable[[Any], None]:
    return lambda page: _open_town(page, slug)


def _subscribed(page: Any) -> None:
    from playwright.sync_api import expect

    page.goto(f"/massnahmen/{CODE}")
    page.get_by_label("E-Mail-Adresse").fill("barrierefrei@example.org")
    page.get_by_role("button", name="Abonnieren").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Bitte prüfen Sie Ihr Postfach")
    expect(page.get_by_role("status")).to_be_visible()


def _saved(page: Any, network: Network) -> None:
    from playwright.sync_api import expect

    _register(page, network, "soest")
    _open_town(page, "soest")
    measure = page.get_by_role("article", name=re.compile(re.escape(TITLE)))
    measure.get_by_role("radio", name="5", exact=True).check()
    measure.get_by_role("button", name=re.compile("^Antwort speichern")).click()
    expect(page.get_by_role("status")).to_contain_text("gespeichert")


def _form_error(page: Any, network: Network) -> None:
    from playwright.sync_api import expect

    _register(page, network, "menden")
    _open_town(page, "menden")
    page.get_by_role("button", name=re.compile("^Antwort speichern")).first.click()
    expect(page.get_by_role("alert")).to_contain_text("mindestens eine der beiden Fragen")


def _register_error(page: Any) -> None:
    from playwright.sync_api import expect

    page.goto("/stadt/olpe/registrieren")
    page.get_by_label("E-Mail-Adresse").fill("nachbarin@example.org")
    page.get_by_label(re.compile("^Anzeigename")).fill("Nachbarin")
    page.get_by_label("Postleitzahl").fill("59494")  # Soest's: she is pointed to Soest
    page.get_by_role("button", name="Registrieren").click()
    expect(page.get_by_role("alert")).to_contain_text("Postleitzahl")


def _discussion(page: Any, network: Network) -> None:
    from playwright.sync_api import expect

    _register(page, network, "soest", "Diskutierende")
    page.goto(f"/stadt/soest/massnahmen/{CODE}")
    page.get_by_label(re.compile("^Ihr Kommentar")).fill("Bitte auch <b>Winterdienst</b> bedenken.")
    page.get_by_role("button", name="Kommentar veröffentlichen").click()
    expect(page.get_by_role("status")).to_contain_text("veröffentlicht")
    expect(page.get_by_text("Bitte auch <b>Winterdienst</b> bedenken.")).to_be_visible()


def _comment_error(page: Any, network: Network) -> None:
    from playwright.sync_api import expect

    _register(page, network, "arnsberg", "Leere Zeile")
    page.goto("/stadt/arnsberg/massnahmen/VEP-RAD-02")
    page.get_by_role("button", name="Kommentar veröffentlichen").click()
    expect(page.get_by_role("alert")).to_be_visible()


def _idea_error(page: Any, network: Network) -> None:
    from playwright.sync_api import expect

    _register(page, network, "olpe", "Ideengeberin")
    page.goto("/stadt/olpe/ideen")
    page.get_by_label(re.compile("^Titel")).fill("Zu")
    page.get_by_role("button", name="Idee einreichen").click()
    expect(page.get_by_role("alert")).to_be_visible()


def _my_data(page: Any, network: Network) -> None:
    from playwright.sync_api import expect

    _register(page, network, "bad-berleburg", "Datenschutz")
    page.goto("/stadt/bad-berleburg/meine-daten")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Meine Daten")


def _staff_sign_in(page: Any, email: str, password: str) -> None:
    page.goto("/verwaltung/anmelden")
    page.get_by_label("E-Mail-Adresse").fill(email)
    page.get_by_label("Passwort").fill(password)
    page.get_by_role("button", name="Anmelden").click()


def _staff_sign_in_error(page: Any) -> None:
    from playwright.sync_api import expect

    _staff_sign_in(page, "niemand@demo.soesmart.example", "falsches-passwort")
    expect(page.get_by_role("alert")).to_be_visible()


def _staff_home(page: Any) -> None:
    from playwright.sync_api import expect

    _staff_sign_in(page, "koordination@demo.soesmart.example", "demo-region-2026")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Verwaltung")


def _staff_town(page: Any) -> None:
    from playwright.sync_api import expect

    _staff_sign_in(page, "admin.menden@demo.soesmart.example", "demo-menden-2026")
    page.goto("/verwaltung/stadt/menden")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Menden")


def _preferences(page: Any, network: Network) -> None:
    """The settings page as reached from a mail's link, with a confirmed subscription."""
    import uuid

    from playwright.sync_api import expect

    address = f"einstellungen-{uuid.uuid4().hex[:8]}@example.org"
    code = "VEP-FUSS-01"
    sent = network.post("/api/v1/subscriptions", json={"email": address, "measure_code": code,
                                                      "frequency": "immediate"})
    assert sent.status_code == 202, sent.text
    token = network.link_token(address, "/abo/bestaetigen")
    assert network.post("/api/v1/subscriptions/confirm", json={"token": token}).status_code == 200
    changed = network.post(f"/api/v1/measures/{code}/status", headers=network.bearer(network.token),
                           json={"status": "decided", "note": "Beschluss des Rates"})
    assert changed.status_code in (200, 409), changed.text  # 409: decided by an earlier run
    network.post(f"/api/v1/measures/{code}/status", headers=network.bearer(network.token),
                 json={"status": "in_implementation", "note": "Bau beginnt", "progress": 10})
    link = network.link_token(address, "/abo/einstellungen", timeout=30)
    page.goto(f"/abo/einstellungen?token={link}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Ihre E-Mail-Einstellungen")


def _error(page: Any) -> None:
    from playwright.sync_api import expect

    response = page.goto("/stadt/atlantis")
    assert response is not None and response.status == 404
    expect(page.get_by_role("alert")).to_be_visible()


PAGES: list[tuple[str, Callable[[Any], None]]] = [
    ("start page", _visit("/", "Die fünf Städte")),
    *[(f"town page {slug}", _town(slug)) for slug in TOWNS],
    ("measure page", _visit(f"/massnahmen/{CODE}", f"({CODE})")),
    ("subscribe done page", _subscribed),
    ("confirm page", _visit("/abo/bestaetigen?token=xyz", "Abonnement bestätigen")),
    ("unsubscribe page", _visit("/abo/abmelden?token=xyz", "E-Mails abbestellen")),
    ("one-click address opened in a browser",
     _visit("/abo/abmelden/one-click?token=xyz", "E-Mails abbestellen")),
    ("preferences page with an unknown link", _visit("/abo/einstellungen?token=xyz",
                                                     "Das hat nicht geklappt", status=400)),
    ("preferences page from a mail", _preferences),
    ("town page with a saved answer", _saved),
    ("error page", _error),
    ("form error page", _form_error),
    ("registration page", _visit("/stadt/soest/registrieren", "Registrieren in Soest")),
    ("registration with an error", _register_error),
    ("sign-in page", _visit("/stadt/menden/anmelden", "Anmelden in Menden")),
    ("sign-in link page", _visit("/stadt/menden/anmelden/link?token=xyz", "Anmelden")),
    ("confirmation link page", _visit("/stadt/olpe/bestaetigen?token=xyz",
                                      "E-Mail-Adresse bestätigen")),
    ("measure in a town, anonymous", _visit(f"/stadt/soest/massnahmen/{CODE}", f"({CODE})")),
    ("measure in a town with a discussion", _discussion),
    ("comment form with an error", _comment_error),
    ("ideas page", _visit("/stadt/soest/ideen", "Ideen aus Soest")),
    ("idea form with an error", _idea_error),
    ("my data", _my_data),
    ("staff sign-in page", _visit("/verwaltung/anmelden", "Anmeldung für die Verwaltung")),
    ("staff sign-in with an error", _staff_sign_in_error),
    ("staff area of a coordinator", _staff_home),
    ("staff page of a town", _staff_town),
    ("English start page", _visit("/?lang=en", "The five towns")),
]


@pytest.mark.parametrize("reach", [p[1] for p in PAGES], ids=[p[0] for p in PAGES])
def test_every_page_meets_wcag_2_1_a_and_aa_by_axe_core(
    audit_page: Any, axe_script: str, network: Network, reach: Callable[..., None]
) -> None:
    # Given a page as a person reaches it (some need a registered citizen)
    import inspect

    if len(inspect.signature(reach).parameters) == 2:
        reach(audit_page, network)
    else:
        reach(audit_page)

    # When axe-core checks it against WCAG 2.0/2.1 A and AA, then it finds nothing,
    # and no id is used twice
    assert_accessible(audit_page, axe_script)


def test_the_keyboard_reaches_the_content_first_by_the_skip_link(page: Any) -> None:
    from playwright.sync_api import expect

    # Given a person on the start page who uses the keyboard
    page.goto("/")

    # When they press Tab once
    page.keyboard.press("Tab")

    # Then the skip link has the focus and is visible
    skip = page.get_by_role("link", name="Zum Inhalt springen")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()

    # When they follow it, the main content has the focus
    page.keyboard.press("Enter")
    expect(page.get_by_role("main")).to_be_focused()
