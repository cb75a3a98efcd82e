"""Maps and published results as people meet them in headless Chromium.

The whole network runs with a towns file that gives Soest a background map from a tile
server on loopback (https, its own certificate); the other towns have none. Measures
get their geometries by a catalogue import, as a coordinator would. A request listener
records every request the browser makes: none may leave for a host other than the
gateway and, where configured, the tile server.
"""

from __future__ import annotations

import http.server
import json
import re
import ssl
import struct
import subprocess
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from soesmart.towns import DEFAULT_TOWNS_FILE
from tests.support.browser import assert_accessible
from tests.support.citizens import signed_in_citizens
from tests.support.infra import create_vhost, delete_vhost, eventually
from tests.support.network import Network

pytestmark = pytest.mark.browser

WIDTHS = (320, 768, 1280)  # a phone, a tablet, a desktop
ADMIN_MENDEN = ("admin.menden@demo.soesmart.example", "demo-menden-2026")


def _png(size: int = 256) -> bytes:
    """A plain light-green tile."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    rows = b"".join(b"\x00" + b"\xdc\xe8\xd5" * size for _ in range(size))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


@dataclass
class TileServer:
    origin: str
    served: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def tiles(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TileServer]:
    """An https tile server on loopback with a certificate made for this run."""
    where = tmp_path_factory.mktemp("tiles")
    key, cert = where / "key.pem", where / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    tile, served = _png(), []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
            served.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(tile)))
            self.end_headers()
            self.wfile.write(tile)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    # The handshake happens in the handler's thread: a connection the browser opened ahead
    # and never used must not block the accepting loop (and with it the shutdown).
    server.socket = context.wrap_socket(server.socket, server_side=True,
                                        do_handshake_on_connect=False)
    # Its own loop instead of serve_forever: `shutdown()` waits for serve_forever to notice,
    # and in a full run (eventlet patches threading) it once waited past pytest's timeout.
    # Here the end never waits for the loop: the flag stops it, closing the socket ends it.
    server.timeout = 0.2
    stopping = threading.Event()

    def serve() -> None:
        while not stopping.is_set():
            server.handle_request()

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield TileServer(f"https://127.0.0.1:{server.server_address[1]}", served)
    finally:
        stopping.set()
        server.server_close()


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory, tiles: TileServer) -> Iterator[Network]:
    data = tmp_path_factory.mktemp("maps")
    towns_file = data / "towns.toml"
    source = DEFAULT_TOWNS_FILE.read_text(encoding="utf-8")
    soest_map = (f'[town.map]\nurl = "{tiles.origin}/{{z}}/{{x}}/{{y}}.png"\n'
                 'attribution = "Testkacheln auf loopback"\n\n[[town]]\nslug = "arnsberg"')
    towns_file.write_text(source.replace('[[town]]\nslug = "arnsberg"', soest_map, 1),
                          encoding="utf-8")  # boundaries: found in the package
    vhost, url = create_vhost()
    net = Network(data_dir=data, broker_url=url, vhost=vhost,
                  # the small demo: one open consultation per town, no demo ratings yet
                  extra_env={"SOESMART_TOWNS_FILE": str(towns_file),
                             "SOESMART_DEMO_REGION": "false"})
    try:
        net.start(wait=False)
        net.wait_ready(timeout=180)  # nine processes start; slower on a busy machine
        _give_measures_a_place(net)
        yield net
    finally:
        net.stop()
        delete_vhost(vhost)


def _consultation(net: Network, town: str) -> dict[str, Any]:
    return dict(eventually(lambda: (net.get(f"/api/v1/towns/{town}/consultations").json()
                                    .get("items") or [None])[0],
                           timeout=20, message=f"{town}'s demo consultation"))


# Soest's own measures, and two region-wide ones placed in Olpe (Soest's consultation asks
# them too, so Soest's map shows all four; Olpe's the two).
PLACES = {
    "VEP-RAD-01": {"type": "LineString",
                   "coordinates": [[8.08, 51.568], [8.1, 51.574], [8.12, 51.571]]},
    "MPK-GEB-01": {"type": "Polygon", "coordinates": [[[8.1, 51.56], [8.115, 51.56], [8.115, 51.568],
                                                       [8.1, 51.568], [8.1, 51.56]]]},
    "VEP-RAD-03": {"type": "Point", "coordinates": [7.851, 51.029]},
    "VEP-RAD-04": {"type": "LineString", "coordinates": [[7.83, 51.02], [7.87, 51.035]]},
}
ON_THE_MAP = {"soest": set(PLACES), "olpe": {"VEP-RAD-03", "VEP-RAD-04"}}


def _give_measures_a_place(net: Network) -> None:
    """Import geometries for measures of Soest's and Olpe's consultations, as a coordinator
    would, then wait until the towns' copies of the catalogue have them."""
    catalogue = {m["code"]: m for m in json.loads(
        net.get("/api/v1/measures/export?format=json").text)["measures"]}
    rows = [{**catalogue[code], "geometry": g} for code, g in PLACES.items()]
    answer = net.post("/api/v1/measures/import", json={"measures": rows},
                      headers={"Authorization": f"Bearer {net.token}"})
    assert answer.status_code == 200, answer.text
    for town, codes in ON_THE_MAP.items():
        eventually(lambda town=town, codes=codes: {
            m["code"] for m in _consultation(net, town)["measures"] if m.get("geometry")} == codes,
                   timeout=30, message=f"{town}'s copy of the catalogue has the geometries")


