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
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from bisect import bisect_right
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

SUPPORT = ("yes", "rather_yes", "rather_no", "no")
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
REQUEST_TIMEOUT = 15.0  # longer than the gateway's RPC deadline (5 s): its 503 is what we want


# ---------------------------------------------------------------------------- HTTP helpers
class Client:
    """One keep-alive HTTP/1.1 connection (one per worker thread)."""

    def __init__(self, host: str, port: int, timeout: float = REQUEST_TIMEOUT) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self.conn: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, body: bytes | None = None,
                extra_headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        headers = {"Accept": "application/json", **(extra_headers or {})}
        if body is not None:
            headers["Content-Type"] = "application/json"
        try:
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
            data = response.read()
            if response.will_close:
                self.close()
            return response.status, data
        except BaseException:
            self.close()
            raise

    def get_json(self, path: str) -> Any:
        status, data = self.request("GET", path)
        if status != 200:
            raise RuntimeError(f"GET {path}: HTTP {status}: {data[:300]!r}")
        return json.loads(data)

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def results_count(client: Client) -> int:
    results = client.get_json("/api/v1/results")
    return sum(int(m["total"]["answers"]) for m in results["measures"])


def measure_codes(client: Client, town: str) -> list[str]:
    items = client.get_json(f"/api/v1/towns/{town}/consultations")["items"]
    codes = sorted({m["code"] for c in items for m in c["measures"]})
    return codes


# ---------------------------------------------------------------------------- the load
@dataclass
class Sample:
    due: float        # when the request was scheduled (perf_counter)
    sent: float       # when it was written
    done: float       # when the response was read
    status: str       # "201", "200", "503", ... or "conn:ExceptionName"


