"""Adding a sixth town to a running network: configuration, one process, one command."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from launcher.up import Child
from soesmart.towns import DEFAULT_TOWNS_FILE
from tests.support.infra import create_vhost, delete_vhost, eventually
from tests.support.network import Network

LIPPSTADT = '\n[[town]]\nslug = "lippstadt"\nname = "Lippstadt"\npopulation = 68000\npostcodes = ["59555"]\n'


@pytest.fixture
def network(tmp_path: Path) -> Iterator[Network]:
    vhost, url = create_vhost()
    net = Network(data_dir=tmp_path, broker_url=url, vhost=vhost)
    yield net
    net.stop()
    delete_vhost(vhost)


def test_a_new_town_gets_the_catalogue_after_republishing_it(network: Network, tmp_path: Path) -> None:
    # Given the network of five towns runs, and the catalogue was published long ago
    network.start(only=["measures", "participation/soest", "gateway"])
    eventually(lambda: "Bahntrasse" in network.get("/stadt/soest").text, timeout=20,
               message="Soest's replica has the catalogue")

    # When Lippstadt is added to the configuration and its instance is started
    towns_file = tmp_path / "towns.toml"
    towns_file.write_text(DEFAULT_TOWNS_FILE.read_text(encoding="utf-8") + LIPPSTADT, encoding="utf-8")
    network.stop_service("gateway")
    network.children["gateway"].env = {**network.children["gateway"].env,
                                       "SOESMART_TOWNS_FILE": str(towns_file)}
    network.start_service("gateway")
    env = {**network.env(), "SOESMART_TOWNS_FILE": str(towns_file), "SOESMART_TOWN": "lippstadt"}
    lippstadt = Child("participation/lippstadt", ["participation", "--town", "lippstadt"], env,
                      tmp_path / "logs" / "participation-lippstadt.log")
    network.children[lippstadt.name] = lippstadt
    lippstadt.start()
    network.wait_ready(["participation/lippstadt"])

    # Then its page works but its replica is empty: the old events never reached it
    page = network.get("/stadt/lippstadt")
    assert page.status_code == 200 and "Bahntrasse" not in page.text

    # When a coordinator publishes the catalogue again
    done = subprocess.run([sys.executable, "-m", "launcher.cli", "republish-catalogue"],
                          env=network.env(), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Published" in done.stdout

    # Then Lippstadt's citizens see the measures of their consultation
    eventually(lambda: "Bahntrasse" in network.get("/stadt/lippstadt").text, timeout=20,
               message="Lippstadt's replica is filled")
