"""Town admins and coordinators at work in a real browser: headless Chromium, mouse and keyboard.

The journeys of the staff as a person walks them, page by page: sign in, create and
open a consultation, moderate, decide ideas, read the results and download the CSV,
change a measure's status on the regional side, sign out; and an admin of another
town who is refused. Only what citizens would create themselves (comments, flags,
ideas, ratings) is set up over the JSON API, with citizens registered by mail link.

The whole network runs as real processes in a fresh vhost (mails become .eml files);
the demo staff accounts sign in. Chromium is Debian's (/usr/bin/chromium).
"""

from __future__ import annotations

import csv
import io
import re
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.support.infra import eventually
from tests.support.network import Network, running_network

pytestmark = [pytest.mark.system, pytest.mark.browser]

DEMO = "demo.soesmart.example"
ADMIN_MENDEN = (f"admin.menden@{DEMO}", "demo-menden-2026", "Verwaltung Menden (Sauerland) (Demo)")
ADMIN_OLPE = (f"admin.olpe@{DEMO}", "demo-olpe-2026", "Verwaltung Olpe (Demo)")
COORDINATOR = (f"koordination@{DEMO}", "demo-region-2026", "Regionale Koordination (Demo)")
CODE = "VEP-RAD-02"  # region-wide: on every town's demo consultation
STAFF_MENDEN = "/verwaltung/stadt/menden"


# ---------------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    with running_network(tmp_path_factory.mktemp("net")) as net:
        yield net


@pytest.fixture
def page(browser: Any, network: Network) -> Iterator[Any]:
    """A fresh person at a fresh browser: own cookies, German, the site's CSP in force."""
    context = browser.new_context(base_url=network.url, locale="de-DE", accept_downloads=True)
    context.set_default_timeout(10_000)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture(scope="module")
def menden(network: Network) -> dict[str, Any]:
    """Menden's open demo consultation, once the demo data is seeded."""
    def found() -> dict[str, Any]:  # empty until the demo data is seeded
        items = network.get("/api/v1/towns/menden/consultations").json().get("items", [])
        return next((c for c in items if CODE in {m["code"] for m in c["measures"]}), {})

    return eventually(found, timeout=30, interval=0.5, message="Menden's demo consultation")


@pytest.fixture(scope="module")
def rated(network: Network, menden: dict[str, Any]) -> None:
    """A citizen of Menden answered about CODE, and the region counted it: charts have figures."""
    citizen = network.bearer(network.citizen("menden", name="Rita Rad"))
    answer = network.post("/api/v1/towns/menden/ratings", headers=citizen, json={
        "measure_code": CODE, "effectiveness": 4, "support": "rather_yes"})
    assert answer.status_code == 201, answer.text
    eventually(lambda: (network.results_for(CODE) or {}).get("towns", {}).get("menden"),
               timeout=20, message="the answer reaches the regional results")


