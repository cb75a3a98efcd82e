"""Benchmark: ratings through the gateway's JSON API, and how fast the regional results follow.

    python bench/ratings.py --start --rate 100 --duration 10
    python bench/ratings.py --url http://127.0.0.1:8000 --rate 500 --duration 20 --json

Open-loop load: request i is due at t0 + i/rate, whatever happened to earlier ones.
Latency is measured from that due time (so a stalled server cannot hide its queue:
no coordinated omission); service time from the moment the request was written.
Requests whose slot passes the end of --duration while every connection is still
busy are not sent at all and reported as "missed".

Each request is a NEW rating (a fresh confirmed citizen), so the regional results
(sum over measures of total.answers) must grow by exactly the number of 201s.
A growth beyond that is reported as an overshoot: double counting. (Against a
network that others use at the same time, their ratings disturb this count.)

With --start the script runs the whole network itself (`soesmart up`) in a fresh
RabbitMQ vhost and a temporary data directory, and removes both afterwards.
Only citizens may rate: before the load, the script adds one confirmed citizen per
request to each town's database (directly through the town's ParticipationApp, marked
as demo, no mails) and signs their sessions the way the gateway does; without --start
it needs the network's --data-dir (for the databases and var/secret-key).

Only 127.0.0.1 is ever contacted. Not a test: nothing here asserts.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ratings_load import REQUEST_TIMEOUT, Client, Load, ResultsWatcher, measure_codes, results_count
from ratings_processes import CpuSampler, cpu_ticks, descendants, network_root
from ratings_report import human, summarise

LOCAL_HOSTS = {"127.0.0.1", "localhost"}


# ---------------------------------------------------------------------------- --start
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, stdout=subprocess.DEVNULL,
                   timeout=60)


class Network:
    """`soesmart up` in its own vhost and data directory; torn down by stop()."""

    def __init__(self, keep_data: bool) -> None:
        self.keep_data = keep_data
        self.vhost = "soesmart-bench-" + uuid.uuid4().hex[:8]
        self.data_dir = Path(tempfile.mkdtemp(prefix="soesmart-bench-"))
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self.vhost_created = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def settle(self, limit: float = 30.0, quiet_percent: float = 20.0) -> None:
        """After /readyz: wait (bounded) until start-up work (imports, demo data) is done."""
        assert self.proc is not None
        hz = os.sysconf("SC_CLK_TCK")
        deadline = time.monotonic() + limit

        root = self.proc.pid

        def ticks() -> int:
            return sum((cpu_ticks(p) or 0) for p in descendants(root))

        while time.monotonic() < deadline:
            before, t = ticks(), time.monotonic()
            time.sleep(1.0)
            if 100.0 * (ticks() - before) / hz / (time.monotonic() - t) < quiet_percent:
                return

    def start(self, ready_timeout: float) -> None:
        rabbitmqctl("add_vhost", self.vhost)
        self.vhost_created = True
        rabbitmqctl("set_permissions", "-p", self.vhost, "guest", ".*", ".*", ".*")
        clash = ("SOESMART_BROKER_URL", "SOESMART_DATA_DIR", "SOESMART_HTTP_PORT",
                 "SOESMART_PUBLIC_URL", "SOESMART_DATABASE_URL", "SOESMART_TOWN",
                 "SOESMART_HTTP_HOST")
        env = {k: v for k, v in os.environ.items() if k not in clash}
        env.update(
            SOESMART_BROKER_URL=f"amqp://guest:guest@127.0.0.1:5672/{self.vhost}",
            SOESMART_HTTP_HOST="127.0.0.1",
        )
        log = open(self.data_dir / "up.log", "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "launcher.cli", "up", "--data-dir", str(self.data_dir),
             "--port", str(self.port), "--ready-timeout", str(ready_timeout)],
            env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + ready_timeout + 10
        client = Client("127.0.0.1", self.port, timeout=5)
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"`soesmart up` exited with {self.proc.returncode}; "
                                 f"see {self.data_dir / 'up.log'}")
            try:
                status, _ = client.request("GET", "/readyz")
                if status == 200:
                    client.close()
                    self.settle()
                    return
            except (OSError, http.client.HTTPException):
                pass
            time.sleep(0.5)
        raise SystemExit(f"the network was not ready in time; see {self.data_dir / 'logs'}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                # `up` is stuck: end its process group (only what we started).
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        if self.vhost_created:
            try:
                rabbitmqctl("delete_vhost", self.vhost)
            except (subprocess.SubprocessError, OSError) as exc:
                print(f"could not delete vhost {self.vhost}: {exc}", file=sys.stderr)
        if self.keep_data:
            print(f"data and logs kept in {self.data_dir}", file=sys.stderr)
        else:
            shutil.rmtree(self.data_dir, ignore_errors=True)


# ---------------------------------------------------------------------------- citizens
def signed_in_citizens(data_dir: Path, town: str, n: int) -> list[str]:
    """`n` confirmed citizens added to `town`'s database; their `Authorization` values."""
    from services.gateway.web.citizen_sessions import BEARER_PREFIX, sign_citizen
    from services.participation.service_layer import demo_data
    from services.participation.service_layer.handlers import ParticipationApp
    from soesmart.config import Settings
    from soesmart.contracts import CitizenSession

    settings = Settings(data_dir=data_dir, town=town, demo=False)
    key_file = data_dir / "secret-key"
    if settings.secret_key == Settings.model_fields["secret_key"].default and key_file.exists():
        settings = settings.model_copy(update={"secret_key": key_file.read_text().strip()})
    app = ParticipationApp(settings)
    try:
        run_id = uuid.uuid4().hex[:8]
        ids = demo_data.seed_confirmed_citizens(
            app.uow(), [(f"bench-{run_id}-{k}@example.org", f"Bench {k}") for k in range(n)])
    finally:
        app.stop()
        app.engine.dispose()
    return [
        "Bearer " + BEARER_PREFIX + sign_citizen(
            CitizenSession(citizen_id=uuid.UUID(cid), town=town, display_name="Bench", confirmed=True),
            settings)
        for cid in ids
    ]


