"""The load of bench/ratings.py: an HTTP client, open-loop rating requests, and a watcher
of the regional results that tells when they have caught up."""

from __future__ import annotations

import http.client
import json
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any

SUPPORT = ("yes", "rather_yes", "rather_no", "no")
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
