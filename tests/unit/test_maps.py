"""What a map on a page shows and says: its features in words, its data block, its one host."""

from __future__ import annotations

import json
import re

from services.gateway.texts import text
from services.gateway.web.maps import area_m2, describe, length_m, map_view
from services.gateway.web.page import content_security_policy


def t(key: str, n: int | None = None, **values: object) -> str:
    return text(key, "de", n, **values)


LINE = {"type": "LineString", "coordinates": [[8.0, 51.5], [8.0, 51.6]]}  # about 11 km north
SQUARE = {"type": "Polygon", "coordinates": [[[8.0, 51.5], [8.01, 51.5], [8.01, 51.51],
                                              [8.0, 51.51], [8.0, 51.5]]]}


def test_a_geometry_is_told_in_words_with_its_kind_size_and_middle() -> None:
    assert round(length_m(LINE) / 1000, 1) == 11.1
    assert 75 < area_m2(SQUARE) / 10_000 < 80  # 0.01° x 0.01° at 51.5° N: about 77 ha
    assert describe(LINE, t, "de") == "Linie, etwa 11,1 km lang, Mitte bei 51,550° N, 8,000° O"
    assert describe(SQUARE, t, "de").startswith("Fläche, etwa 77,")
    assert describe({"type": "Point", "coordinates": [7.851, 51.029]}, t, "de") == \
        "Ort, Mitte bei 51,029° N, 7,851° O"
    two = {"type": "MultiPoint", "coordinates": [[8.0, 51.5], [8.1, 51.5]]}
    assert describe(two, t, "de").startswith("2 Orte, ")
    assert describe(LINE, lambda k, n=None, **v: text(k, "en", n, **v), "en") == \
        "Line, about 11.1 km long, centred at 51.550° N, 8.000° E"


def test_the_map_data_cannot_end_its_script_block_and_names_no_background_by_default() -> None:
    evil = {"code": "VEP-RAD-01", "title": "</script><script>alert(1)</script>", "geometry": LINE}
    view = map_view("karte", "Karte", [evil], lambda m: "/x", t, "de", town="soest")
    assert view is not None
    assert "</script>" not in view.data and "<" not in view.data
    data = json.loads(str(view.data))
    assert data["features"][0]["title"] == evil["title"]
    assert data["tiles"] is None and view.image_origin is None  # nothing from third parties
    assert data["boundary"]["type"] == "Polygon" and view.boundary_demo


def test_a_measure_page_without_a_place_has_no_map_and_a_town_page_shows_its_boundary() -> None:
    no_place = {"code": "VEP-RAD-01", "title": "Velorouten", "geometry": None}
    assert map_view("karte", "K", [no_place], lambda m: "", t, "de", town="soest",
                    boundary_alone=False) is None
    assert map_view("karte", "K", [no_place], lambda m: "", t, "de", town="soest") is not None


def test_the_content_security_policy_adds_only_the_configured_background_host() -> None:
    plain = content_security_policy()
    assert re.search(r"img-src 'self' data:;", plain)
    with_tiles = content_security_policy(("https://tiles.example:8443",))
    assert "img-src 'self' data: https://tiles.example:8443;" in with_tiles
    assert with_tiles.replace(" https://tiles.example:8443", "") == plain