# ---------------------------------------------------------------------------- main
def run(args: argparse.Namespace, url: str, root: int | None, data_dir: Path) -> dict[str, Any]:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    setup = Client(host, port)
    targets = []
    for town in args.towns:
        codes = measure_codes(setup, town)
        if not codes:
            raise SystemExit(f"{town} has no open consultation with measures")
        targets.append((town, codes))
    baseline = results_count(setup)
    setup.close()

    load = Load(host, port, args.rate, args.duration, args.concurrency, targets)
    per_town = math.ceil(load.scheduled / len(targets)) + 1
    load.citizens = {town: signed_in_citizens(data_dir, town, per_town) for town, _ in targets}
    # Polling is itself load (the results are a ~20 KB document): slowly while ratings
    # are sent, quickly once they are all answered.
    watcher = ResultsWatcher(host, port, args.poll_during_load)
    idle_busy = None
    if args.cpu:  # how busy the machine is anyway (other work competes for the 2 cores)
        before = CpuSampler._host()
        time.sleep(1.0)
        after = CpuSampler._host()
        total = after[0] - before[0]
        idle_busy = round(100.0 * (total - (after[1] - before[1])) / total, 1) if total else None
    cpu = CpuSampler(root) if args.cpu else None
    watcher.start()
    if cpu:
        cpu.start()
    load.run()
    watcher.speed_up(args.poll)
    if cpu:
        cpu.stop_event.set()
        cpu.join()

    expected = baseline + sum(1 for s in load.samples if s.status == "201")
    caught_up_at: float | None = None
    drain_end = time.perf_counter() + args.drain
    while time.perf_counter() < drain_end:
        for t, c in watcher.points:
            if c >= expected:
                caught_up_at = t
                break
        if caught_up_at is not None:
            break
        time.sleep(min(0.05, args.poll))
    drain_deadline_hit = caught_up_at is None
    if caught_up_at is not None:
        # keep watching a little: a late duplicate would show as an overshoot
        time.sleep(args.settle)
    watcher.stop()
    watcher.join(timeout=REQUEST_TIMEOUT + 1)
    cpu_summary = cpu.summary() | {"host_busy_percent_before_load": idle_busy} if cpu else None
    return summarise(load, watcher, baseline, caught_up_at, drain_deadline_hit, cpu_summary)


def main(argv: list[str] | None = None) -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from soesmart.towns import towns

    all_towns = [t.slug for t in towns()]
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--rate", type=float, default=500.0, help="target ratings/s")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of load")
    parser.add_argument("--concurrency", type=int, default=64, help="connections/threads")
    parser.add_argument("--towns", nargs="+", default=all_towns, choices=all_towns)
    parser.add_argument("--drain", type=float, default=60.0,
                        help="seconds to wait for the regional results to catch up")
    parser.add_argument("--settle", type=float, default=2.0,
                        help="seconds to keep watching the results after they caught up")
    parser.add_argument("--poll", type=float, default=0.1,
                        help="results poll interval once the load is over")
    parser.add_argument("--poll-during-load", type=float, default=1.0,
                        help="results poll interval while ratings are sent")
    parser.add_argument("--start", action="store_true",
                        help="run the network itself (soesmart up, fresh vhost, temp data)")
    parser.add_argument("--ready-timeout", type=float, default=120.0)
    parser.add_argument("--data-dir", type=Path, default=Path(os.environ.get("SOESMART_DATA_DIR", "var")),
                        help="without --start: the network's data directory (databases, secret key)")
    parser.add_argument("--keep-data", action="store_true",
                        help="with --start: keep the data directory and logs")
    parser.add_argument("--no-cpu", dest="cpu", action="store_false",
                        help="do not sample per-process CPU from /proc")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    args = parser.parse_args(argv)
    if args.rate <= 0 or args.duration <= 0 or args.concurrency < 1:
        parser.error("--rate, --duration and --concurrency must be positive")

    network: Network | None = None
    url = args.url
    if args.start:
        network = Network(args.keep_data)
        url = network.url
    elif urlsplit(url).hostname not in LOCAL_HOSTS:
        parser.error("this benchmark only talks to 127.0.0.1")
    if urlsplit(url).hostname == "localhost":
        url = url.replace("localhost", "127.0.0.1", 1)

    if network is not None:  # a plain `kill` must still stop the network and drop the vhost
        signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    try:
        if network is not None:
            print(f"starting the network on {url} (vhost {network.vhost}, data {network.data_dir})",
                  file=sys.stderr, flush=True)
            network.start(args.ready_timeout)
        if network is not None and network.proc is not None:
            root: int | None = network.proc.pid
        else:
            root = network_root(urlsplit(url).port or 80) if args.cpu else None
        summary = run(args, url, root, network.data_dir if network is not None else args.data_dir)
    finally:
        if network is not None:
            network.stop()
    print(json.dumps(summary, indent=2) if args.json else human(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