@dataclass
class Load:
    host: str
    port: int
    rate: float
    duration: float
    concurrency: int
    targets: list[tuple[str, list[str]]]  # (town, measure codes)
    citizens: dict[str, list[str]] = field(default_factory=dict)  # town -> Authorization values
    samples: list[Sample] = field(default_factory=list)
    t0: float = 0.0
    _next: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def scheduled(self) -> int:
        return int(self.rate * self.duration)

    def _take(self) -> int:
        with self._lock:
            i = self._next
            self._next += 1
            return i

    def _worker(self, seed: int) -> None:
        rnd = random.Random(seed)
        client = Client(self.host, self.port)
        local: list[Sample] = []
        end = self.t0 + self.duration
        n = self.scheduled
        try:
            while True:
                i = self._take()
                if i >= n:
                    break
                due = self.t0 + i / self.rate
                now = time.perf_counter()
                if now < due:
                    time.sleep(due - now)
                elif now >= end:
                    break  # its slot is gone and so is the run: counted as missed
                town, codes = self.targets[i % len(self.targets)]
                citizen = self.citizens[town][i // len(self.targets)]  # a new one every time
                body = json.dumps({
                    "measure_code": rnd.choice(codes),
                    "effectiveness": rnd.randint(1, 5),
                    "support": rnd.choice(SUPPORT),
                }).encode()
                sent = time.perf_counter()
                try:
                    status, _ = client.request("POST", f"/api/v1/towns/{town}/ratings", body,
                                               {"Authorization": citizen})
                    label = str(status)
                except (OSError, http.client.HTTPException) as exc:
                    label = "conn:" + type(exc).__name__
                local.append(Sample(due, sent, time.perf_counter(), label))
        finally:
            client.close()
            with self._lock:
                self.samples.extend(local)

    def run(self) -> None:
        threads = [
            threading.Thread(target=self._worker, args=(k,), name=f"load-{k}", daemon=True)
            for k in range(self.concurrency)
        ]
        self.t0 = time.perf_counter() + 0.2  # let every thread get going first
        for th in threads:
            th.start()
        for th in threads:
            th.join()


# ---------------------------------------------------------------------------- results watcher
class ResultsWatcher(threading.Thread):
    """Polls GET /api/v1/results from the start of the load until told to stop."""

    def __init__(self, host: str, port: int, interval: float) -> None:
        super().__init__(name="results-watcher", daemon=True)
        self.client = Client(host, port)
        self.interval = interval  # set shorter by the caller once the load is over
        self.points: list[tuple[float, int]] = []  # (perf_counter, total answers)
        self.errors: dict[str, int] = {}
        self.stop_event = threading.Event()
        self.wake = threading.Event()

    def speed_up(self, interval: float) -> None:
        self.interval = interval
        self.wake.set()

    def stop(self) -> None:
        self.stop_event.set()
        self.wake.set()

    def poll(self) -> int | None:
        try:
            count = results_count(self.client)
        except (OSError, http.client.HTTPException, RuntimeError, ValueError, KeyError) as exc:
            key = type(exc).__name__
            self.errors[key] = self.errors.get(key, 0) + 1
            return None
        self.points.append((time.perf_counter(), count))
        return count

    def run(self) -> None:
        while not self.stop_event.is_set():
            self.poll()
            self.wake.wait(self.interval)
            self.wake.clear()
        self.client.close()

    def latest(self) -> int | None:
        return self.points[-1][1] if self.points else None


# ---------------------------------------------------------------------------- CPU per process
def _cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return []
    return [a.decode(errors="replace") for a in raw if a]


def _proc_name(pid: int) -> str:
    args = _cmdline(pid)
    if "launcher.service_main" in args:
        rest = args[args.index("launcher.service_main") + 1:]
        if rest[:1] == ["participation"] and "--town" in rest:
            return "participation/" + rest[rest.index("--town") + 1]
        return rest[0] if rest else "service"
    if args and args[0].endswith("beam.smp"):
        return "rabbitmq (beam.smp, shared)"
    if pid == os.getpid():
        return "bench (this process)"
    if "up" in args and any("soesmart" in a for a in args):
        return "soesmart up"
    return " ".join(args)[:40] or str(pid)


def _ppid(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat[stat.rindex(")") + 2:].split()[1])


def _descendants(root: int) -> set[int]:
    parents = {int(e): _ppid(int(e)) for e in os.listdir("/proc") if e.isdigit()}
    found, frontier = {root}, [root]
    while frontier:
        p = frontier.pop()
        for child, parent in parents.items():
            if parent == p and child not in found:
                found.add(child)
                frontier.append(child)
    return found


def _listener_pid(port: int) -> int | None:
    """The process listening on 127.0.0.1:port (the gateway), from /proc (read only)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            cols = line.split()
            if cols[3] == "0A" and int(cols[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(cols[9])
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            for fd in os.listdir(f"/proc/{entry}/fd"):
                link = os.readlink(f"/proc/{entry}/fd/{fd}")
                if link.startswith("socket:[") and link[8:-1] in inodes:
                    return int(entry)
        except OSError:
            continue
    return None


def network_root(port: int) -> int | None:
    """`soesmart up` serving this port if there is one, else the gateway process itself."""
    gateway = _listener_pid(port)
    if gateway is None:
        return None
    parent = _ppid(gateway)
    if parent and _proc_name(parent) == "soesmart up":
        return parent
    return gateway


def _cpu_ticks(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2:].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


class CpuSampler(threading.Thread):
    """Reads /proc once a second: CPU of the services, RabbitMQ and this process (read only)."""

    def __init__(self, root: int | None, interval: float = 1.0) -> None:
        super().__init__(name="cpu-sampler", daemon=True)
        self.root = root
        self.interval = interval
        self.hz = os.sysconf("SC_CLK_TCK")
        self.stop_event = threading.Event()
        self.peak: dict[str, float] = {}
        self.first: dict[int, tuple[float, int]] = {}
        self.last: dict[int, tuple[float, int]] = {}
        self.names: dict[int, str] = {}
        self.host_first = self._host()
        self.host_last = self.host_first

    @staticmethod
    def _host() -> tuple[int, int]:
        parts = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        idle = parts[3] + parts[4]
        return sum(parts), idle

    def _scan(self) -> None:
        pids = _descendants(self.root) if self.root else set()
        pids.add(os.getpid())
        for entry in os.listdir("/proc"):
            if entry.isdigit() and _cmdline(int(entry))[:1] and \
                    _cmdline(int(entry))[0].endswith("beam.smp"):
                pids.add(int(entry))
        for pid in pids:
            if pid not in self.names:
                self.names[pid] = _proc_name(pid)

    def sample(self) -> None:
        self._scan()
        now = time.perf_counter()
        for pid, name in list(self.names.items()):
            ticks = _cpu_ticks(pid)
            if ticks is None:
                continue
            prev = self.last.get(pid)
            if prev is not None and now > prev[0]:
                pct = 100.0 * (ticks - prev[1]) / self.hz / (now - prev[0])
                self.peak[name] = max(self.peak.get(name, 0.0), pct)
            self.first.setdefault(pid, (now, ticks))
            self.last[pid] = (now, ticks)
        self.host_last = self._host()

    def run(self) -> None:
        while not self.stop_event.is_set():
            self.sample()
            self.stop_event.wait(self.interval)

    def summary(self) -> dict[str, Any]:
        average: dict[str, float] = {}
        seconds: dict[str, float] = {}
        for pid, (t_first, c_first) in self.first.items():
            t_last, c_last = self.last[pid]
            if t_last > t_first:
                name = self.names[pid]
                used = (c_last - c_first) / self.hz
                seconds[name] = seconds.get(name, 0.0) + used
                average[name] = average.get(name, 0.0) + 100.0 * used / (t_last - t_first)
        total = self.host_last[0] - self.host_first[0]
        busy = total - (self.host_last[1] - self.host_first[1])
        cores = os.cpu_count() or 1
        host = 100.0 * busy / total if total else None
        return {
            "cores": cores,
            "host_busy_percent": round(host, 1) if host is not None else None,
            # what the rest of the machine used meanwhile (in % of one core), e.g. other jobs
            "others_percent": round(max(0.0, host * cores - sum(average.values())), 1)
            if host is not None else None,
            "average_percent": {k: round(v, 1) for k, v in
                                sorted(average.items(), key=lambda kv: -kv[1])},
            "peak_percent": {k: round(self.peak.get(k, 0.0), 1) for k in
                             sorted(average, key=lambda k: -average[k])},
            "cpu_seconds": {k: round(v, 3) for k, v in
                            sorted(seconds.items(), key=lambda kv: -kv[1])},
        }


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
            return sum((_cpu_ticks(p) or 0) for p in _descendants(root))

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


# ---------------------------------------------------------------------------- report
def percentile(sorted_values: list[float], p: float) -> float | None:
    if not sorted_values:
        return None
    k = max(0, min(len(sorted_values) - 1, math.ceil(p / 100.0 * len(sorted_values)) - 1))
    return sorted_values[k]


def ms(value: float | None) -> float | None:
    return None if value is None else round(value * 1000.0, 1)


def summarise(load: Load, watcher: ResultsWatcher, baseline: int, caught_up_at: float | None,
              drain_deadline_hit: bool, cpu: dict[str, Any] | None) -> dict[str, Any]:
    samples = load.samples
    accepted = [s for s in samples if s.status == "201"]
    errors: dict[str, int] = {}
    for s in samples:
        if s.status not in ("201", "200"):
            errors[s.status] = errors.get(s.status, 0) + 1
    unchanged = sum(1 for s in samples if s.status == "200")
    ok_samples = [s for s in samples if s.status in ("201", "200")]
    latency = sorted(s.done - s.due for s in ok_samples)
    service = sorted(s.done - s.sent for s in ok_samples)
    all_latency = sorted(s.done - s.due for s in samples)
    last_done = max((s.done for s in samples), default=load.t0)
    elapsed = max(load.duration, last_done - load.t0)
    last_accept = max((s.done for s in accepted), default=None)

    expected = baseline + len(accepted)
    final = watcher.latest()
    peak = max((c for _, c in watcher.points), default=None)
    accept_times = sorted(s.done for s in accepted)
    max_behind = 0
    for t, c in watcher.points:
        done_by_then = bisect_right(accept_times, t)
        max_behind = max(max_behind, done_by_then - (c - baseline))

    if cpu and accepted:
        per = {k: round(1000.0 * v / len(accepted), 2) for k, v in cpu["cpu_seconds"].items()}
        network_ms = sum(v for k, v in per.items() if not k.startswith("bench"))
        cpu = cpu | {
            # CPU the services and the broker spent per accepted rating during the load
            # (a little of it is the results polling); robust against other work on the host.
            "cpu_ms_per_rating": per,
            "network_cpu_ms_per_rating": round(network_ms, 2),
            "ceiling_per_s_on_all_cores": round(cpu["cores"] * 1000.0 / network_ms, 1)
            if network_ms else None,
        }
    return {
        "offered_rate": load.rate,
        "duration_s": load.duration,
        "concurrency": load.concurrency,
        "towns": [t for t, _ in load.targets],
        "scheduled": load.scheduled,
        "sent": len(samples),
        "missed": load.scheduled - len(samples),
        "accepted_new": len(accepted),
        "accepted_unchanged": unchanged,
        "accepted_per_s": round(len(accepted) / elapsed, 1) if elapsed > 0 else None,
        "send_phase_s": round(elapsed, 2),
        "errors": dict(sorted(errors.items())),
        "latency_ms": {f"p{p}": ms(percentile(latency, p)) for p in (50, 95, 99)}
        | {"max": ms(latency[-1] if latency else None)},
        "latency_all_requests_ms": {f"p{p}": ms(percentile(all_latency, p)) for p in (50, 95, 99)},
        "service_time_ms": {f"p{p}": ms(percentile(service, p)) for p in (50, 95, 99)}
        | {"max": ms(service[-1] if service else None)},
        "send_lateness_ms": {"p99": ms(percentile(sorted(s.sent - s.due for s in samples), 99))},
        "results": {
            "baseline": baseline,
            "expected_growth": len(accepted),
            "counted_growth": None if final is None else final - baseline,
            "peak_growth": None if peak is None else peak - baseline,
            "overshoot": None if peak is None else max(0, peak - expected),
            "caught_up": caught_up_at is not None,
            "catch_up_s": None if caught_up_at is None or last_accept is None
            else round(caught_up_at - last_accept, 2),
            "drain_deadline_hit": drain_deadline_hit,
            "max_ratings_behind_during_run": max_behind,
            "polls": len(watcher.points),
            "poll_errors": watcher.errors,
        },
        "cpu": cpu,
    }


def human(s: dict[str, Any]) -> str:
    def fmt(d: dict[str, float | None]) -> str:
        return "  ".join(f"{k} {'-' if v is None else f'{v:.1f}'}" for k, v in d.items())

    errors = ", ".join(f"{k}: {v}" for k, v in s["errors"].items())
    lines = [
        f"offered {s['offered_rate']:g}/s for {s['duration_s']:g} s "
        f"({s['concurrency']} connections, {len(s['towns'])} towns): "
        f"{s['sent']} sent, {s['accepted_new']} accepted ({s['accepted_per_s']}/s), "
        f"errors {{{errors}}}"
        + (f", {s['missed']} missed (no free connection before the end)" if s["missed"] else "")
        + (f", {s['accepted_unchanged']} unchanged (200)" if s["accepted_unchanged"] else ""),
        f"latency ms: {fmt(s['latency_ms'])}   (service time {fmt(s['service_time_ms'])})",
    ]
    r = s["results"]
    counted = r["counted_growth"]
    if r["caught_up"]:
        lines.append(
            f"regional results caught up {r['catch_up_s']:.2f} s after the last accepted rating; "
            f"counted {counted} (expected {r['expected_growth']}); "
            f"at most {r['max_ratings_behind_during_run']} ratings behind during the run"
        )
    else:
        lines.append(
            f"regional results did NOT catch up within the drain deadline: counted {counted} "
            f"(expected {r['expected_growth']})"
        )
    if r["overshoot"]:
        lines.append(f"OVERSHOOT: results counted {r['overshoot']} more than accepted "
                     f"(peak growth {r['peak_growth']}) - double counting")
    if r["poll_errors"]:
        lines.append(f"results poll errors: {r['poll_errors']}")
    cpu = s.get("cpu")
    if cpu:
        top = ", ".join(f"{k} {v:.0f}%" for k, v in list(cpu["average_percent"].items())[:6])
        top += f"; everything else on the machine {cpu['others_percent']:.0f}%"
        peaks = ", ".join(f"{k} {v:.0f}%" for k, v in list(cpu["peak_percent"].items())[:3])
        lines.append(f"cpu during load ({cpu['cores']} cores, host "
                     f"{cpu['host_busy_percent']}% busy, "
                     f"{cpu['host_busy_percent_before_load']}% before): {top}; "
                     f"1 s peaks: {peaks}")
        if cpu.get("network_cpu_ms_per_rating"):
            per = ", ".join(f"{k} {v:.1f}" for k, v in list(cpu["cpu_ms_per_rating"].items())[:5])
            lines.append(
                f"cpu per accepted rating: {cpu['network_cpu_ms_per_rating']:.1f} ms in services "
                f"+ broker ({per}); so at most ~{cpu['ceiling_per_s_on_all_cores']:.0f}/s "
                f"if they had all {cpu['cores']} cores to themselves")
    return "\n".join(lines)


# ---------------------------------------------------------------------------- citizens
def signed_in_citizens(data_dir: Path, town: str, n: int) -> list[str]:
    """`n` confirmed citizens added to `town`'s database; their `Authorization` values."""
    from services.gateway.citizen_sessions import BEARER_PREFIX, sign_citizen
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
        ids = app.seed_confirmed_citizens(
            [(f"bench-{run_id}-{k}@example.org", f"Bench {k}") for k in range(n)])
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
