"""A schema-driven fuzz run against the OpenAPI document: no request makes the gateway fail.

schemathesis generates requests from /api/openapi.json (valid and invalid bodies,
odd path and query values) and checks every answer for a 5xx. It runs twice: as
anyone, and with the coordinators' credential, so that the routes behind the
permission check are fuzzed too. 503 would be a service that did not answer in
time; the check counts it as a failure like any other 5xx.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.network import Network, running_network

pytest.importorskip("schemathesis")


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    with running_network(tmp_path_factory.mktemp("fuzz"),
                         extra_env={"SOESMART_RPC_TIMEOUT": "10"}) as net:
        yield net


def _fuzz(network: Network, *extra: str) -> subprocess.CompletedProcess[str]:
    cli = Path(sys.executable).with_name("schemathesis")
    return subprocess.run(
        [str(cli), "run", f"{network.url}/api/openapi.json", "--checks", "not_a_server_error",
         "--max-examples", "15", "--seed", "20261124", "--request-timeout", "20",
         "--workers", "1", *extra],
        capture_output=True, text=True, timeout=900, cwd=network.data_dir,  # its .schemathesis/
        env={"PATH": "/usr/bin:/bin", "HOME": str(network.data_dir), "NO_COLOR": "1",
             "SCHEMATHESIS_HOOKS": ""},
    )


@pytest.mark.parametrize("who", ["anyone", "coordinator"])
def test_no_generated_request_gets_a_5xx(network: Network, who: str) -> None:
    headers = ["--header", f"Authorization: Bearer {network.token}"] if who == "coordinator" else []
    run = _fuzz(network, *headers)
    assert run.returncode == 0, run.stdout[-8000:] + run.stderr[-2000:]