@pytest.fixture
def context(browser: Any, network: Network) -> Iterator[Any]:
    ctx = browser.new_context(base_url=network.url, locale="de-DE", ignore_https_errors=True)
    try:
        yield ctx
    finally:
        ctx.close()


def _record(page: Any) -> list[str]:
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    return requested


def _hosts(urls: list[str]) -> set[str]:
    return {urlsplit(u).netloc for u in urls if not u.startswith("data:")}


def _shot(page: Any, name: str) -> None:
    page.screenshot(path=str(Path("var/screenshots") / f"{name}.png"), full_page=False)


@pytest.fixture(scope="module", autouse=True)
def _screenshots() -> None:
    Path("var/screenshots").mkdir(parents=True, exist_ok=True)


def test_soest_shows_its_measures_on_a_map_over_the_configured_tiles_and_nowhere_else(
        context: Any, network: Network, tiles: TileServer) -> None:
    from playwright.sync_api import expect

    page = context.new_page()
    requested = _record(page)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/stadt/soest")
    region = page.get_by_role("region", name="Die Maßnahmen auf der Karte")
    expect(region).to_be_visible()
    expect(region.locator(".leaflet-tile-loaded").first).to_be_visible(timeout=30_000)
    expect(region.locator(".map-pin")).to_have_count(4)
    expect(region.locator("path.leaflet-interactive")).to_have_count(3)  # 2 lines, 1 area
    # the list says in words what the map shows
    listed = page.locator(".map-list li")
    expect(listed).to_have_count(4)
    expect(listed.filter(has_text="VEP-RAD-01")).to_contain_text("Linie, etwa")
    expect(listed.filter(has_text="MPK-GEB-01")).to_contain_text("Fläche, etwa")
    expect(listed.filter(has_text="VEP-RAD-03")).to_contain_text("Ort, Mitte bei 51,029° N, 7,851° O")
    expect(page.get_by_text("Hintergrundkarte: Testkacheln auf loopback.")).to_be_visible()
    region.scroll_into_view_if_needed()
    page.wait_for_load_state("networkidle")
    _shot(page, "map-soest-tiles")
    assert tiles.served, "the browser asked the configured tile server for tiles"
    assert _hosts(requested) == {urlsplit(network.url).netloc, urlsplit(tiles.origin).netloc}


def test_olpe_without_a_background_draws_boundary_and_measures_and_asks_no_other_host(
        context: Any, network: Network, tiles: TileServer) -> None:
    from playwright.sync_api import expect

    page = context.new_page()
    requested = _record(page)
    served_before = len(tiles.served)
    page.goto("/stadt/olpe")
    region = page.get_by_role("region", name="Die Maßnahmen auf der Karte")
    expect(region).to_have_class(re.compile("map-plain"))
    expect(region.locator("path")).to_have_count(3)  # the boundary, the line, the point's dot
    expect(region.locator(".leaflet-tile")).to_have_count(0)
    expect(page.get_by_text(re.compile("ungefähr die Stadtgrenze \\(Demo"))).to_be_visible()
    region.scroll_into_view_if_needed()
    _shot(page, "map-olpe-plain")

    # The keyboard reaches a pin with Tab from the map and opens its measure with Enter
    region.focus()
    for _ in range(6):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('map-pin')"):
            break
    title = page.evaluate("document.activeElement.title")
    assert re.match(r"^[A-Z]+-[A-Z]+-\d+ ", title), "Tab reached a pin named by its measure"
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/stadt/olpe/massnahmen/{title.split()[0]}$"))

    # The measure page shows its own place
    place = page.get_by_role("region", name="Lage der Maßnahme")
    expect(place).to_be_visible()
    expect(place.locator(".map-pin")).to_have_count(1)
    place.scroll_into_view_if_needed()
    _shot(page, "map-olpe-measure")
    assert _hosts(requested) == {urlsplit(network.url).netloc}
    assert len(tiles.served) == served_before


def test_without_javascript_the_list_says_what_the_map_would(browser: Any, network: Network) -> None:
    from playwright.sync_api import expect

    ctx = browser.new_context(base_url=network.url, locale="de-DE", java_script_enabled=False)
    try:
        page = ctx.new_page()
        page.goto("/stadt/olpe")
        expect(page.locator(".map")).to_be_hidden()
        expect(page.locator(".map-list li")).to_have_count(2)
        expect(page.locator(".map-list li").first).to_contain_text("Mitte bei 51,0")
        expect(page.get_by_role("article")).not_to_have_count(0)  # the measures stay listed
    finally:
        ctx.close()


