"""A rating sent again after a 503 never counts twice (the API documentation promises it).

The 503 here is the hard kind: the town's instance is frozen (SIGSTOP) while the request is
already on its way to it, so the gateway gives up at its deadline, and once the instance
runs again it carries the request out; the rating is stored although its citizen was told
503. Sending it again must change nothing.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.gateway.citizen.routes import RATING_RETRY
from tests.support.citizens import signed_in_citizens
from tests.support.infra import create_vhost, delete_vhost, eventually
from tests.support.network import Network

CODE = "VEP-RAD-02"
TOWN = "olpe"


@pytest.fixture
def network(tmp_path: Path) -> Iterator[Network]:
    vhost, url = create_vhost()
    net = Network(data_dir=tmp_path, broker_url=url, vhost=vhost,
                  extra_env={"SOESMART_DEMO_REGION": "false"})  # the small demo: no demo ratings
    yield net
    net.stop()
    delete_vhost(vhost)


def test_a_rating_sent_again_after_a_503_is_counted_once(network: Network) -> None:
    network.start(only=["measures", f"participation/{TOWN}", "gateway"])
    citizen = signed_in_citizens(network, TOWN, 1)[0]
    rate = {"measure_code": CODE, "effectiveness": 4, "support": "yes"}
    town = network.children[f"participation/{TOWN}"].proc
    assert town is not None

    # Given the town's instance freezes while a rating is on its way to it
    town.send_signal(signal.SIGSTOP)
    try:
        refused = network.post(f"/api/v1/towns/{TOWN}/ratings", headers=citizen, json=rate)
    finally:
        town.send_signal(signal.SIGCONT)
    assert refused.status_code == 503 and refused.headers.get("Retry-After"), refused.text
    assert refused.json()["error"] == "SERVICE_UNAVAILABLE"

    # And it carries the request out once it runs again: stored, though the citizen heard 503
    def mine() -> list[dict]:
        response = network.get(f"/api/v1/towns/{TOWN}/me/ratings", headers=citizen)
        return response.json()["items"] if response.status_code == 200 else []

    eventually(mine, timeout=30, message="the refused rating was stored all the same")

    # When the citizen's client sends the same rating again, twice
    for _ in range(2):
        again = network.post(f"/api/v1/towns/{TOWN}/ratings", headers=citizen, json=rate)
        assert again.status_code == 200, again.text  # already stored: nothing changed
        assert again.json()["changed"] is False

    # Then it is one answer, in the town and in the region
    assert len(mine()) == 1
    olpe = network.settled_results(CODE)["towns"][TOWN]
    assert olpe["answers"] == 1 and olpe["effectiveness_distribution"]["4"] == 1

    # And a changed answer replaces it instead of adding one
    changed = network.post(f"/api/v1/towns/{TOWN}/ratings", headers=citizen,
                           json={**rate, "effectiveness": 2})
    assert changed.status_code == 201 and changed.json()["changed"] is True
    olpe = network.settled_results(CODE)["towns"][TOWN]
    assert olpe["answers"] == 1 and olpe["effectiveness_distribution"]["2"] == 1
    assert olpe["effectiveness_distribution"]["4"] == 0


def test_the_api_documentation_says_a_rating_may_be_sent_again() -> None:
    from services.gateway.entrypoints.service import GatewayService
    from services.gateway.web.openapi import document

    operation = document(GatewayService)["paths"]["/api/v1/towns/{town}/ratings"]["post"]
    assert operation["description"] == RATING_RETRY
    assert "safe" in RATING_RETRY and "counted once" in RATING_RETRY
    assert "ratings are safe to send again" in operation["responses"]["503"]["description"]