# ---------------------------------------------------------------------------------- helpers
def _sign_in(page: Any, account: tuple[str, str, str]) -> None:
    """Sign in with the staff form, as a person does, and land on the staff start page."""
    from playwright.sync_api import expect

    page.goto("/verwaltung/anmelden")
    expect(page.get_by_role("heading", level=1)).to_have_text("Anmeldung für die Verwaltung")
    page.get_by_label("E-Mail-Adresse").fill(account[0])
    page.get_by_label("Passwort").fill(account[1])
    page.get_by_role("button", name="Anmelden").click()
    expect(page).to_have_url(re.compile(r"/verwaltung$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Verwaltung")
    expect(page.get_by_role("complementary", name="Verwaltung")).to_contain_text(account[2])


def _town_nav(page: Any) -> Any:
    return page.get_by_role("navigation", name="Verwaltung Menden (Sauerland)")


def _results_of(title: str) -> re.Pattern[str]:
    """The name of a consultation's results link (its title is visually hidden, for context)."""
    return re.compile(r"^Ergebnisse ?: " + re.escape(title) + "$")


def _comment(network: Network, menden: dict[str, Any], body: str, name: str) -> str:
    """A citizen of Menden comments on CODE in the demo consultation; returns the comment's id."""
    citizen = network.bearer(network.citizen("menden", name=name))
    sent = network.post(f"/api/v1/towns/menden/measures/{CODE}/comments", headers=citizen,
                        json={"body": body, "consultation_id": menden["id"]})
    assert sent.status_code == 201, sent.text
    return str(sent.json()["id"])


# ---------------------------------------------------------------------------------- journeys
def test_a_town_admin_creates_a_consultation_picks_measures_and_opens_it(
        page: Any, network: Network, menden: dict[str, Any]) -> None:
    from playwright.sync_api import expect

    title = f"Sichere Schulwege {uuid.uuid4().hex[:6]}"
    taken = {m["code"] for m in menden["measures"]}
    today = date.today()

    # Given the admin of Menden, signed in, on the town's consultations
    _sign_in(page, ADMIN_MENDEN)
    page.get_by_role("link", name=re.compile("^Beteiligungen anlegen")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Beteiligungen in Menden (Sauerland)")

    # When they open the form for a new one and fill it in
    _town_nav(page).get_by_role("link", name="Neue Beteiligung").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Neue Beteiligung")
    page.get_by_label(re.compile("^Titel")).fill(title)
    page.get_by_label("Beschreibung").fill("Querungen und Gehwege auf den Wegen zu den Schulen.")
    page.get_by_label(re.compile("^Beginn")).fill(today.isoformat())
    page.get_by_label(re.compile("^Ende")).fill((today + timedelta(days=28)).isoformat())

    # And unfold the walking measures and tick two that no other consultation asks about
    page.get_by_text(re.compile(r"^Fußverkehr \(")).click()
    walking = page.get_by_role("group", name="Einzelne Maßnahmen: Fußverkehr")
    expect(walking.get_by_role("checkbox").first).to_be_visible()
    picked: list[str] = []
    boxes = walking.get_by_role("checkbox")
    for i in range(boxes.count()):
        code = boxes.nth(i).get_attribute("value")
        if code and code not in taken:
            boxes.nth(i).check()
            picked.append(code)
        if len(picked) == 2:
            break
    assert len(picked) == 2, "Menden's catalogue offers walking measures"
    page.get_by_role("button", name="Beteiligung als Entwurf anlegen").click()

    # Then the consultation exists as a draft with the two measures
    expect(page.get_by_role("status")).to_contain_text("als Entwurf angelegt")
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    expect(page.locator("dl.facts")).to_contain_text("Entwurf")
    for code in picked:
        expect(page.get_by_role("rowheader", name=code, exact=True)).to_be_visible()

    # When they open it with its button
    page.get_by_role("button", name="Beteiligung öffnen").click()

    # Then it is open, and the list of consultations says so
    expect(page.get_by_role("status")).to_contain_text("Die Beteiligung ist geöffnet")
    _town_nav(page).get_by_role("link", name="Beteiligungen", exact=True).click()
    row = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=title))
    expect(row).to_contain_text("Geöffnet")
    expect(row.get_by_role("link", name=_results_of(title))).to_be_visible()

    # And Menden's public page, reached by the header's link, lists it with its measures
    page.get_by_role("navigation", name="Städte").get_by_role(
        "link", name="Menden (Sauerland)").click()
    expect(page).to_have_url(re.compile(r"/stadt/menden$"))
    consultation = page.get_by_role("region", name=title)
    expect(consultation.get_by_role("heading", level=2)).to_have_text(title)
    expect(consultation.get_by_role("article")).to_have_count(2)
    for code in picked:
        expect(consultation.get_by_role("heading", level=4, name=re.compile(
            re.escape(f"({code})")))).to_be_visible()


