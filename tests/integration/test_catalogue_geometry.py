"""Geometries in the catalogue on a real database (SQLite and PostgreSQL): imported from CSV and
JSON, refused with row and column, exported back, announced and kept in a town's replica."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from services.measures.domain.model import ImportRefused
from services.measures.service_layer.handlers import MeasuresApp
from soesmart.config import Settings
from soesmart.contracts import ChangeConsultationPhase, CreateConsultation, MeasurePublished
from soesmart.geo import canonical_text
from tests.support.participation import Clock, town_app

HEADER = "Code;Titel;Programm;Handlungsfeld;Städte;Geometrie (GeoJSON)"
LINE = {"type": "LineString", "coordinates": [[8.09, 51.57], [8.12, 51.58]]}
POINT = {"type": "Point", "coordinates": [7.851, 51.029]}


def _csv(*rows: str) -> str:
    return "\ufeff" + "\r\n".join([HEADER, *rows]) + "\r\n"


def _cell(geometry: dict) -> str:
    return '"' + canonical_text(geometry).replace('"', '""') + '"'  # type: ignore[union-attr]


GOOD = _csv(f"VEP-RAD-12;Fahrradstraße Thomästraße;vep_klima_plus;cycling;soest;{_cell(LINE)}",
            "VEP-FUSS-07;Querungshilfe;vep_klima_plus;walking;olpe;")


@pytest.fixture
def app(settings: Settings) -> MeasuresApp:
    return MeasuresApp(settings.model_copy(update={"demo": False}))


def test_a_geometry_in_the_csv_column_is_stored_announced_and_exported_back(app: MeasuresApp) -> None:
    app.import_catalogue(GOOD, "csv", "Koordination")
    assert app.get_measure("VEP-RAD-12").geometry == LINE
    assert app.get_measure("VEP-FUSS-07").geometry is None
    exported = app.export_catalogue("csv")
    assert exported.splitlines()[0].endswith(";Geometrie (GeoJSON)")
    as_json = json.loads(app.export_catalogue("json"))["measures"]
    assert {m["code"]: m["geometry"] for m in as_json} == {"VEP-FUSS-07": None, "VEP-RAD-12": LINE}
    for fmt in ("csv", "json"):  # both files come back unchanged
        report = app.import_catalogue(app.export_catalogue(fmt), fmt, "Koordination")
        assert report.unchanged == 2, fmt


def test_a_geometry_member_in_json_moves_a_measure_with_a_new_revision(app: MeasuresApp) -> None:
    app.import_catalogue(GOOD, "csv", "Koordination")
    pending = app.relay.pending()
    moved = {"measures": [{"code": "VEP-FUSS-07", "title": "Querungshilfe",
                           "programme": "vep_klima_plus", "field_of_action": "walking",
                           "towns": ["olpe"], "geometry": POINT}]}
    report = app.import_catalogue(json.dumps(moved), "json", "Koordination")
    assert report.updated == ("VEP-FUSS-07",)
    measure = app.get_measure("VEP-FUSS-07")
    assert measure.geometry == POINT and measure.revision == 2
    assert app.relay.pending() == pending + 1


def test_a_file_without_the_geometry_column_keeps_the_stored_geometries(app: MeasuresApp) -> None:
    app.import_catalogue(GOOD, "csv", "Koordination")
    older = "Code;Titel;Programm;Handlungsfeld;Städte\r\n" \
            "VEP-RAD-12;Fahrradstraße Thomästraße;vep_klima_plus;cycling;soest\r\n"
    report = app.import_catalogue(older, "csv", "Koordination")
    assert report.unchanged == 1
    assert app.get_measure("VEP-RAD-12").geometry == LINE


def test_bad_geometries_are_refused_with_row_and_column_and_nothing_is_written(
        app: MeasuresApp) -> None:
    berlin = {"type": "Point", "coordinates": [13.4, 52.5]}
    bad = _csv(
        f"VEP-RAD-12;Gute Zeile;vep_klima_plus;cycling;soest;{_cell(LINE)}",
        'VEP-RAD-13;Kein JSON;vep_klima_plus;cycling;;"{""type"": ""Point"""',
        f"VEP-RAD-14;In Berlin;vep_klima_plus;cycling;;{_cell(berlin)}",
        'VEP-RAD-15;Offener Ring;vep_klima_plus;cycling;;"{""type"":""Polygon"",'
        '""coordinates"":[[[8.1,51.5],[8.2,51.5],[8.2,51.6],[8.1,51.6]]]}"',
    )
    with pytest.raises(ImportRefused) as refused:
        app.import_catalogue(bad, "csv", "Koordination")
    problems = {(p["row"], p["column"]): p["problem"] for p in refused.value.details}
    assert set(problems) == {(3, "Geometrie (GeoJSON)"), (4, "Geometrie (GeoJSON)"),
                             (5, "Geometrie (GeoJSON)")}
    assert "kein gültiges GeoJSON" in problems[(3, "Geometrie (GeoJSON)")]
    assert "außerhalb der Region" in problems[(4, "Geometrie (GeoJSON)")]
    assert "Ring muss mit seinem ersten Punkt enden" in problems[(5, "Geometrie (GeoJSON)")]
    assert app.list_measures() == [] and app.relay.pending() == 0

    with pytest.raises(ImportRefused) as refused_json:
        app.import_catalogue(json.dumps([{"code": "VEP-RAD-16", "title": "Irgendwo",
                                          "programme": "vep_klima_plus", "field_of_action": "cycling",
                                          "geometry": {"type": "Point", "coordinates": [51.5, 8.1]}}]),
                             "json", "Koordination")
    (only,) = refused_json.value.details
    assert (only["row"], only["column"]) == (1, "geometry")
    assert "vertauscht" in str(only["problem"])
    assert app.list_measures() == []


def test_a_town_keeps_the_announced_geometry_and_its_consultation_shows_it(settings: Settings) -> None:
    town = town_app(settings, Clock())
    town.apply_measure_event(MeasurePublished(
        source={"service": "measures"}, code="VEP-RAD-01", title="Velorouten West", summary="",
        programme="vep_klima_plus", field_of_action="cycling", status="in_consultation",
        towns=("soest",), revision=2, geometry=LINE))
    today = Clock()().date()
    draft = town.create_consultation(CreateConsultation(
        title="Radverkehr", starts_on=today, ends_on=today + timedelta(days=7),
        measure_codes=("VEP-RAD-01", "VEP-RAD-02"), actor="Admin"))
    town.change_consultation_phase(ChangeConsultationPhase(consultation_id=draft.id, phase="open",
                                                           actor="Admin"))
    (shown,) = town.open_consultations()
    assert {m.code: m.geometry for m in shown.measures} == {"VEP-RAD-01": LINE, "VEP-RAD-02": None}
    town.stop()
