"""The catalogue listing with filters and paging (`list_catalogue`), on real databases and over RPC.

The measures service filters by programme, field of action, status, town and a
search text and hands out one page with the total, so its callers no longer
fetch the whole catalogue to show fifty measures.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from nameko.exceptions import UnknownService
from nameko.standalone.rpc import ClusterRpcProxy

from services.measures.service_layer.handlers import MeasuresApp
from soesmart.config import Settings
from soesmart.contracts import (
    CatalogueQuery,
    ChangeMeasureStatus,
    MeasureStatus,
    Programme,
    RpcReply,
)
from tests.support.infra import create_vhost, delete_vhost, eventually
from tests.support.network import Network

HEADER = "Code;Titel;Kurzbeschreibung;Programm;Handlungsfeld;Städte;Status"
CATALOGUE = "\r\n".join([
    HEADER,
    "VEP-RAD-12;Fahrradstraße Thomästraße;Vorrang für Räder;vep_klima_plus;cycling;soest;",
    "VEP-RAD-13;Radweg Ruhrtal;Lückenschluss;vep_klima_plus;cycling;arnsberg, olpe;",
    "VEP-FUSS-07;Querungshilfe Hauptstraße;Mittelinsel;vep_klima_plus;walking;;",
    "MPK-EN-09;PV auf Schuldächern;Solar auf allen Schulen;masterplan_klimapakt;energy_supply;;",
    "MPK-EN-10;Wärmenetz Olpe;Nahwärme;masterplan_klimapakt;energy_supply;olpe;",
    "",
])


@pytest.fixture
def app(settings: Settings) -> MeasuresApp:
    app = MeasuresApp(settings.model_copy(update={"demo": False}))
    app.import_catalogue(CATALOGUE, "csv", "Regionale Koordination")
    return app


def codes(app: MeasuresApp, **query: Any) -> list[str]:
    return [m.code for m in app.list_catalogue(CatalogueQuery(**query)).items]


def test_each_filter_keeps_only_the_measures_that_match(app: MeasuresApp) -> None:
    assert codes(app) == ["MPK-EN-09", "MPK-EN-10", "VEP-FUSS-07", "VEP-RAD-12", "VEP-RAD-13"]
    assert codes(app, programme=Programme.MASTERPLAN_KLIMAPAKT) == ["MPK-EN-09", "MPK-EN-10"]
    assert codes(app, field_of_action="cycling") == ["VEP-RAD-12", "VEP-RAD-13"]
    # A town lists the measures named for it and the region-wide ones (no town named)
    assert codes(app, town="olpe") == ["MPK-EN-09", "MPK-EN-10", "VEP-FUSS-07", "VEP-RAD-13"]
    assert codes(app, town="soest", field_of_action="cycling") == ["VEP-RAD-12"]
    # The search text is found in code or title regardless of case, "ß" as "ss" too
    assert codes(app, q="STRASSE") == ["VEP-FUSS-07", "VEP-RAD-12"]
    assert codes(app, q="rad-1") == ["VEP-RAD-12", "VEP-RAD-13"]
    assert codes(app, status=MeasureStatus.DECIDED) == []


def test_a_status_change_moves_a_measure_between_status_filters(app: MeasuresApp) -> None:
    app.change_status(ChangeMeasureStatus(code="VEP-RAD-13", status=MeasureStatus.DECIDED,
                                          changed_by="Regionale Koordination"))
    decided = app.list_catalogue(CatalogueQuery(status="decided"))
    assert [(m.code, m.status, m.revision) for m in decided.items] == [
        ("VEP-RAD-13", MeasureStatus.DECIDED, 2)]
    assert decided.items[0].towns == ("arnsberg", "olpe")
    assert "VEP-RAD-13" not in codes(app, status="proposed")


def test_a_page_holds_at_most_limit_measures_and_the_total_counts_all_pages(
    app: MeasuresApp,
) -> None:
    first = app.list_catalogue(CatalogueQuery(limit=2))
    second = app.list_catalogue(CatalogueQuery(limit=2, offset=2))
    last = app.list_catalogue(CatalogueQuery(limit=2, offset=4))
    assert [len(p.items) for p in (first, second, last)] == [2, 2, 1]
    assert {p.total for p in (first, second, last)} == {5}
    assert [m.code for p in (first, second, last) for m in p.items] == codes(app)
    beyond = app.list_catalogue(CatalogueQuery(limit=2, offset=40))
    assert beyond.items == () and beyond.total == 5  # a page after the last is empty
    filtered = app.list_catalogue(CatalogueQuery(town="olpe", limit=3, offset=3))
    assert [m.code for m in filtered.items] == ["VEP-RAD-13"] and filtered.total == 4


# ------------------------------------------------------------------------------ over the broker


@pytest.fixture
def measures_service(tmp_path: Path) -> Iterator[ClusterRpcProxy]:
    vhost, url = create_vhost()
    net = Network(data_dir=tmp_path, broker_url=url, vhost=vhost)
    net.start(only=["measures"], wait=False)
    try:
        with ClusterRpcProxy({"AMQP_URI": url, "serializer": "json"}, timeout=10) as cluster:

            def answers() -> bool:
                net.assert_alive()
                try:
                    return bool(cluster.measures.ping()["ok"])
                except UnknownService:  # its queue is not declared yet
                    return False

            eventually(answers, timeout=60, interval=0.3, message="the measures service answers")
            yield cluster
    finally:
        net.stop()
        delete_vhost(vhost)


def test_the_measures_service_pages_its_demo_catalogue_over_rpc(
    measures_service: ClusterRpcProxy,
) -> None:
    everything = RpcReply.model_validate(measures_service.measures.list_measures())
    assert everything.ok and len(everything.data) == 320  # the old listing still answers
    expected = [m["code"] for m in everything.data
                if m["programme"] == "vep_klima_plus" and m["status"] == "proposed"]

    reply = RpcReply.model_validate(measures_service.measures.list_catalogue(
        query={"programme": "vep_klima_plus", "status": "proposed", "town": "",
               "limit": 10, "offset": 10}))
    assert reply.ok, reply.error
    assert reply.data["total"] == len(expected) > 20
    assert [m["code"] for m in reply.data["items"]] == expected[10:20]
    assert (reply.data["limit"], reply.data["offset"]) == (10, 10)
    assert set(reply.data["items"][0]) == {"code", "title", "summary", "programme",
                                           "field_of_action", "status", "towns", "revision"}

    refused = RpcReply.model_validate(measures_service.measures.list_catalogue(
        query={"status": "bogus", "limit": 0}))
    assert not refused.ok and refused.error is not None
    assert refused.error.code == "VALIDATION_FAILED"
    assert {d["field"] for d in refused.error.details} == {"status", "limit"}
