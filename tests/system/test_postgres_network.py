"""The whole network on PostgreSQL, one database per service instance, as in production."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pg8000.native
import pytest
from sqlalchemy.engine import make_url

from soesmart.towns import towns
from tests.support.infra import POSTGRES_URL, create_vhost, delete_vhost, eventually
from tests.support.network import Network

INSTANCES = ["gateway", "measures", "notifications", *(t.service_name for t in towns())]


def _admin() -> pg8000.native.Connection:
    url = make_url(POSTGRES_URL)
    return pg8000.native.Connection(user=url.username or "postgres", host=url.host or "127.0.0.1",
                                    port=url.port or 5432, database=url.database or "postgres",
                                    password=url.password)


@pytest.fixture
def network(tmp_path: Path) -> Iterator[Network]:
    prefix = f"soesmart_sys_{uuid.uuid4().hex[:8]}"
    admin = _admin()
    for instance in INSTANCES:
        admin.run(f'CREATE DATABASE "{prefix}_{instance}"')
    vhost, url = create_vhost()
    template = make_url(POSTGRES_URL).set(database=f"{prefix}_{{instance}}").render_as_string(
        hide_password=False)
    net = Network(data_dir=tmp_path, broker_url=url, vhost=vhost, database_url_template=template)
    try:
        net.start()
        yield net
    finally:
        net.stop()
        delete_vhost(vhost)
        for instance in INSTANCES:
            admin.run(f'DROP DATABASE IF EXISTS "{prefix}_{instance}" WITH (FORCE)')
        admin.close()


def test_ratings_of_two_towns_reach_the_regional_results_on_postgresql(network: Network) -> None:
    code = "VEP-RAD-02"
    for town, support in (("arnsberg", "yes"), ("bad-berleburg", "no")):
        auth = network.bearer(network.citizen(town))
        r = network.post(f"/api/v1/towns/{town}/ratings", headers=auth,
                         json={"measure_code": code,
                               "effectiveness": 4, "support": support})
        assert r.status_code == 201, r.text

    result = eventually(lambda: (m := network.results_for(code)) and m["total"]["answers"] == 2 and m,
                        timeout=10, message="both ratings are counted")
    assert result["towns"]["arnsberg"]["support"]["yes"] == 1
    assert result["towns"]["bad-berleburg"]["support"]["no"] == 1
    # Each town's data lives in its own database
    admin = _admin()
    try:
        rows = admin.run("SELECT datname FROM pg_database WHERE datname LIKE 'soesmart_sys_%'")
        assert len(rows) >= len(INSTANCES)
    finally:
        admin.close()