def test_a_town_admin_hides_a_flagged_comment_with_a_reason(
        page: Any, network: Network, menden: dict[str, Any]) -> None:
    from playwright.sync_api import expect

    # Given a citizen's comment on a measure in Menden, flagged by another citizen as spam
    body = f"Günstige Uhren nur heute: uhren-{uuid.uuid4().hex[:6]}.example"
    comment_id = _comment(network, menden, body, "Udo Uhr")
    flagger = network.bearer(network.citizen("menden", name="Frieda Flagge"))
    flagged = network.post(f"/api/v1/towns/menden/comments/{comment_id}/flags", headers=flagger,
                           json={"reason": "spam"})
    assert flagged.status_code == 201, flagged.text
    measure_page = f"/stadt/menden/massnahmen/{CODE}"
    page.goto(measure_page)
    expect(page.get_by_text(body)).to_be_visible()

    # When the admin of Menden signs in and opens the moderation
    _sign_in(page, ADMIN_MENDEN)
    page.get_by_role("link", name="Moderation der Kommentare").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Moderation in Menden (Sauerland)")

    # Then the comment is in the queue of flagged content, with the reason of the flag
    flagged_section = page.get_by_role("region", name=re.compile("^Gemeldet"))
    item = flagged_section.get_by_role("article").filter(has_text=body)
    expect(item).to_have_count(1)
    expect(item.get_by_role("heading")).to_contain_text("Udo Uhr")
    expect(item).to_contain_text(CODE)
    expect(item).to_contain_text("1 Meldung: Werbung oder Spam")

    # When they hide it with a reason
    item.get_by_label(re.compile("^Begründung")).fill("Werbung ohne Bezug zur Maßnahme")
    item.get_by_role("button", name=re.compile("^Ausblenden")).click()

    # Then the page confirms it, and the log says who did what and why
    expect(page.get_by_role("status")).to_contain_text("Die Moderation ist gespeichert")
    log = page.get_by_role("table", name=re.compile("^Die letzten Moderationen"))
    entry = log.get_by_role("row").filter(has_text="Werbung ohne Bezug zur Maßnahme")
    expect(entry).to_have_count(1)
    expect(entry).to_contain_text(ADMIN_MENDEN[2])
    expect(entry).to_contain_text("ausgeblendet")

    # And the public page of the measure in Menden no longer shows the comment
    page.goto(measure_page)
    expect(page.get_by_role("heading", name=re.compile("^Diskussion|^Kommentare"))).to_be_visible()
    expect(page.get_by_text(body)).to_have_count(0)


