"""The broker restarts under load (`rabbitmqctl stop_app` / `start_app`): nobody exits.

The network talks to one node of the tests' own cluster (tests/support/cluster.py) and
only to it, so while that node is stopped the broker is gone for every service; the
shared default node is never touched. The queues are quorum queues on all three nodes.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.cluster import RabbitCluster
from tests.support.infra import eventually
from tests.support.load import RatingLoad, ReadinessWatch, plan_ratings
from tests.support.network import Network

TOWNS = ["menden", "olpe"]
SERVICES = ["measures", "participation/menden", "participation/olpe", "gateway"]
CHECKED = ["measures", "participation_menden", "participation_olpe"]  # /readyz names
RATE = 20.0  # per second, from before the stop until some seconds after the start
AT_MOST = 3000  # ratings planned; the load ends long before (when the test says so)
STOPPED_SECONDS = 6.0
AFTER_SECONDS = 5.0


@pytest.fixture
def network_on_one_node(rabbit_cluster: RabbitCluster, tmp_path: Path) -> Iterator[Network]:
    vhost, _ = rabbit_cluster.create_vhost()
    url = f"amqp://guest:guest@127.0.0.1:{rabbit_cluster.node_port('c')}/{vhost}"
    net = Network(data_dir=tmp_path, broker_url=url, vhost=vhost,
                  queue_figures=rabbit_cluster.queue_figures,
                  extra_env={"SOESMART_DEMO_REGION": "false"})  # the small demo: no demo ratings
    yield net
    net.stop()
    rabbit_cluster.delete_vhost(vhost)


def ready_probe(network: Network, kind: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "launcher.probe", "ready", kind, "--timeout", "2"],
                          env=network.env(), capture_output=True, text=True, timeout=60)


def total_answers(network: Network) -> int:
    body = network.get("/api/v1/results").json()
    return sum(int(m["total"]["answers"]) for m in body["measures"])


@pytest.mark.timeout(900)  # the cluster and four processes start first, on a busy machine
def test_a_broker_restart_under_load_stops_no_service_answers_no_500_and_counts_each_once(
    network_on_one_node: Network, rabbit_cluster: RabbitCluster
) -> None:
    network = network_on_one_node
    network.start(only=SERVICES, wait=False)
    network.wait_ready(SERVICES, timeout=180)
    durable = {name: kind for name, kind in rabbit_cluster.queue_types(network.vhost).items()
               if not name.startswith("rpc.reply-")}  # a caller's exclusive reply queue
    assert set(durable.values()) == {"quorum"}, durable
    baseline = total_answers(network)
    ratings = plan_ratings(network, AT_MOST, TOWNS)
    watch = ReadinessWatch(network.url, names=CHECKED)
    watch.start()

    # Given ratings arriving steadily
    load = RatingLoad(network.port, ratings, RATE).start()
    eventually(lambda: load.sent() >= 50, timeout=60, message="the load is under way")

    # When the broker stops for some seconds and starts again
    rabbit_cluster.stop_app("c")
    try:
        stopped_at = time.monotonic()
        # Then the services say they are not ready (the gateway and the exec probe) ...
        eventually(lambda: not watch.look(), timeout=15,
                   message="the gateway says not ready while the broker is away")
        probe = ready_probe(network, "measures")
        assert probe.returncode == 1 and "broker" in probe.stderr, probe.stderr
        time.sleep(max(0.0, STOPPED_SECONDS - (time.monotonic() - stopped_at)))
        network.assert_alive()
        during = load.sent()
    finally:
        rabbit_cluster.start_app("c")
    time.sleep(AFTER_SECONDS)
    load.stop()
    assert load.sent() > during, "ratings were sent after the broker came back"

    # ... and ready again once it is back, every process still the one that was started
    network.wait_ready(SERVICES, timeout=90)
    eventually(lambda: ready_probe(network, "measures").returncode == 0, timeout=30,
               message="the probe says ready again")
    watch.stop()
    network.assert_alive()

    # And no request was answered with a 500: refusals were 503 with Retry-After
    answers = load.answers()
    assert not {a for a in answers if a.startswith("5") and a != "503"}, answers
    assert answers["503"] + sum(v for k, v in answers.items() if k.startswith("conn:")) > 0, (
        f"the restart fell into the load: {answers}")
    assert watch.not_ready_seen > 0

    # And once the refused ratings are sent again, each rating is counted exactly once
    load.send_again_until_accepted()
    network.settled_results("VEP-RAD-01")
    assert total_answers(network) == baseline + load.sent(), load.answers()
    print(f"\nbroker restart: {load.sent()} ratings sent, first answers {dict(load.first_answers())},"
          f" all answers {dict(load.answers())}, /readyz not ready for at most"
          f" {watch.longest_not_ready:.1f} s")