def _labels_outside(page: Any) -> list[str]:
    """Texts of the charts whose drawn box leaves the chart's drawing (its viewBox)."""
    return list(page.evaluate("""() => {
        const out = [];
        for (const svg of document.querySelectorAll('svg.chart')) {
            const vb = svg.viewBox.baseVal;
            for (const t of svg.querySelectorAll('text')) {
                const b = t.getBBox();
                if (b.x < vb.x - 0.5 || b.x + b.width > vb.x + vb.width + 0.5)
                    out.push(`${svg.getAttribute('aria-labelledby')}: "${t.textContent}"`
                             + ` from ${b.x.toFixed(1)} to ${(b.x + b.width).toFixed(1)}`);
            }
        }
        return out; }"""))


def test_menden_publishes_its_results_and_a_citizen_reads_them_beside_the_region(
        browser: Any, context: Any, network: Network, axe_script: str) -> None:
    from playwright.sync_api import expect

    # Given three citizens of Menden who answered the first measure of its consultation
    consultation = _consultation(network, "menden")
    code, title = consultation["measures"][0]["code"], consultation["measures"][0]["title"]
    for n, headers in enumerate(signed_in_citizens(network, "menden", 3)):
        answer = network.post("/api/v1/towns/menden/ratings", headers=headers, json={
            "measure_code": code, "effectiveness": 3 + n % 3, "support": "yes"})
        assert answer.status_code in (200, 201), answer.text

    # When Menden's admin closes the consultation and publishes the results, confirming it
    admin = context.new_page()
    admin.goto("/verwaltung/anmelden")
    admin.get_by_label("E-Mail-Adresse").fill(ADMIN_MENDEN[0])
    admin.get_by_label("Passwort").fill(ADMIN_MENDEN[1])
    admin.get_by_role("button", name="Anmelden").click()
    admin.goto(f"/verwaltung/stadt/menden/beteiligungen/{consultation['id']}")
    admin.get_by_role("button", name="Beteiligung schließen").click()
    publish = admin.get_by_role("button", name="Ergebnisse veröffentlichen")
    admin.evaluate("document.getElementById('confirm').removeAttribute('required')")
    publish.click()  # without the confirmation: refused, named at the field, nothing written
    expect(admin.get_by_role("alert")).to_contain_text("Bitte bestätigen Sie")
    assert network.get(f"/stadt/menden/ergebnisse/{consultation['id']}").status_code == 404
    admin.get_by_label(re.compile("^Ich habe die Ergebnisse geprüft")).check()
    admin.get_by_role("button", name="Ergebnisse veröffentlichen").click()
    expect(admin.get_by_text("Ergebnisse veröffentlicht").first).to_be_visible()

    # Then a citizen finds them on Menden's page and reads them per measure beside the region
    page = browser.new_context(base_url=network.url, locale="de-DE", bypass_csp=True).new_page()
    requested = _record(page)
    page.goto("/stadt/menden")
    page.get_by_role("region", name="Veröffentlichte Ergebnisse").get_by_role(
        "link", name=consultation["title"]).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Ergebnisse: {consultation['title']}")
    table = page.get_by_role("table", name=re.compile("Menden \\(Sauerland\\) und die Region"))
    row = table.get_by_role("row", name=re.compile(re.escape(title)))
    expect(row.get_by_role("cell").first).to_have_text("3")  # Menden's answers
    expect(page.locator("svg.chart")).to_have_count(3)
    for width in WIDTHS:  # no chart label is cut, on a phone, a tablet or a desktop
        page.set_viewport_size({"width": width, "height": 900})
        assert _labels_outside(page) == [], f"at {width} px"
        page.locator("svg.chart").first.scroll_into_view_if_needed()
        _shot(page, f"results-menden-{width}")
    assert_accessible(page, axe_script)
    assert _hosts(requested) == {urlsplit(network.url).netloc}

    # And the measure's fact sheet tells its story, with the way to these results
    def told() -> bool:
        page.goto(f"/massnahmen/{code}")
        return page.get_by_role("link", name=re.compile("^Ergebnisse von Menden")).count() > 0

    eventually(told, timeout=20, interval=0.5, message="the timeline names the published results")
    story = page.locator("ol.timeline")
    expect(story).to_contain_text("Gefragt in der Beteiligung")
    expect(story).to_contain_text("3 Antworten")
    story.scroll_into_view_if_needed()
    _shot(page, "timeline-measure")
    assert_accessible(page, axe_script)


def test_the_pages_with_maps_meet_wcag_2_1_a_and_aa_by_axe_core(
        browser: Any, network: Network, axe_script: str) -> None:
    ctx = browser.new_context(base_url=network.url, locale="de-DE", bypass_csp=True,
                              ignore_https_errors=True)
    try:
        page = ctx.new_page()
        code = _consultation(network, "soest")["measures"][0]["code"]
        for path in ("/stadt/soest", "/stadt/olpe", f"/stadt/soest/massnahmen/{code}",
                     f"/massnahmen/{code}"):
            page.goto(path)
            page.locator(".map .leaflet-container, .leaflet-container").first.wait_for()
            assert_accessible(page, axe_script)
    finally:
        ctx.close()