def test_a_town_admin_declines_one_idea_with_a_reason_and_accepts_another(
        page: Any, network: Network) -> None:
    from playwright.sync_api import expect

    # Given two ideas of a citizen of Menden
    tag = uuid.uuid4().hex[:6]
    citizen = network.bearer(network.citizen("menden", name="Ida Idee"))
    declined, accepted = f"Seilbahn zum Rathaus {tag}", f"Fahrradbügel am Bahnhof {tag}"
    for title, text in ((declined, "Eine Seilbahn vom Bahnhof bis zum Rathausplatz."),
                        (accepted, "Am Bahnhof fehlen überdachte Fahrradbügel für Pendler.")):
        sent = network.post("/api/v1/towns/menden/ideas", headers=citizen, json={
            "title": title, "description": text, "field_of_action": "cycling"})
        assert sent.status_code == 201, sent.text

    # When the admin of Menden opens the ideas
    _sign_in(page, ADMIN_MENDEN)
    page.get_by_role("link", name="Ideen der Bürgerinnen und Bürger").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Menden")
    first = page.get_by_role("article", name=declined)
    expect(first).to_contain_text("Eingereicht")

    # And declines the first without a reason, it is refused at the reason's field
    first.get_by_role("button", name=re.compile("^Ablehnen")).click()
    alert = page.get_by_role("alert")
    expect(alert).to_be_visible()
    alert.get_by_role("link").first.click()
    first = page.get_by_role("article", name=declined)
    expect(first.get_by_label(re.compile("^Begründung"))).to_be_focused()
    expect(first.get_by_label(re.compile("^Begründung"))).to_have_attribute("aria-invalid", "true")

    # When they give a reason (typed where the link put the focus) and decline again
    page.keyboard.type("Zu teuer für den Nutzen; wir prüfen einen Bus.")
    first.get_by_role("button", name=re.compile("^Ablehnen")).click()

    # Then it is declined with that reason
    expect(page.get_by_role("status")).to_contain_text("Die Entscheidung ist gespeichert")
    first = page.get_by_role("article", name=declined)
    expect(first).to_contain_text("Abgelehnt")
    expect(first).to_contain_text("Zu teuer für den Nutzen; wir prüfen einen Bus.")
    expect(first.get_by_role("button")).to_have_count(0)

    # When they accept the second
    page.get_by_role("article", name=accepted).get_by_role(
        "button", name=re.compile("^Annehmen")).click()

    # Then it is accepted, and the list can be filtered to the accepted ones
    expect(page.get_by_role("status")).to_contain_text("Die Entscheidung ist gespeichert")
    expect(page.get_by_role("article", name=accepted)).to_contain_text("Angenommen")
    page.get_by_label("Anzeigen").select_option(label="Angenommen")
    page.get_by_role("button", name="Filtern").click()
    expect(page.get_by_role("article", name=accepted)).to_be_visible()
    expect(page.get_by_role("article", name=declined)).to_have_count(0)


def test_a_town_admin_reads_the_results_with_charts_and_downloads_the_csv(
        page: Any, network: Network, menden: dict[str, Any], rated: None) -> None:
    from playwright.sync_api import expect

    # Given the admin of Menden, signed in, on the town's consultations
    _sign_in(page, ADMIN_MENDEN)
    page.get_by_role("link", name=re.compile("^Beteiligungen anlegen")).click()

    # When they follow the results link of the demo consultation
    page.get_by_role("link", name=_results_of(menden["title"])).click()

    # Then the results page draws charts, each an image with an accessible name
    expect(page.get_by_role("heading", level=1)).to_contain_text(menden["title"])
    charts = page.locator("svg[role=img]")
    expect(charts.first).to_be_visible()
    assert charts.count() >= 2
    expect(page.get_by_role("img", name=re.compile("^Unterstützung je Maßnahme"))).to_be_visible()
    expect(page.get_by_role("img", name=re.compile("^Mittlere Zielführung"))).to_be_visible()

    # And each chart's figures are in a table behind a disclosure
    page.get_by_text("Die Zahlen als Tabelle").first.click()
    expect(page.get_by_role("table").first).to_contain_text(CODE)

    # When they download the CSV with its link
    with page.expect_download() as info:
        page.get_by_role("link", name="Ergebnisse als CSV herunterladen").click()
    download = info.value

    # Then it is a CSV for spreadsheets: UTF-8 with a BOM, separated by semicolons
    assert download.suggested_filename.endswith(".csv"), download.suggested_filename
    content = Path(download.path()).read_bytes()
    assert content.startswith(b"\xef\xbb\xbf"), content[:20]
    rows = list(csv.reader(io.StringIO(content[3:].decode("utf-8")), delimiter=";"))
    assert len(rows[0]) >= 3, f"columns separated by ';': {rows[0]}"
    measure = next((r for r in rows if CODE in r), None)
    assert measure is not None and len(measure) == len(rows[0]), rows


