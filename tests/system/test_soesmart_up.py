"""`soesmart up` as a new user runs it: everything starts, a crashed process comes back, Ctrl+C stops all."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.support.infra import create_vhost, delete_vhost, eventually, free_port


def children_of(pid: int) -> dict[int, str]:
    """Processes whose parent is `pid`, with their command lines (from /proc)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid == pid:
                found[int(entry.name)] = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, IndexError, ValueError):
            continue
    return found


@pytest.fixture
def up(tmp_path: Path) -> Iterator[tuple[subprocess.Popen, str, Path]]:
    vhost, url = create_vhost()
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOESMART_")}
    env.update(SOESMART_BROKER_URL=url, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "launcher.cli", "up", "--data-dir", str(tmp_path), "--port", str(port)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=tmp_path,
    )
    try:
        yield proc, f"http://127.0.0.1:{port}", tmp_path
    finally:
        if proc.poll() is None:
            proc.kill()  # its children get SIGTERM from the kernel (PR_SET_PDEATHSIG)
            proc.wait()
        delete_vhost(vhost)


def read_until(proc: subprocess.Popen, marker: str, timeout: float = 120) -> str:
    lines: list[str] = []

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)

    threading.Thread(target=pump, daemon=True).start()
    deadline = time.monotonic() + timeout
    while marker not in "".join(lines):
        seen = "".join(lines)
        assert time.monotonic() < deadline, f"no {marker!r} in time; output so far:\n{seen}"
        assert proc.poll() is None or marker in seen, f"soesmart up exited:\n{seen}"
        time.sleep(0.1)
    return "".join(lines)


def test_soesmart_up_starts_the_network_restarts_a_crash_and_stops_cleanly(up) -> None:  # type: ignore[no-untyped-def]
    proc, base, data_dir = up
    # When a new user runs `soesmart up`
    out = read_until(proc, "Stop with Ctrl+C.")

    # Then it prints where the pages are, for every town, and they answer
    for slug in ("soest", "arnsberg", "bad-berleburg", "menden", "olpe"):
        assert f"{base}/stadt/{slug}" in out
        assert requests.get(f"{base}/stadt/{slug}", timeout=10).status_code == 200
    token = (data_dir / "coordinator-token").read_text().strip()
    assert token in out
    assert oct((data_dir / "coordinator-token").stat().st_mode & 0o777) == "0o600"
    processes = children_of(proc.pid)
    assert len(processes) == 8  # gateway, measures, notifications, five towns

    # When the gateway process dies
    gateway = next(pid for pid, cmd in processes.items() if cmd.rstrip().endswith("gateway"))
    os.kill(gateway, signal.SIGKILL)

    # Then it is started again and answers
    eventually(lambda: gateway not in children_of(proc.pid) and len(children_of(proc.pid)) == 8,
               timeout=30, message="the gateway is restarted")
    eventually(lambda: requests.get(f"{base}/healthz", timeout=2).status_code == 200,
               timeout=60, interval=0.5, message="the restarted gateway answers")

    # When the supervisor itself is killed hard, its children do not live on as orphans
    # (checked in test_children_do_not_outlive_a_killed_supervisor); here: a clean stop.
    # When the user stops it, every process ends
    children = list(children_of(proc.pid))
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=60) == 0
    for pid in children:
        assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2]


def test_children_do_not_outlive_a_killed_supervisor(up) -> None:  # type: ignore[no-untyped-def]
    proc, base, _ = up
    read_until(proc, "Stop with Ctrl+C.")
    children = list(children_of(proc.pid))
    assert children
    proc.kill()
    proc.wait()

    def all_gone() -> bool:
        return all(not Path(f"/proc/{pid}").exists()
                   or Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z" for pid in children)

    eventually(all_gone, timeout=30, message="every child ends with its supervisor")
