"""Maps on the pages: what a map shows, as data for the bundled Leaflet and as text.

A map is an addition to the page. Without JavaScript, or for anyone who does not see
it, the same features stand in the list beside it: each with its kind, size and
position in words. The map's data goes into the page as a JSON block that
`static/map.js` reads; tiles come only from the background a town or the region has
configured (`soesmart.towns.MapSource`), otherwise the map draws the boundary and the
measures on a plain background and asks no other host for anything.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup

from soesmart.geo import positions
from soesmart.i18n import format_number
from soesmart.towns import MapSource, towns

EARTH_RADIUS_M = 6_371_000
KIND_OF_TYPE = {"Point": "point", "MultiPoint": "point", "LineString": "line",
                "MultiLineString": "line", "Polygon": "area", "MultiPolygon": "area"}


@dataclass(frozen=True)
class Feature:
    """One measure on a map, with its text equivalent."""

    code: str
    title: str
    href: str
    geometry: dict[str, Any]
    text: str  # "Linie, etwa 2,3 km lang, Mitte bei 51,571° N, 8,106° O"


@dataclass(frozen=True)
class MapView:
    id: str
    label: str
    features: tuple[Feature, ...]
    boundary: dict[str, Any] | None = None
    boundary_demo: bool = False
    source: MapSource | None = None
    texts: dict[str, str] = field(default_factory=dict)

    @property
    def data(self) -> Markup:
        """The map's data as a JSON block that no browser runs (`</` cannot end it early)."""
        payload = {
            "id": self.id, "label": self.label,
            "boundary": self.boundary,
            "features": [{"code": f.code, "title": f.title, "href": f.href,
                          "geometry": f.geometry} for f in self.features],
            "tiles": self.source.as_client() if self.source else None,
            "texts": self.texts,
        }
        text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
        return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))

    @property
    def image_origin(self) -> str | None:
        """The one host the map may load images from (the configured background)."""
        return self.source.origin if self.source else None


def _metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    (lon1, lat1), (lon2, lat2) = a, b
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(h))


def _lines(geometry: dict[str, Any]) -> list[list[tuple[float, float]]]:
    c, kind = geometry["coordinates"], geometry["type"]
    parts = {"LineString": [c], "MultiLineString": c, "Polygon": c[:1],
             "MultiPolygon": [p[0] for p in c]}.get(kind, [])
    return [[(float(p[0]), float(p[1])) for p in part] for part in parts]


def length_m(geometry: dict[str, Any]) -> float:
    """Length of a line (or the outline of an area), in metres."""
    return sum(_metres(a, b) for line in _lines(geometry) for a, b in zip(line, line[1:], strict=False))


def area_m2(geometry: dict[str, Any]) -> float:
    """Area of the outer rings (holes left in), in square metres: enough to say "about"."""
    total = 0.0
    for ring in _lines(geometry):
        lat0 = math.radians(sum(p[1] for p in ring) / len(ring))
        xy = [(math.radians(lon) * EARTH_RADIUS_M * math.cos(lat0),
               math.radians(lat) * EARTH_RADIUS_M) for lon, lat in ring]
        total += abs(sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in zip(xy, xy[1:], strict=False))) / 2
    return total


def centre(geometry: dict[str, Any]) -> tuple[float, float]:
    """The middle of the geometry's extent (lon, lat)."""
    points = list(positions(geometry))
    lons, lats = [p[0] for p in points], [p[1] for p in points]
    return (min(lons) + max(lons)) / 2, (min(lats) + max(lats)) / 2


def describe(geometry: dict[str, Any], t: Callable[..., str], lang: str) -> str:
    """The geometry in words: kind, size and where its middle is."""
    kind = KIND_OF_TYPE[geometry["type"]]
    lon, lat = centre(geometry)
    where = t("map_at", lat=format_number(lat, lang, places=3), lon=format_number(lon, lang, places=3))
    if kind == "line":
        km = length_m(geometry) / 1000
        size = t("map_line", length=format_number(km, lang, places=1 if km < 100 else 0))
    elif kind == "area":
        ha = area_m2(geometry) / 10_000
        size = t("map_area", area=format_number(ha, lang, places=1 if ha < 100 else 0))
    else:
        count = len(list(positions(geometry)))
        size = t("map_point") if count == 1 else t("map_points", n=count)
    return f"{size}, {where}"


def map_view(map_id: str, label: str, measures: Iterable[dict[str, Any]],
             href: Callable[[dict[str, Any]], str], t: Callable[..., str], lang: str,
             town: str | None = None, boundary_alone: bool = True) -> MapView | None:
    """The map of a town (its boundary and background) or of the region with these measures;
    None when there is nothing to draw (or, unless `boundary_alone`, no measure has a place)."""
    registry = towns()
    features = tuple(
        Feature(code=m["code"], title=m["title"], href=href(m), geometry=m["geometry"],
                text=describe(m["geometry"], t, lang))
        for m in measures if m.get("geometry"))
    boundary = registry.boundary(town) if town else None
    if not features and (boundary is None or not boundary_alone):
        return None
    texts = {"zoom_in": t("map_zoom_in"), "zoom_out": t("map_zoom_out"),
             "boundary": t("map_boundary_demo" if boundary and boundary.demo else "map_boundary")}
    return MapView(id=map_id, label=label, features=features,
                   boundary=boundary.geometry if boundary else None,
                   boundary_demo=bool(boundary and boundary.demo),
                   source=registry.map_source(town), texts=texts)
