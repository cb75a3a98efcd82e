"""A three-node RabbitMQ cluster of the tests' own (scripts/rabbitmq-cluster.sh), as a fixture.

Started once per session when a test asks for `rabbit_cluster`, beside the shared default
node (which the tests never stop or restart), and removed at the end. Where the package
`rabbitmq-server` is missing the tests that need it are skipped (and under CI=true a skip
fails the run, see tests/conftest.py).
"""

from __future__ import annotations

import os
import socket
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.infra import list_queue

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "rabbitmq-cluster.sh"
NODES = ("a", "b", "c")
NOT_INSTALLED = 3  # the script's exit status when rabbitmq-server is missing


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port_base(first: int = 5701, step: int = 20, tries: int = 20) -> int:
    """A base port whose AMQP, distribution and CLI ports (see the script) are all free."""
    for base in range(first, first + step * tries, step):
        ports = [base + i for i in range(3)] + [base + 20000 + i for i in range(3)]
        ports += [base + 30000 + i for i in range(13)]
        if all(_port_free(p) for p in ports):
            return base
    raise RuntimeError("no free ports for a RabbitMQ cluster")


@dataclass
class RabbitCluster:
    directory: Path
    port: int
    name: str = "soesmart-test"

    def script(self) -> list[str]:
        """The script, told which cluster it is about."""
        return ["env", f"SOESMART_CLUSTER_DIR={self.directory}", f"SOESMART_CLUSTER_PORT={self.port}",
                f"SOESMART_CLUSTER_NAME={self.name}", "PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin",
                str(SCRIPT)]

    def run(self, *args: str, timeout: float = 240, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*self.script(), *args], capture_output=True, text=True,
                              timeout=timeout, check=check)

    def start(self) -> RabbitCluster:
        self.run("start")
        return self

    def stop(self) -> None:
        self.run("stop", check=False)

    def ctl(self, node: str, *args: str, timeout: float = 120) -> str:
        return self.run("ctl", node, "-q", *args, timeout=timeout).stdout

    def node_port(self, node: str) -> int:
        return self.port + NODES.index(node)

    def url(self, vhost: str = "") -> str:
        """SOESMART_BROKER_URL naming all three nodes (node a first)."""
        return ";".join(f"amqp://guest:guest@127.0.0.1:{self.node_port(n)}/{vhost}" for n in NODES)

    def node_running(self, node: str) -> bool:
        pid_file = self.directory / node / "pid"
        try:
            pid = int(pid_file.read_text().strip())
        except (OSError, ValueError):
            return False
        return Path(f"/proc/{pid}").exists()

    def any_running_node(self) -> str:
        return next(n for n in NODES if self.node_running(n))

    def create_vhost(self) -> tuple[str, str]:
        name = f"soesmart-test-{uuid.uuid4().hex[:10]}"
        node = self.any_running_node()
        self.ctl(node, "add_vhost", name)
        self.ctl(node, "set_permissions", "-p", name, "guest", ".*", ".*", ".*")
        return name, self.url(name)

    def delete_vhost(self, name: str) -> None:
        self.run("ctl", self.any_running_node(), "-q", "delete_vhost", name, check=False)

    def ctl_command(self, node: str) -> list[str]:
        """rabbitmqctl of `node` (through the script, which knows its cookie and ports)."""
        return [*self.script(), "ctl", node]

    def queue_figures(self, vhost: str, queue: str) -> tuple[int, str]:
        """(ready + unacknowledged, type) of a queue, asked of a running node."""
        return list_queue(self.ctl_command(self.any_running_node()), vhost, queue)

    def queue_types(self, vhost: str) -> dict[str, str]:
        out = self.ctl(self.any_running_node(), "list_queues", "-p", vhost, "--no-table-headers",
                       "name", "type")
        return dict(line.split()[:2] for line in out.splitlines() if len(line.split()) >= 2)

    # -- breaking it -------------------------------------------------------------------
    def kill_node(self, node: str) -> None:
        """kill -9 of the node's Erlang VM."""
        self.run("kill-node", node)

    def start_node(self, node: str) -> None:
        self.run("start-node", node)

    def stop_app(self, node: str) -> None:
        self.ctl(node, "stop_app")

    def start_app(self, node: str) -> None:
        self.ctl(node, "start_app")
        self.ctl(node, "await_startup")


@pytest.fixture(scope="session")
def rabbit_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RabbitCluster]:
    # Node names of this run's own: two test runs on one machine get two clusters.
    cluster = RabbitCluster(tmp_path_factory.mktemp("rabbitmq-cluster"), free_port_base(),
                            name=f"soesmart-test-{os.getpid()}")
    try:
        cluster.start()
    except subprocess.CalledProcessError as exc:
        if exc.returncode == NOT_INSTALLED:
            pytest.skip("rabbitmq-server is not installed (apt-get install rabbitmq-server)")
        cluster.stop()
        raise AssertionError(f"the cluster did not start: {exc.stderr[-2000:]}") from None
    try:
        yield cluster
    finally:
        cluster.stop()
