"""GeoJSON geometries of measures and boundaries, and the maps' background in the towns file."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from soesmart.contracts import CatalogueEntry
from soesmart.geo import (
    REGION_BBOX,
    GeometryError,
    canonical_text,
    check_inside,
    from_text,
    parse_geometry,
)
from soesmart.towns import DEFAULT_TOWNS_FILE, TownsFileError, load_towns

SOEST = [8.106, 51.571]
LINE = {"type": "LineString", "coordinates": [[8.09, 51.57], [8.12, 51.58]]}
AREA = {"type": "Polygon",
        "coordinates": [[[8.1, 51.56], [8.12, 51.56], [8.12, 51.58], [8.1, 51.58], [8.1, 51.56]]]}


@pytest.mark.parametrize("geometry", [
    {"type": "Point", "coordinates": SOEST},
    {"type": "Point", "coordinates": [8.106, 51.571, 98.0]},  # with an altitude
    {"type": "MultiPoint", "coordinates": [SOEST, [8.2, 51.5]]},
    LINE,
    {"type": "MultiLineString", "coordinates": [LINE["coordinates"], LINE["coordinates"]]},
    AREA,
    {"type": "MultiPolygon", "coordinates": [AREA["coordinates"]]},
])
def test_every_geometry_type_of_rfc_7946_is_taken_as_object_and_as_text(geometry: dict) -> None:
    assert parse_geometry(geometry) == geometry
    assert parse_geometry(canonical_text(geometry)) == geometry
    check_inside(geometry)  # all of them lie in Südwestfalen


@pytest.mark.parametrize(("value", "says"), [
    ('{"type": "Point", "coordinates": [8.1, 51.5]', "kein gültiges GeoJSON"),
    ("[8.1, 51.5]", "muss ein Objekt sein"),
    ({"type": "Circle", "coordinates": SOEST}, "unbekannter Geometrietyp „Circle“"),
    ({"type": "Feature", "geometry": None}, "„Feature“ wird nicht angenommen"),
    ({"type": "GeometryCollection", "geometries": []}, "„GeometryCollection“ wird nicht"),
    ({"type": "Point"}, "„coordinates“ fehlt"),
    ({"type": "Point", "coordinates": [8.1]}, "coordinates: Position [Länge, Breite] erwartet"),
    ({"type": "Point", "coordinates": ["8.1", 51.5]}, "Koordinaten müssen Zahlen sein"),
    ({"type": "Point", "coordinates": [8.1, True]}, "Koordinaten müssen Zahlen sein"),
    ({"type": "Point", "coordinates": [181, 51.5]}, "keine WGS84-Koordinate"),
    ({"type": "LineString", "coordinates": [SOEST]}, "mindestens 2 Punkte"),
    ({"type": "Polygon", "coordinates": [AREA["coordinates"][0][:3]]}, "mindestens 4 Punkte"),
    ({"type": "Polygon", "coordinates": [AREA["coordinates"][0][:4]]},
     "coordinates[0]: ein Ring muss mit seinem ersten Punkt enden"),
    ({"type": "MultiPolygon", "coordinates": []}, "coordinates: leere Liste"),
    ({"type": "Point", "coordinates": SOEST, "properties": {}}, "unbekannte Angabe(n) properties"),
])
def test_invalid_geojson_is_refused_naming_what_and_where(value: object, says: str) -> None:
    with pytest.raises(GeometryError) as refused:
        parse_geometry(value)
    assert says in str(refused.value)


def test_a_place_outside_the_region_is_refused_and_swapped_coordinates_are_named_as_such() -> None:
    with pytest.raises(GeometryError, match=r"\[13,4, 52,5\] liegt außerhalb der Region"):
        check_inside({"type": "Point", "coordinates": [13.4, 52.5]})  # Berlin
    with pytest.raises(GeometryError, match="Länge und Breite vertauscht"):
        check_inside({"type": "LineString", "coordinates": [SOEST, [51.58, 8.12]]})
    assert REGION_BBOX.contains(7.3, 50.7) and not REGION_BBOX.contains(7.29, 51.0)


def test_an_empty_cell_is_no_geometry_and_stored_texts_come_back_as_they_were() -> None:
    assert parse_geometry("  ") is None and parse_geometry(None) is None
    assert from_text(canonical_text(AREA)) == AREA and from_text(None) is None


def test_a_catalogue_entry_refuses_bad_geojson_as_an_error_of_its_geometry_field() -> None:
    entry = dict(code="VEP-RAD-12", title="Fahrradstraße", programme="vep_klima_plus",
                 field_of_action="cycling")
    assert CatalogueEntry.model_validate({**entry, "geometry": LINE}).geometry == LINE
    with pytest.raises(ValidationError) as refused:
        CatalogueEntry.model_validate({**entry, "geometry": '{"type": "Line"}'})
    (error,) = refused.value.errors()
    assert error["loc"] == ("geometry",) and "Geometrietyp „Line“" in error["msg"]


def test_the_demo_towns_have_approximate_boundaries_marked_as_demo_inside_the_region() -> None:
    registry = load_towns(DEFAULT_TOWNS_FILE)
    for town in registry:
        boundary = registry.boundary(town.slug)
        assert boundary is not None and boundary.demo, town.slug
        assert boundary.geometry["type"] == "Polygon"
        check_inside(boundary.geometry, registry.region_bbox)
    assert registry.map_source("soest") is None  # no background: nothing from third parties


def _towns_file(tmp_path: Path, extra: str) -> Path:
    path = tmp_path / "towns.toml"
    path.write_text('[[town]]\nslug = "soest"\nname = "Soest"\npopulation = 1\n'
                    f'postcodes = ["59494"]\n{extra}', encoding="utf-8")
    return path


def test_a_map_background_is_configured_for_the_region_or_one_town(tmp_path: Path) -> None:
    path = _towns_file(tmp_path, '[town.map]\nkind = "wms"\nurl = "https://geo.example/wms"\n'
                                 'attribution = "© Land"\nlayers = "dop"\n')
    registry = load_towns(path)
    source = registry.map_source("soest")
    assert source is not None and source.kind == "wms" and source.origin == "https://geo.example"
    assert registry.map_source("olpe") is None


@pytest.mark.parametrize(("extra", "says"), [
    ('[town.map]\nurl = "http://tiles.example/{z}/{x}/{y}.png"\nattribution = "x"\n',
     "town 'soest': map.url: must be an https:// address"),
    ('[region]\n[region.map]\nurl = "ftp://tiles.example/"\nattribution = "x"\n',
     "region.map: url: must be an https:// address"),
    ('[town.map]\nurl = "https://tiles.example/{z}/{x}/{y}.png"\n',
     "town 'soest': map.attribution: Field required"),
    ('boundary = "nowhere.geojson"\n', "boundary nowhere.geojson: no such file"),
])
def test_a_wrong_map_or_boundary_in_the_towns_file_is_named_with_its_place(
        tmp_path: Path, extra: str, says: str) -> None:
    path = _towns_file(tmp_path, extra) if not extra.startswith("[region]") else None
    if path is None:
        path = tmp_path / "towns.toml"
        path.write_text(extra + '[[town]]\nslug = "soest"\nname = "Soest"\npopulation = 1\n'
                        'postcodes = ["59494"]\n', encoding="utf-8")
    with pytest.raises(TownsFileError) as refused:
        load_towns(path)
    assert says in str(refused.value)


def test_a_boundary_outside_the_region_is_refused(tmp_path: Path) -> None:
    (tmp_path / "far.geojson").write_text(
        '{"type": "Polygon", "coordinates": [[[13,52],[13.1,52],[13.1,52.1],[13,52]]]}')
    with pytest.raises(TownsFileError, match="außerhalb der Region"):
        load_towns(_towns_file(tmp_path, 'boundary = "far.geojson"\n'))
