"""GeoJSON geometries of measures and town boundaries: checked against RFC 7946 and the region.

A geometry is a GeoJSON object of type Point, MultiPoint, LineString, MultiLineString,
Polygon or MultiPolygon with WGS84 positions `[longitude, latitude]` (RFC 7946 §3.1,
§4). Problems are named in German for the person who wrote the file, with the place
in the coordinates where it is (``coordinates[0][3]``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

GEOMETRY_TYPES = ("Point", "MultiPoint", "LineString", "MultiLineString", "Polygon",
                  "MultiPolygon")
# How deep each type nests its positions (a Point's coordinates are one position).
DEPTH = {"Point": 0, "MultiPoint": 1, "LineString": 1, "MultiLineString": 2, "Polygon": 2,
         "MultiPolygon": 3}
MAX_POSITIONS = 5000  # a measure is a street, a site or a district, not a coastline
MAX_TEXT = 200_000  # characters of a geometry written as JSON


class GeometryError(ValueError):
    """A geometry that is not valid GeoJSON, or lies outside the region."""


@dataclass(frozen=True)
class BoundingBox:
    """West, south, east, north in degrees (WGS84)."""

    west: float
    south: float
    east: float
    north: float

    def contains(self, lon: float, lat: float) -> bool:
        return self.west <= lon <= self.east and self.south <= lat <= self.north

    def describe(self) -> str:
        return (f"Länge {_deg(self.west)}–{_deg(self.east)}, "
                f"Breite {_deg(self.south)}–{_deg(self.north)}")


# Südwestfalen and its neighbourhood, roughly: every measure of the five towns lies inside.
REGION_BBOX = BoundingBox(7.3, 50.7, 8.7, 51.7)


def _deg(value: float) -> str:
    return f"{value:g}".replace(".", ",")


def parse_geometry(value: Any) -> dict[str, Any] | None:
    """A geometry given as an object or as GeoJSON text (empty text: none), checked."""
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        if len(text) > MAX_TEXT:
            raise GeometryError(f"zu groß (höchstens {MAX_TEXT} Zeichen)")
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise GeometryError(f"kein gültiges GeoJSON (JSON-Fehler: {exc.msg}, "
                                f"Zeichen {exc.pos + 1})") from None
    return check_geometry(value)


def check_geometry(value: Any) -> dict[str, Any]:
    """The geometry as a plain `{"type", "coordinates"}` object, or GeometryError saying why."""
    if not isinstance(value, dict):
        raise GeometryError("GeoJSON-Geometrie muss ein Objekt sein")
    kind = value.get("type")
    if kind in ("Feature", "FeatureCollection", "GeometryCollection"):
        raise GeometryError(f"„{kind}“ wird nicht angenommen; erwartet wird eine Geometrie "
                            f"({', '.join(GEOMETRY_TYPES)})")
    if kind not in GEOMETRY_TYPES:
        raise GeometryError(f"unbekannter Geometrietyp „{kind}“; erlaubt: {', '.join(GEOMETRY_TYPES)}")
    unknown = sorted(set(value) - {"type", "coordinates", "bbox"})
    if unknown:
        raise GeometryError(f"unbekannte Angabe(n) {', '.join(unknown)}; erlaubt: type, coordinates")
    if "coordinates" not in value:
        raise GeometryError("„coordinates“ fehlt")
    coordinates = value["coordinates"]
    _check_shape(kind, coordinates, "coordinates", DEPTH[kind])
    count = sum(1 for _ in positions({"type": kind, "coordinates": coordinates}))
    if count > MAX_POSITIONS:
        raise GeometryError(f"zu viele Punkte ({count}; höchstens {MAX_POSITIONS})")
    return {"type": kind, "coordinates": coordinates}


def _check_shape(kind: str, value: Any, where: str, depth: int) -> None:
    """Positions nested `depth` deep, with the minimum sizes RFC 7946 sets for each type."""
    if depth == 0:
        _check_position(value, where)
        return
    if not isinstance(value, list):
        raise GeometryError(f"{where}: Liste erwartet")
    if not value:
        raise GeometryError(f"{where}: leere Liste")
    line = kind in ("LineString", "MultiLineString") and depth == 1
    ring = kind in ("Polygon", "MultiPolygon") and depth == 1
    if line and len(value) < 2:
        raise GeometryError(f"{where}: eine Linie braucht mindestens 2 Punkte")
    for i, item in enumerate(value):
        _check_shape(kind, item, f"{where}[{i}]", depth - 1)
    if ring:
        _check_ring(value, where)


def _check_ring(ring: list[Any], where: str) -> None:
    if len(ring) < 4:
        raise GeometryError(f"{where}: ein Ring braucht mindestens 4 Punkte (RFC 7946 §3.1.6)")
    if [float(x) for x in ring[0][:2]] != [float(x) for x in ring[-1][:2]]:
        raise GeometryError(f"{where}: ein Ring muss mit seinem ersten Punkt enden "
                            "(RFC 7946 §3.1.6)")


def _check_position(value: Any, where: str) -> None:
    if not isinstance(value, list) or not 2 <= len(value) <= 3:
        raise GeometryError(f"{where}: Position [Länge, Breite] erwartet")
    for number in value:
        if isinstance(number, bool) or not isinstance(number, int | float) \
                or not math.isfinite(number):
            raise GeometryError(f"{where}: Koordinaten müssen Zahlen sein")
    lon, lat = value[0], value[1]
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise GeometryError(f"{where}: keine WGS84-Koordinate (Länge −180…180, Breite −90…90)")


def positions(geometry: dict[str, Any]) -> Iterator[tuple[float, float]]:
    """Every (longitude, latitude) of a checked geometry."""
    def walk(value: Any, depth: int) -> Iterator[tuple[float, float]]:
        if depth == 0:
            yield float(value[0]), float(value[1])
            return
        for item in value:
            yield from walk(item, depth - 1)

    yield from walk(geometry["coordinates"], DEPTH[geometry["type"]])


def check_inside(geometry: dict[str, Any], box: BoundingBox = REGION_BBOX) -> None:
    """GeometryError naming the first position outside the box (and a swapped pair as such)."""
    for lon, lat in positions(geometry):
        if not box.contains(lon, lat):
            hint = " (Länge und Breite vertauscht?)" if box.contains(lat, lon) else ""
            raise GeometryError(
                f"Punkt [{_deg(lon)}, {_deg(lat)}] liegt außerhalb der Region "
                f"({box.describe()}){hint}")


def canonical_text(geometry: dict[str, Any] | None) -> str | None:
    """One text per geometry (stored, compared, written to CSV): compact JSON."""
    if geometry is None:
        return None
    return json.dumps(geometry, separators=(",", ":"), ensure_ascii=False)


def from_text(text: str | None) -> dict[str, Any] | None:
    """A stored geometry text back as an object (None stays None)."""
    return json.loads(text) if text else None
