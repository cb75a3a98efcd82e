"""The regional catalogue on a real database (SQLite and PostgreSQL) and a real broker.

An import is checked row by row and applied whole or not at all; the same file
twice changes nothing; every change leaves through the outbox as an event.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from kombu import Connection

from services.measures.domain.model import ImportRefused
from services.measures.service_layer.handlers import MeasuresApp
from soesmart.config import Settings
from soesmart.contracts import ChangeMeasureStatus, MeasureStatus
from soesmart.messaging.topology import (
    NOTIFICATIONS_QUEUE,
    QueueSpec,
    declare_all,
    participation_queue,
)
from soesmart.towns import towns

HEADER = ("Code;Titel;Kurzbeschreibung;Programm;Handlungsfeld;Städte;Status;"
          "CO2-Einsparung (t/a);Kostenklasse;Zuständig;Ort")
GOOD_CSV = "\ufeff" + "\r\n".join([
    HEADER,
    "VEP-RAD-12;Fahrradstraße Thomästraße;Vorrang für den Radverkehr;vep_klima_plus;cycling;"
    "soest;proposed;12,5;medium;Stadt Soest, Abteilung Verkehrsplanung;Thomästraße",
    "VEP-FUSS-07;Querungshilfe Hauptstraße;Mittelinsel;vep_klima_plus;walking;"
    "Arnsberg, olpe;;1.234,5;low;Stadt Arnsberg;",
    "MPK-EN-09;PV auf Schuldächern;Solar auf allen Schulen;masterplan_klimapakt;energy_supply;"
    ";;400;high;5 für Südwestfalen;",
    "",
]) + "\r\n"


@pytest.fixture
def app(settings: Settings) -> MeasuresApp:
    # An empty catalogue: the demo catalogue has its own test below.
    return MeasuresApp(settings.model_copy(update={"demo": False}))


def drain(broker_url: str, spec: QueueSpec) -> list[dict[str, Any]]:
    """Take every message waiting in one of the declared queues."""
    out = []
    with Connection(broker_url) as conn:
        queue = spec.to_queue()(conn.default_channel)
        while (message := queue.get(no_ack=True)) is not None:
            out.append(json.loads(message.body))
    return out


def relay_all(app: MeasuresApp) -> None:
    while app.relay.relay_once():
        pass


def test_a_valid_csv_file_is_applied_and_announced_to_the_towns(app: MeasuresApp,
                                                                settings: Settings) -> None:
    declare_all(settings.broker_url, towns())
    report = app.import_catalogue(GOOD_CSV, "csv", "Regionale Koordination")
    assert report.created == ("VEP-RAD-12", "VEP-FUSS-07", "MPK-EN-09")
    measure = app.get_measure("VEP-FUSS-07")
    assert measure.towns == ("arnsberg", "olpe")  # a town's name counts as much as its slug
    assert measure.co2_saving_t_per_year == 1234.5  # German thousands point and decimal comma
    assert measure.status == MeasureStatus.PROPOSED and measure.place is None
    assert app.get_measure("VEP-RAD-12").co2_saving_t_per_year == 12.5
    assert [h.note for h in measure.history] == ["Import"]

    relay_all(app)
    events = drain(settings.broker_url, participation_queue("soest"))
    published = {e["code"]: e for e in events if e["type"] == "MeasurePublished"}
    assert set(published) == {"VEP-RAD-12", "VEP-FUSS-07", "MPK-EN-09"}
    assert published["VEP-RAD-12"]["cost_class"] == "medium"
    assert published["VEP-RAD-12"]["responsible_body"] == "Stadt Soest, Abteilung Verkehrsplanung"


def test_a_file_with_errors_is_refused_whole_naming_row_column_and_problem(
    app: MeasuresApp,
) -> None:
    bad = "\r\n".join([
        HEADER,
        "VEP-RAD-12;Gute Zeile;;vep_klima_plus;cycling;;;;;;",
        "vep-rad-13;Code klein geschrieben;;vep_klima_plus;cycling;;;;;;",
        "VEP-RAD-14;Unbekannte Stadt;;vep_klima_plus;cycling;Dortmund;;;;;",
        "VEP-RAD-15;Feld passt nicht;;vep_klima_plus;buildings;;;;;;",
        "VEP-RAD-16;Keine Zahl;;vep_klima_plus;cycling;;;viel;;;",
        "VEP-RAD-12;Doppelt;;vep_klima_plus;cycling;;;;;;",
        "VEP-RAD-17;;;vep_klima_plus;cycling;;;;teuer;;",
    ])
    with pytest.raises(ImportRefused) as refused:
        app.import_catalogue(bad, "csv", "Koordination")
    where = {(p["row"], p["column"]) for p in refused.value.details}
    assert where == {
        (3, "Code"), (4, "Städte"), (5, "Handlungsfeld"), (6, "CO2-Einsparung (t/a)"),
        (7, "Code"), (8, "Titel"), (8, "Kostenklasse"),
    }
    problems = {(p["row"], p["column"]): p["problem"] for p in refused.value.details}
    assert "Dortmund" in problems[(4, "Städte")]
    assert "Zeile 2" in problems[(7, "Code")]
    # Nothing of the file was applied, not even its good row.
    assert app.list_measures() == []
    assert app.relay.pending() == 0


def test_a_file_without_a_required_column_is_refused_at_its_header(app: MeasuresApp) -> None:
    with pytest.raises(ImportRefused) as refused:
        app.import_catalogue("Code;Titel;Farbe\r\nVEP-RAD-12;Titel;rot\r\n", "csv", "K")
    details = refused.value.details
    assert {"row": 1, "column": "Farbe", "problem": "unbekannte Spalte"} in details
    assert {d["column"] for d in details} >= {"Programm", "Handlungsfeld"}


def test_importing_the_same_file_twice_changes_nothing(app: MeasuresApp) -> None:
    app.import_catalogue(GOOD_CSV, "csv", "Koordination")
    pending = app.relay.pending()
    again = app.import_catalogue(GOOD_CSV, "csv", "Koordination")
    assert again.created == () and again.updated == () and again.unchanged == 3
    assert app.relay.pending() == pending
    assert app.get_measure("VEP-RAD-12").revision == 1


def test_a_changed_row_gives_a_new_revision_and_one_event(app: MeasuresApp) -> None:
    app.import_catalogue(GOOD_CSV, "csv", "Koordination")
    pending = app.relay.pending()
    changed = GOOD_CSV.replace("Vorrang für den Radverkehr", "Vorrang für Rad und Fuß")
    report = app.import_catalogue(changed, "csv", "Koordination")
    assert report.updated == ("VEP-RAD-12",) and report.unchanged == 2
    assert app.get_measure("VEP-RAD-12").revision == 2
    assert app.relay.pending() == pending + 1


def test_an_import_does_not_change_the_status_of_a_measure(app: MeasuresApp) -> None:
    app.import_catalogue(GOOD_CSV, "csv", "Koordination")
    with pytest.raises(ImportRefused) as refused:
        app.import_catalogue(GOOD_CSV.replace(";soest;proposed;", ";soest;decided;"), "csv", "K")
    assert [(p["row"], p["column"]) for p in refused.value.details] == [(2, "Status")]


def test_the_demo_catalogue_goes_out_and_comes_back_unchanged_as_csv_and_json(
    settings: Settings,
) -> None:
    app = MeasuresApp(settings)  # demo mode
    measures = app.list_measures()
    assert sum(m.programme == "vep_klima_plus" for m in measures) >= 260
    assert sum(m.programme == "masterplan_klimapakt" for m in measures) >= 60
    csv_text = app.export_catalogue("csv")
    assert csv_text.startswith("\ufeffCode;Titel;")
    pending = app.relay.pending()
    for fmt in ("csv", "json"):
        report = app.import_catalogue(app.export_catalogue(fmt), fmt, "Koordination")
        assert report.unchanged == len(measures) and not report.created and not report.updated
    assert app.relay.pending() == pending


def test_status_changes_keep_their_history_with_progress_and_each_is_an_event(
    app: MeasuresApp, settings: Settings,
) -> None:
    declare_all(settings.broker_url, towns())
    app.import_catalogue(GOOD_CSV, "csv", "Koordination")
    relay_all(app)
    drain(settings.broker_url, NOTIFICATIONS_QUEUE)
    for status, progress, note in (
        (MeasureStatus.DECIDED, None, "Ratsbeschluss vom 12. März"),
        (MeasureStatus.IN_IMPLEMENTATION, 30, "Ausschreibung läuft"),
        (MeasureStatus.IN_IMPLEMENTATION, 80, "Markierung fertig"),
    ):
        app.change_status(ChangeMeasureStatus(code="VEP-RAD-12", status=status, note=note,
                                              progress=progress, changed_by="Koordination"))
    history = app.get_measure("VEP-RAD-12").history
    assert [(h.status, h.progress) for h in history] == [
        (MeasureStatus.PROPOSED, None), (MeasureStatus.DECIDED, None),
        (MeasureStatus.IN_IMPLEMENTATION, 30), (MeasureStatus.IN_IMPLEMENTATION, 80),
    ]
    relay_all(app)
    events = [e for e in drain(settings.broker_url, NOTIFICATIONS_QUEUE)
              if e["type"] == "MeasureStatusChanged"]
    assert [(e["new_status"], e["progress"], e["revision"]) for e in events] == [
        ("decided", None, 2), ("in_implementation", 30, 3), ("in_implementation", 80, 4),
    ]
    assert events[0]["towns"] == ["soest"] and events[0]["field_of_action"] == "cycling"
