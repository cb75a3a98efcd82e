"""The demo region and paper questionnaires on the running network.

Right after start the coordinator's dashboard and the published results of a town's
earlier consultation show charts with data, and a second start adds no demo data.

Paper: the whole network runs as real processes; Soest's demo admin signs in in headless
Chromium, prints the questionnaire of the open demo consultation (the PDF is read back
with pypdf), enters a returned sheet with the keyboard alone and sees it counted once,
as paper, in the town's and in the region's results. Bad input over the JSON API is
refused with its field and changes no count.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import text

from soesmart.storage import make_engine
from tests.support.infra import eventually
from tests.support.network import Network, running_network

pytestmark = [pytest.mark.system, pytest.mark.browser]

ADMIN = ("admin.soest@demo.soesmart.example", "demo-soest-2026")


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    with running_network(tmp_path_factory.mktemp("paper"),
                         extra_env={"SOESMART_DEMO_REGION": "true"}) as net:
        yield net


@pytest.fixture(scope="module")
def soest(network: Network) -> dict[str, Any]:
    def found() -> dict[str, Any]:
        items = network.get("/api/v1/towns/soest/consultations").json().get("items", [])
        return next((c for c in items if c["status"] == "open" and c["measures"]), {})

    return eventually(found, timeout=30, interval=0.5, message="Soest's open demo consultation")


@pytest.fixture(scope="module")
def admin(network: Network) -> dict[str, str]:
    def sign_in() -> Any:
        r = network.post("/api/v1/auth/token", json={"email": ADMIN[0], "password": ADMIN[1]})
        return r if r.status_code == 201 else None

    return network.bearer(eventually(sign_in, timeout=20, message="the admin signs in").json()["token"])


@pytest.fixture
def page(browser: Any, network: Network) -> Iterator[Any]:
    context = browser.new_context(base_url=network.url, locale="de-DE", accept_downloads=True)
    context.set_default_timeout(10_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def town_tally(network: Network, admin: dict[str, str], cid: str, code: str) -> dict[str, Any]:
    results = network.get(f"/api/v1/towns/soest/consultations/{cid}/results", headers=admin).json()
    return next(m["tally"] for m in results["measures"] if m["code"] == code)


def region_tally(network: Network, code: str) -> dict[str, Any]:
    return network.settled_results(code).get("towns", {}).get("soest", {"answers": 0, "paper_answers": 0})


def test_staff_print_a_sheet_enter_it_by_keyboard_and_see_it_once_in_town_and_region(
        page: Any, network: Network, soest: dict[str, Any], admin: dict[str, str]) -> None:
    from playwright.sync_api import expect
    from pypdf import PdfReader

    cid, first = soest["id"], soest["measures"][0]
    before_town = town_tally(network, admin, cid, first["code"])
    before_region = region_tally(network, first["code"])

    # Given Soest's admin, signed in
    _staff_sign_in(page, ADMIN)

    # When they print two sheets of the open consultation
    page.goto(f"/verwaltung/stadt/soest/beteiligungen/{cid}")
    page.get_by_role("link", name=re.compile("^Papierfragebögen")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Papierfragebögen")
    pdf = page.request.get(f"/verwaltung/stadt/soest/beteiligungen/{cid}/fragebogen.pdf?first=41&count=2")
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    # Then the PDF opens and names every measure with both questions, on numbered sheets
    reader = PdfReader(io.BytesIO(pdf.body()))
    text = " ".join(" ".join(p.extract_text().split()) for p in reader.pages)
    for m in soest["measures"]:
        assert m["code"] in text and " ".join(m["title"].split()) in text, m["code"]
    assert "Bogen-Nr. 41" in text and "Bogen-Nr. 42" in text and "Bogen-Nr. 43" not in text
    assert "Wie zielführend ist diese Maßnahme?" in text and "Würden Sie diese Maßnahme unterstützen?" in text
    assert reader.metadata.title.startswith("Fragebogen") and reader.trailer["/Root"]["/Lang"] == "de"

    # When they enter returned sheet 41 with the keyboard alone: number, Tab, 4, Tab, 1, Enter
    expect(page.get_by_label("Bogennummer", exact=True)).to_be_focused()
    page.keyboard.type("41")
    page.keyboard.press("Tab")
    page.keyboard.type("4")
    page.keyboard.press("Tab")
    page.keyboard.type("1")
    page.keyboard.press("Enter")
    # Then the form says so and is ready for the next sheet
    expect(page.get_by_role("status")).to_contain_text("Bogen 41 gespeichert (1 Antworten)")
    expect(page.get_by_label("Bogennummer", exact=True)).to_be_focused()
    expect(page.get_by_role("table", name=re.compile("zuletzt erfassten"))).to_contain_text("41")

    # And the answer counts once, as paper, in the town and in the region
    town = town_tally(network, admin, cid, first["code"])
    assert town["answers"] == before_town["answers"] + 1
    assert town["paper_answers"] == before_town["paper_answers"] + 1
    region = region_tally(network, first["code"])
    assert region["answers"] == before_region["answers"] + 1
    assert region["paper_answers"] == before_region["paper_answers"] + 1

    # When the same sheet number is entered again (keyboard only)
    page.keyboard.type("41")
    page.keyboard.press("Tab")
    page.keyboard.type("2")
    page.keyboard.press("Enter")
    # Then it is refused naming the sheet, and nothing more is counted
    expect(page.get_by_role("alert")).to_contain_text("Bogen 41 wurde bereits erfasst")
    assert town_tally(network, admin, cid, first["code"]) == town
    assert region_tally(network, first["code"])["answers"] == region["answers"]


def test_bad_sheets_and_pdf_requests_are_refused_with_their_field(
        network: Network, soest: dict[str, Any], admin: dict[str, str]) -> None:
    cid, code = soest["id"], soest["measures"][0]["code"]
    url = f"/api/v1/towns/soest/consultations/{cid}/paper-sheets"
    before = town_tally(network, admin, cid, code)
    ok = network.post(url, headers=admin, json={"sheet_number": 900, "answers": [
        {"measure_code": code, "effectiveness": 3}]})
    assert ok.status_code == 201, ok.text
    twice = network.post(url, headers=admin, json={"sheet_number": 900, "answers": [
        {"measure_code": code, "effectiveness": 5}]})
    assert twice.status_code == 409 and "Bogen 900" in twice.json()["message"]
    assert twice.json()["details"][0]["field"] == "sheet_number"
    foreign = network.post(url, headers=admin, json={"sheet_number": 901, "answers": [
        {"measure_code": "VEP-ZZZ-99", "effectiveness": 3}]})
    assert foreign.status_code == 422 and foreign.json()["details"][0]["field"] == "answers.0.measure_code"
    out_of_scale = network.post(url, headers=admin, json={"sheet_number": 902, "answers": [
        {"measure_code": code, "effectiveness": 6}]})
    assert out_of_scale.status_code == 422
    assert "answers.0.effectiveness" in {d["field"] for d in out_of_scale.json()["details"]}
    assert town_tally(network, admin, cid, code)["answers"] == before["answers"] + 1

    draft = network.post("/api/v1/towns/soest/consultations", headers=admin, json={
        "title": "Entwurf ohne Fragebogen", "description": "", "starts_on": "2030-01-01",
        "ends_on": "2030-02-01", "measure_codes": [code]})
    assert draft.status_code == 201, draft.text
    pdf = network.get(f"/verwaltung/stadt/soest/beteiligungen/{draft.json()['id']}/fragebogen.pdf",
                      headers=admin)
    assert pdf.status_code == 409 and "geöffnete Beteiligung" in pdf.text and 'id="count"' in pdf.text


def test_a_csv_of_scanned_sheets_is_imported_all_or_nothing(
        network: Network, soest: dict[str, Any], admin: dict[str, str]) -> None:
    cid, (a, b) = soest["id"], [m["code"] for m in soest["measures"][:2]]
    url = f"/api/v1/towns/soest/consultations/{cid}/paper-sheets/import"
    csv_type = {**admin, "Content-Type": "text/csv"}
    before = town_tally(network, admin, cid, b)
    bad = f"Bogen;Code;Wirksamkeit;Unterstützung\n700;{a};4;ja\n701;{b};9;nein\n".encode()
    refused = network.post(url, headers=csv_type, data=bad)
    assert refused.status_code == 422
    assert refused.json()["details"] == [{"row": 3, "column": "Wirksamkeit", "problem": "1 bis 5 oder leer"}]
    good = f"\ufeffBogen;Code;Wirksamkeit;Unterstützung\r\n700;{a};4;ja\r\n701;{b};2;eher nein\r\n"
    imported = network.post(url, headers=csv_type, data=good.encode())
    assert imported.status_code == 201 and imported.json()["sheets"] == 2, imported.text
    after = town_tally(network, admin, cid, b)
    assert after["paper_answers"] == before["paper_answers"] + 1
    assert region_tally(network, b)["paper_answers"] >= after["paper_answers"]


COORDINATOR = ("koordination@demo.soesmart.example", "demo-region-2026")


def _staff_sign_in(page: Any, account: tuple[str, str]) -> None:
    from playwright.sync_api import expect

    page.goto("/verwaltung/anmelden")
    page.get_by_label("E-Mail-Adresse").fill(account[0])
    page.get_by_label("Passwort").fill(account[1])
    page.get_by_role("button", name="Anmelden").click()
    expect(page).to_have_url(re.compile(r"/verwaltung$"))


def _charts_with_data(page: Any, path: str) -> int:
    """Open `path` (again, until the demo has reached it); the number of charts, each with figures."""
    def shown() -> int:
        page.goto(path)
        figures = page.locator("figure.chart-figure")
        n = figures.count()
        if n == 0 or page.get_by_text("Noch keine Daten").count():
            return 0
        assert figures.locator("svg").count() >= n
        return n

    return eventually(shown, timeout=30, interval=1, message=f"charts with data on {path}")


def test_after_start_the_dashboard_and_the_published_results_show_charts_with_data(
        page: Any, network: Network, admin: dict[str, str]) -> None:
    # Given the network just started with demo data: the coordinator's dashboard has charts
    _staff_sign_in(page, COORDINATOR)
    assert _charts_with_data(page, "/verwaltung/region/ergebnisse") >= 1
    # And Soest's earlier consultation is closed with its results published, beside the open one
    items = network.get("/api/v1/towns/soest/consultations?include_drafts=true",
                        headers=admin).json()["items"]
    statuses = {c["status"] for c in items}
    assert {"open", "results_published"} <= statuses
    published = next(c for c in items if c["status"] == "results_published")
    assert "(Demo)" in published["title"]
    results = network.get(f"/api/v1/towns/soest/consultations/{published['id']}/results").json()
    assert results["participants"] > 50
    assert sum(m["tally"]["paper_answers"] for m in results["measures"]) > 0
    means = {m["tally"]["effectiveness_mean"] for m in results["measures"]}
    assert len(means) > 3, "opinions differ by measure"
    assert _charts_with_data(page, f"/verwaltung/stadt/soest/beteiligungen/{published['id']}/ergebnisse") == 3


def test_a_second_start_creates_no_demo_data_again(network: Network) -> None:
    """Last in this module: it restarts the network."""
    def counts() -> tuple[int, dict[str, int]]:
        results = network.get("/api/v1/results").json()["measures"]
        network.settled_results(results[0]["code"])
        results = network.get("/api/v1/results").json()["measures"]
        per_town: dict[str, int] = {}
        for m in results:
            for town, tally in m["towns"].items():
                per_town[town] = per_town.get(town, 0) + tally["answers"]
        citizens = 0
        for town in ("soest", "arnsberg", "bad-berleburg", "menden", "olpe"):
            engine = make_engine(network.database_url("participation", town))
            with engine.connect() as conn:
                citizens += int(conn.execute(text("SELECT count(*) FROM citizens")).scalar_one())
            engine.dispose()
        return citizens, per_town

    before = counts()
    assert before[0] > 1400 and len(before[1]) == 5
    network.stop()
    network.start()
    assert counts() == before