def test_a_coordinator_reads_the_dashboard_changes_a_status_and_signs_out(
        page: Any, network: Network, rated: None) -> None:
    from playwright.sync_api import expect

    note = f"Ratsbeschluss umgesetzt, Baubeginn im Mai ({uuid.uuid4().hex[:6]})"

    # Given the coordination, signed in, on the regional dashboard
    _sign_in(page, COORDINATOR)
    page.get_by_role("link", name="Ergebnisse der Region").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Regionale Übersicht")

    # Then it draws charts, each an image with an accessible name
    expect(page.get_by_role("img", name=re.compile("^Bewertungen je Stadt und Tag"))).to_be_visible()
    expect(page.get_by_role("img", name=re.compile("^Unterstützung in der Region"))).to_be_visible()
    assert page.locator("svg[role=img]").count() >= 3

    # When they find a decided measure in the catalogue and open it
    page.get_by_role("navigation", name="Regionale Koordination").get_by_role(
        "link", name="Maßnahmenkatalog").click()
    page.get_by_label("Stand", exact=True).select_option(label="Beschlossen")
    page.get_by_role("button", name="Filtern").click()
    expect(page).to_have_url(re.compile(r"status=decided"))
    table = page.get_by_role("table", name=re.compile("^Maßnahmen"))
    link = table.get_by_role("rowheader").first.get_by_role("link")
    code = link.inner_text()
    link.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(code)
    expect(page.locator("dl.facts")).to_contain_text("Beschlossen")

    # And set it in implementation at 10 % with a note
    page.get_by_label("Neuer Stand").select_option(label="In Umsetzung")
    page.get_by_label(re.compile("^Fortschritt in Prozent")).fill("10")
    page.get_by_label(re.compile("^Notiz")).fill(note)
    page.get_by_role("button", name="Stand speichern").click()

    # Then the page confirms it, and the history shows the new entry on top
    expect(page.get_by_role("status")).to_contain_text("Der neue Stand ist gespeichert")
    expect(page.locator("dl.facts")).to_contain_text("In Umsetzung")
    history = page.get_by_role("table", name=re.compile(f"{re.escape(code)}"))
    newest = history.get_by_role("row").nth(1)
    expect(newest).to_contain_text("In Umsetzung")
    expect(newest).to_contain_text("10 %")
    expect(newest).to_contain_text(note)
    expect(newest).to_contain_text(COORDINATOR[2])
    measure_url = page.url.split("?")[0]

    # When they sign out
    page.get_by_role("button", name="Abmelden").click()

    # Then the sign-in form says so, and the staff pages ask for a sign-in again
    expect(page.get_by_role("status")).to_contain_text("Sie sind abgemeldet.")
    response = page.goto(measure_url)
    assert response is not None and response.status == 401
    expect(page.get_by_role("heading", level=1)).to_have_text("Bitte melden Sie sich an")
    expect(page.get_by_text(note)).to_have_count(0)
    page.get_by_role("link", name="Zur Anmeldung der Verwaltung").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Anmeldung für die Verwaltung")


def test_an_admin_of_olpe_is_refused_mendens_moderation(
        page: Any, network: Network, menden: dict[str, Any]) -> None:
    from playwright.sync_api import expect

    # Given a new comment in Menden, waiting in Menden's moderation queue
    body = f"Nur für Menden bestimmt {uuid.uuid4().hex[:6]}"
    _comment(network, menden, body, "Maria Menden")

    # And the admin of Olpe, signed in, whose start page offers only Olpe
    _sign_in(page, ADMIN_OLPE)
    main = page.get_by_role("main")
    expect(main.get_by_role("link", name="Olpe", exact=True)).to_be_visible()
    expect(main.get_by_role("link", name="Menden (Sauerland)")).to_have_count(0)

    # When they open Menden's moderation page by its address
    response = page.goto(f"{STAFF_MENDEN}/moderation")

    # Then it is refused with an error page, and nothing of Menden's queue is shown
    assert response is not None and response.status == 403
    expect(page.get_by_role("alert")).to_contain_text("nicht berechtigt")
    expect(page.get_by_text(body)).to_have_count(0)
    expect(page.get_by_role("button", name=re.compile("^Ausblenden"))).to_have_count(0)
    expect(page.get_by_role("heading", name=re.compile("^Moderation"))).to_have_count(0)
