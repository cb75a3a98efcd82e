"""The whole network on a three-node RabbitMQ cluster while a broker node and services break.

The cluster is the tests' own (scripts/rabbitmq-cluster.sh via tests/support/cluster.py);
the shared default node is never touched. Ratings arrive at a steady rate through the
gateway while, one after the other:

1. the broker node every service talks to first is killed with `kill -9`: everybody fails
   over to the other two, the quorum queues keep their messages;
2. a town's instance and the measures service are killed with `kill -9` and started again;
3. the lost node is started again and rejoins.

(A restart of the broker, where the network has no other node to go to:
tests/integration/test_broker_restart.py.)

Then every rating that was refused (503) or lost with its connection is sent again, as the
API documentation tells clients to, and: every rating is counted exactly once in the
regional results, the towns' stored ratings add up to the regional count, no answer was a
500, and no service process exited on its own.

`SOESMART_CLUSTER_RATINGS` (default 2000) is the least number of ratings sent (the load
goes on until the breaking is over and that many were sent); `SOESMART_CLUSTER_RATE`
(default 100) the ratings per second. The issue's soak is
`SOESMART_CLUSTER_RATINGS=10000 .venv/bin/python -m pytest -m cluster tests/system/test_broker_cluster.py -s`.

Not part of `make test` for now (marker `cluster`, run with `make test-cluster`): of three
runs on the landed code's line, one (at a load average above 20) failed with "ratings go on
within 60s": after the first node was killed the gateway got no answers for a minute. The
other two passed, one of them in a full run on a quiet machine. Until that stall is found
and fixed, the test stays outside the suite that must be green, instead of being weakened.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from soesmart.storage import make_engine
from tests.support.cluster import RabbitCluster
from tests.support.infra import eventually
from tests.support.load import RatingLoad, ReadinessWatch, plan_ratings
from tests.support.network import Network

RATINGS = int(os.environ.get("SOESMART_CLUSTER_RATINGS", "2000"))
RATE = float(os.environ.get("SOESMART_CLUSTER_RATE", "100"))
TOWNS = ["soest", "arnsberg", "bad-berleburg", "menden", "olpe"]
BROKER_STOPPED_SECONDS = 5.0

pytestmark = pytest.mark.cluster


@pytest.fixture
def network(rabbit_cluster: RabbitCluster, tmp_path: Path) -> Iterator[Network]:
    vhost, url = rabbit_cluster.create_vhost()
    net = Network(data_dir=tmp_path, broker_url=url, vhost=vhost,
                  queue_figures=rabbit_cluster.queue_figures,
                  extra_env={"SOESMART_DEMO_REGION": "false"})  # the small demo: no demo ratings
    yield net
    net.stop()
    rabbit_cluster.delete_vhost(vhost)


def regional_answers(network: Network) -> dict[str, int]:
    """Per town, the answers the regional results count (over every measure)."""
    response = network.get("/api/v1/results")
    assert response.status_code == 200, response.text
    counted: dict[str, int] = {}
    for measure in response.json()["measures"]:
        for town, figures in (measure.get("towns") or {}).items():
            counted[town] = counted.get(town, 0) + int(figures["answers"])
    return counted


def stored_ratings(network: Network, town: str) -> int:
    engine = make_engine(network.database_url("participation", town))
    try:
        with engine.connect() as conn:
            return int(conn.execute(text("SELECT count(*) FROM ratings")).scalar_one())
    finally:
        engine.dispose()


def kill_and_restart(network: Network, name: str) -> None:
    network.stop_service(name, signal.SIGKILL)
    network.start_service(name)


@pytest.mark.timeout(900)
def test_ratings_survive_a_lost_broker_node_and_killed_services(
    network: Network, rabbit_cluster: RabbitCluster
) -> None:
    network.start(wait=False)
    network.wait_ready(timeout=240)  # eight processes starting beside three broker nodes
    types = {n: t for n, t in rabbit_cluster.queue_types(network.vhost).items()
             if not n.startswith("rpc.reply-")}  # callers' exclusive reply queues
    assert set(types.values()) == {"quorum"}, types
    before = regional_answers(network)
    plan = plan_ratings(network, max(RATINGS, int(RATE * 300)), TOWNS)
    watch = ReadinessWatch(network.url)
    watch.start()
    load = RatingLoad(network.port, plan, RATE, workers=12).start()
    eventually(lambda: load.sent() >= RATE * 3, timeout=60, message="the load is under way")

    # When the node everybody talks to first is lost, and a town and the region crash
    rabbit_cluster.kill_node("a")
    eventually(lambda: load.sent() >= RATE * 6, timeout=60, message="ratings go on")
    kill_and_restart(network, "participation/soest")
    kill_and_restart(network, "measures")
    network.assert_alive()
    rabbit_cluster.start_node("a")
    network.wait_ready(timeout=120)
    network.assert_alive()
    eventually(lambda: load.sent() >= RATINGS, timeout=max(60.0, RATINGS / RATE * 3),
               message=f"{RATINGS} ratings are sent")
    load.stop()
    watch.stop()

    # Then nothing was answered with a 500, and no service process exited on its own
    first = load.first_answers()
    network.assert_alive()
    assert not {a for a in load.answers() if a.startswith("5") and a != "503"}, load.answers()
    refused = sum(v for k, v in first.items() if k == "503" or k.startswith("conn:"))
    assert refused > 0, f"the breaking fell into the load: {first}"

    # And once the refused ones are sent again, every rating is counted exactly once
    load.send_again_until_accepted()
    network.settled_results("VEP-RAD-01", timeout=120)
    counted = regional_answers(network)
    sent = load.sent()
    assert sum(counted.values()) - sum(before.values()) == sent, (counted, before, sent)
    for town in TOWNS:
        assert stored_ratings(network, town) == counted.get(town, 0), town
    print(f"\nbroker cluster: {sent} ratings sent, first answers {dict(first)}, all answers "
          f"{dict(load.answers())}, {refused} sent again, counted {sum(counted.values())}"
          f" (before {sum(before.values())}); /readyz not ready for at most"
          f" {watch.longest_not_ready:.1f} s; per service {watch.longest_per_service()}")
