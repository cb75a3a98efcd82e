"""Catalogue import/export, coordinator queries and `soesmart rebuild-results`, as real processes.

The services run the way `soesmart up` starts them, in a RabbitMQ vhost of their
own; the coordinator talks to the gateway's JSON API with the bearer token.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.infra import create_vhost, delete_vhost, eventually
from tests.support.network import Network

SERVICES = ["measures", "notifications", "participation/soest", "participation/olpe", "gateway"]


@pytest.fixture
def network(tmp_path: Path) -> Iterator[Network]:
    vhost, url = create_vhost()
    net = Network(data_dir=tmp_path, broker_url=url, vhost=vhost)
    yield net
    net.stop()
    delete_vhost(vhost)


def figures(network: Network) -> dict:
    response = network.get("/api/v1/results")
    assert response.status_code == 200
    return {m["code"]: m["towns"] for m in response.json()["measures"]}


def test_a_coordinator_imports_exports_reads_results_and_rebuilds_them(network: Network) -> None:
    network.start(only=SERVICES)
    auth = {"Authorization": f"Bearer {network.token}"}

    # The catalogue: the demo's 320 measures, exported for a spreadsheet
    exported = network.get("/api/v1/measures/export?format=csv")
    assert exported.status_code == 200 and exported.headers["Content-Type"].startswith("text/csv")
    assert exported.content.startswith("\ufeffCode;Titel;".encode())
    assert exported.text.count("\r\n") == 321

    # A file with a mistake is refused whole, with the gateway's one error shape
    bad = "Code;Titel;Programm;Handlungsfeld\r\nVEP-RAD-99;Neu;vep_klima_plus;heating\r\n"
    refused = network.post("/api/v1/measures/import", data=bad.encode(),
                           headers={**auth, "Content-Type": "text/csv"})
    assert refused.status_code == 422
    body = refused.json()
    assert body["error"] == "CATALOGUE_IMPORT_INVALID"
    assert [(d["row"], d["column"]) for d in body["details"]] == [(2, "Handlungsfeld")]
    assert "heating" in body["details"][0]["problem"]
    anonymous = network.post("/api/v1/measures/import", data=bad.encode(),
                             headers={"Content-Type": "text/csv"})
    assert anonymous.status_code == 401

    # The exported file comes back unchanged
    again = network.post("/api/v1/measures/import", data=exported.content,
                         headers={**auth, "Content-Type": "text/csv"})
    assert again.status_code == 200, again.text
    assert again.json()["unchanged"] == 320 and again.json()["created"] == []

    # Citizens of two towns answer
    for town, support in (("soest", "yes"), ("soest", "yes"), ("olpe", "no"), ("olpe", "no")):
        citizen = network.bearer(network.citizen(town))
        response = network.post(f"/api/v1/towns/{town}/ratings", headers=citizen, json={
            "measure_code": "VEP-RAD-02", "effectiveness": 4, "support": support})
        assert response.status_code == 201, response.text
    eventually(lambda: sum(t["answers"] for t in figures(network).get("VEP-RAD-02", {}).values()) == 4,
               timeout=15, message="the answers reach the combined results")

    disagreement = network.get("/api/v1/results/disagreements?min_answers=2", headers=auth).json()
    assert disagreement["measures"][0]["code"] == "VEP-RAD-02"
    assert disagreement["measures"][0]["support_spread"] == 1.0
    compared = network.get("/api/v1/results/measures/VEP-RAD-02/towns", headers=auth).json()
    assert {t["town"]: t["answers"] for t in compared["towns"]}["olpe"] == 2
    top = network.get("/api/v1/results/top?limit=3", headers=auth).json()
    assert top["measures"][0]["code"] == "VEP-RAD-02"
    days = network.get("/api/v1/results/participation", headers=auth).json()["days"]
    assert sum(d["ratings"] for d in days) == 4
    csv_export = network.get("/api/v1/results/export", headers=auth)
    assert csv_export.content.startswith("\ufeffCode;Maßnahme;".encode())
    assert network.get("/api/v1/results/top").status_code == 401
    assert network.get("/api/v1/results/top?limit=x", headers=auth).status_code == 422

    # When the projection is lost ...
    before = figures(network)
    with sqlite3.connect(network.data_dir / "measures.db") as db:
        for table in ("rating_projection", "tallies", "daily_participation"):
            db.execute(f"DELETE FROM {table}")
    # (the service answers from its results cache for up to two seconds after a change
    # it did not make itself)
    eventually(lambda: figures(network) == {}, timeout=10, message="the loss shows")

    # ... `soesmart rebuild-results` brings back the same figures from the towns
    env = network.env() | {"SOESMART_DEMO": "false"}
    done = subprocess.run([sys.executable, "-m", "launcher.cli", "rebuild-results",
                           "--town", "soest", "--town", "olpe"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Soest: 2 ratings replayed" in done.stdout
    eventually(lambda: figures(network) == before, timeout=10, message="the same figures")
    network.assert_alive()
