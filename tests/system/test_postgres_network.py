"""The whole network on PostgreSQL, one database per service instance, as in production."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pg8000.native
import pytest
from sqlalchemy.engine import make_url

from soesmart.messaging.topology import participation_queue
from soesmart.towns import towns
from tests.support.erasure_journey import assert_download_then_erasure
from tests.support.infra import (
    POSTGRES_URL,
    create_vhost,
    delete_vhost,
    eventually,
    wait_drained,
)
from tests.support.network import Network

INSTANCES = ["gateway", "measures", "notifications", *(t.service_name for t in towns())]


def _admin() -> pg8000.native.Connection:
    url = make_url(POSTGRES_URL)
    return pg8000.native.Connection(user=url.username or "postgres", host=url.host or "127.0.0.1",
                                    port=url.port or 5432, database=url.database or "postgres",
                                    password=url.password)


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    tmp_path = tmp_path_factory.mktemp("pg-network")
    prefix = f"soesmart_sys_{uuid.uuid4().hex[:8]}"
    admin = _admin()
    for instance in INSTANCES:
        admin.run(f'CREATE DATABASE "{prefix}_{instance}"')
    vhost, url = create_vhost()
    template = make_url(POSTGRES_URL).set(database=f"{prefix}_{{instance}}").render_as_string(
        hide_password=False)
    net = Network(data_dir=tmp_path, broker_url=url, vhost=vhost, database_url_template=template)
    try:
        # On a loaded machine the gateway's start has taken longer than the default minute.
        net.start(wait=False)
        net.wait_ready(timeout=180)
        # Right after start-up every town fills its measure replica from the catalogue's
        # events; the journey begins once those are handled, so that it measures ratings
        # reaching the region, not how commands fare during that fill.
        for town in towns():
            wait_drained(vhost, participation_queue(town).name)
        yield net
    finally:
        net.stop()
        delete_vhost(vhost)
        for instance in INSTANCES:
            admin.run(f'DROP DATABASE IF EXISTS "{prefix}_{instance}" WITH (FORCE)')
        admin.close()


def _rows(database: str, sql: str, **params: object) -> list[list[object]]:
    url = make_url(POSTGRES_URL)
    conn = pg8000.native.Connection(user=url.username or "postgres", host=url.host or "127.0.0.1",
                                    port=url.port or 5432, database=database,
                                    password=url.password)
    try:
        return list(conn.run(sql, **params))
    finally:
        conn.close()


def test_ratings_of_two_towns_reach_the_regional_results_on_postgresql(network: Network) -> None:
    code = "VEP-RAD-02"
    addresses = {}
    # The demo's citizens answered too: what counts is what the two ratings add.
    before = {t: f["answers"] for t, f in network.settled_results(code).get("towns", {}).items()}
    for town, support in (("arnsberg", "yes"), ("bad-berleburg", "no")):
        addresses[town] = f"buerger-{uuid.uuid4().hex[:10]}@example.org"
        auth = network.bearer(network.citizen(town, addresses[town]))
        r = network.post(f"/api/v1/towns/{town}/ratings", headers=auth,
                         json={"measure_code": code,
                               "effectiveness": 4, "support": support})
        assert r.status_code == 201, r.text

    expected = sum(before.values()) + 2
    eventually(lambda: (m := network.results_for(code)) and m["total"]["answers"] == expected and m,
               timeout=10, message="both ratings are counted")
    result = network.settled_results(code)
    assert result["total"]["answers"] == expected
    assert result["towns"]["arnsberg"]["answers"] == before.get("arnsberg", 0) + 1
    assert result["towns"]["bad-berleburg"]["answers"] == before.get("bad-berleburg", 0) + 1

    # Each town instance wrote its citizen and rating into its own database, and no other
    prefix = network.database_url_template.rsplit("/", 1)[1].removesuffix("{instance}")  # type: ignore[union-attr]
    for town in towns():
        database = f"{prefix}{town.service_name}"
        own = addresses.get(town.slug)
        found = _rows(database, "SELECT c.email, r.support FROM ratings r JOIN citizens c"
                                " ON c.id = r.participant_id WHERE r.measure_code = :code"
                                " AND NOT c.demo", code=code)
        citizens = {row[0] for row in _rows(database, "SELECT email FROM citizens")}
        if own is None:
            assert found == [], f"{database} holds ratings of another town: {found}"
        else:
            support = "yes" if town.slug == "arnsberg" else "no"
            assert found == [[own, support]], f"{database}: {found}"
        assert citizens & set(addresses.values()) == ({own} if own else set()), database
    # ... and the regional service counted them in its database, not in a file of its own
    tallies = _rows(f"{prefix}measures", "SELECT town, answers FROM tallies WHERE measure_code = :code"
                    " AND town IN ('arnsberg', 'bad-berleburg') ORDER BY town", code=code)
    assert tallies == [["arnsberg", before.get("arnsberg", 0) + 1],
                       ["bad-berleburg", before.get("bad-berleburg", 0) + 1]]
    assert not list(network.data_dir.glob("*.db")), "no instance fell back to SQLite"


def test_a_persons_data_is_downloaded_then_erased_from_every_postgresql_database(
        network: Network) -> None:
    assert_download_then_erasure(network, town="olpe")
