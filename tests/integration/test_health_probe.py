"""The exec probes of the Kubernetes manifests mean something: `python -m launcher.probe`
passes for a running service process, fails for one that hangs or has stopped, and its
readiness fails while the broker or the database does not answer."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from launcher.probe import heartbeat_path
from launcher.registry import ENTRY_MODULE
from soesmart.config import Settings
from tests.support.infra import eventually, free_port

# Past the runner's 5 s heartbeat with room for a busy machine.
MAX_AGE = "12"


def service_env(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOESMART_")}
    env.update(SOESMART_BROKER_URL=settings.broker_url, SOESMART_DATA_DIR=str(settings.data_dir),
               SOESMART_DATABASE_URL=settings.database_url or "", SOESMART_DEMO="false",
               PYTHONUNBUFFERED="1")
    return env


def probe(check: str, env: dict[str, str], **overrides: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "launcher.probe", check, "measures", "--max-age", MAX_AGE],
        env={**env, **overrides}, capture_output=True, text=True, timeout=60, check=False,
    )


@pytest.fixture
def measures(settings: Settings, tmp_path: Path) -> Iterator[tuple[subprocess.Popen, dict[str, str]]]:
    env = service_env(settings)
    with open(tmp_path / "measures.log", "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", ENTRY_MODULE, "measures"], env=env,
                                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        yield proc, env
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGCONT)
            proc.kill()
            proc.wait(timeout=30)


def test_a_running_service_is_alive_and_ready(measures: tuple[subprocess.Popen, dict[str, str]]) -> None:
    proc, env = measures
    eventually(lambda: probe("live", env).returncode == 0, timeout=60, interval=0.5,
               message="the started service's heartbeat")
    result = probe("ready", env)
    assert result.returncode == 0, result.stderr
    assert proc.poll() is None


def test_a_hung_service_fails_liveness_and_readiness(
    measures: tuple[subprocess.Popen, dict[str, str]],
) -> None:
    proc, env = measures
    eventually(lambda: probe("live", env).returncode == 0, timeout=60, interval=0.5,
               message="the started service's heartbeat")
    # A stopped hub (SIGSTOP: nothing in the process runs) no longer refreshes it.
    proc.send_signal(signal.SIGSTOP)
    eventually(lambda: probe("live", env).returncode == 1, timeout=60, interval=1,
               message="liveness failing for the hung service")
    live = probe("live", env)
    assert live.returncode == 1 and "the process hangs" in live.stderr
    ready = probe("ready", env)
    assert ready.returncode == 1 and "the process hangs" in ready.stderr
    # Woken up, it beats again.
    proc.send_signal(signal.SIGCONT)
    eventually(lambda: probe("live", env).returncode == 0, timeout=30, interval=0.5,
               message="liveness back after SIGCONT")


def test_a_stopped_service_fails_liveness(measures: tuple[subprocess.Popen, dict[str, str]],
                                          settings: Settings) -> None:
    proc, env = measures
    eventually(lambda: probe("live", env).returncode == 0, timeout=60, interval=0.5,
               message="the started service's heartbeat")
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0
    assert not heartbeat_path(settings, "measures").exists()
    result = probe("live", env)
    assert result.returncode == 1 and "no heartbeat" in result.stderr


def test_readiness_fails_while_the_broker_or_the_database_does_not_answer(
    measures: tuple[subprocess.Popen, dict[str, str]],
) -> None:
    proc, env = measures
    eventually(lambda: probe("live", env).returncode == 0, timeout=60, interval=0.5,
               message="the started service's heartbeat")
    closed = free_port()  # nothing listens there
    no_broker = probe("ready", env, SOESMART_BROKER_URL=f"amqp://guest:guest@127.0.0.1:{closed}/")
    assert no_broker.returncode == 1 and "broker does not answer" in no_broker.stderr
    no_database = probe("ready", env, SOESMART_DATABASE_URL=f"postgresql://x:y@127.0.0.1:{closed}/x")
    assert no_database.returncode == 1 and "database does not answer" in no_database.stderr
    # The same probe with the service's own settings passes: it was the answer that was missing.
    assert probe("ready", env).returncode == 0
    assert probe("live", env, SOESMART_BROKER_URL=f"amqp://127.0.0.1:{closed}/").returncode == 0
