"""Ratings sent at a steady rate while something breaks, and what became of each of them.

Every rating is one (citizen, measure) pair, sent once by the load; the answers of all
attempts are kept. A pair that was not accepted (503, a lost connection) is sent again
afterwards, the way the API documentation tells a client to: the same answer of the
same citizen never counts twice, so afterwards every pair is accepted exactly once.
"""

from __future__ import annotations

import http.client
import json
import math
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from tests.support.infra import eventually

REQUEST_TIMEOUT = 15.0  # longer than the gateway's RPC deadline: its 503 is what we want


@dataclass
class Rating:
    town: str
    authorization: str
    code: str
    effectiveness: int
    answers: list[str] = field(default_factory=list)  # "201", "503", "conn:ConnectionResetError"

    @property
    def accepted(self) -> bool:
        return any(a in ("200", "201") for a in self.answers)

    def body(self) -> bytes:
        return json.dumps({"measure_code": self.code, "effectiveness": self.effectiveness,
                           "support": "yes"}).encode()


def seeded_citizens(data_dir: Path, broker_url: str, town: str, n: int, secret_key: str,
                    database_url_template: str | None = None) -> list[str]:
    """`Authorization` values of `n` confirmed (demo-marked) citizens added to a running
    town instance's database in one step (no opt-in mails)."""
    from services.gateway.web.citizen_sessions import BEARER_PREFIX, sign_citizen
    from services.participation.service_layer import demo_data
    from services.participation.service_layer.handlers import ParticipationApp
    from soesmart.config import Settings
    from soesmart.contracts import CitizenSession

    settings = Settings(data_dir=data_dir, broker_url=broker_url, town=town, demo=False,
                        database_url_template=database_url_template, secret_key=secret_key)
    app = ParticipationApp(settings)
    try:
        run = uuid.uuid4().hex[:8]
        ids = demo_data.seed_confirmed_citizens(
            app.uow(), [(f"last-{run}-{k}@example.org", f"Last {k}") for k in range(n)])
    finally:
        app.stop()
        app.engine.dispose()
    return ["Bearer " + BEARER_PREFIX + sign_citizen(CitizenSession(
        citizen_id=uuid.UUID(cid), town=town, display_name="Last", confirmed=True), settings)
        for cid in ids]


def plan_ratings(network: Any, count: int, towns: list[str]) -> list[Rating]:
    """`count` ratings spread over `towns`, each citizen rating every measure of their
    town's open consultation, interleaved so that every town gets load all the time."""
    per_town: list[list[Rating]] = []
    for town in towns:
        items = requests.get(f"{network.url}/api/v1/towns/{town}/consultations",
                             timeout=10).json()["items"]
        codes = sorted({m["code"] for c in items for m in c["measures"]})
        assert codes, f"{town} has no open consultation with measures"
        wanted = math.ceil(count / len(towns))
        citizens = seeded_citizens(network.data_dir, network.broker_url, town,
                                   math.ceil(wanted / len(codes)),
                                   network.env()["SOESMART_SECRET_KEY"], network.database_url_template)
        pairs = [(c, code) for c in citizens for code in codes][:wanted]
        per_town.append([Rating(town, c, code, 1 + i % 5) for i, (c, code) in enumerate(pairs)])
    mixed = [r for group in zip(*per_town, strict=False) for r in group]
    return mixed[:count]


class Client:
    """One keep-alive HTTP connection."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.conn: http.client.HTTPConnection | None = None

    def post(self, rating: Rating) -> str:
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=REQUEST_TIMEOUT)
        try:
            self.conn.request("POST", f"/api/v1/towns/{rating.town}/ratings", body=rating.body(),
                              headers={"Authorization": rating.authorization,
                                       "Content-Type": "application/json"})
            response = self.conn.getresponse()
            response.read()
            if response.will_close:
                self.close()
            return str(response.status)
        except (OSError, http.client.HTTPException) as exc:
            self.close()
            return "conn:" + type(exc).__name__

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


class RatingLoad:
    """Sends `ratings` at `rate` per second from `workers` threads (open loop), until all are
    sent or `stop()`; what was never sent is then left out (`ratings` are those sent)."""

    def __init__(self, port: int, ratings: list[Rating], rate: float, workers: int = 8) -> None:
        self.port, self.planned, self.rate, self.workers = port, ratings, rate, workers
        self._next = 0
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self.t0 = 0.0

    def _take(self) -> int:
        with self._lock:
            i, self._next = self._next, self._next + 1
            return i

    def _work(self) -> None:
        client = Client(self.port)
        try:
            while (i := self._take()) < len(self.planned):
                delay = self.t0 + i / self.rate - time.monotonic()
                if delay > 0 and self._stopping.wait(delay):
                    break
                if self._stopping.is_set():
                    break
                rating = self.planned[i]
                rating.answers.append(client.post(rating))
        finally:
            client.close()

    def start(self) -> RatingLoad:
        self.t0 = time.monotonic() + 0.2
        self._threads = [threading.Thread(target=self._work, daemon=True) for _ in range(self.workers)]
        for thread in self._threads:
            thread.start()
        return self

    def elapsed(self) -> float:
        return time.monotonic() - self.t0

    @property
    def ratings(self) -> list[Rating]:
        return [r for r in self.planned if r.answers]

    def sent(self) -> int:
        return len(self.ratings)

    def join(self) -> None:
        for thread in self._threads:
            thread.join()

    def stop(self) -> None:
        """No further ratings; waits for those under way."""
        self._stopping.set()
        self.join()

    def send_again_until_accepted(self, timeout: float = 120) -> int:
        """What a client does after a 503: the same rating again. Returns how many."""
        client = Client(self.port)
        left = [r for r in self.ratings if not r.accepted]
        try:
            for rating in left:
                def accepted(rating: Rating = rating) -> bool:
                    rating.answers.append(client.post(rating))
                    return rating.accepted
                eventually(accepted, timeout=timeout, interval=0.5,
                           message=f"a rating sent again in {rating.town} is accepted")
        finally:
            client.close()
        return len(left)

    def answers(self) -> Counter[str]:
        return Counter(a for r in self.ratings for a in r.answers)

    def first_answers(self) -> Counter[str]:
        return Counter(r.answers[0] for r in self.ratings if r.answers)


class ReadinessWatch(threading.Thread):
    """Polls the gateway's /readyz and keeps the longest stretch it was not ready (all of
    the network, or the services named in `names` when only those run)."""

    def __init__(self, url: str, interval: float = 0.5, names: list[str] | None = None) -> None:
        super().__init__(daemon=True)
        self.url, self.interval, self.names = url, interval, names
        self.stop_event = threading.Event()
        self.not_ready_since: float | None = None
        self.longest_not_ready = 0.0
        self.not_ready_seen = 0
        self.statuses: Counter[int] = Counter()
        self._down_since: dict[str, float] = {}  # per service in /readyz's checks
        self._longest: dict[str, float] = {}

    def look(self) -> bool:
        try:
            response = requests.get(self.url + "/readyz", timeout=10)
            self.statuses[response.status_code] += 1
            checks = response.json()["checks"]
            self._note_services(checks)
            if self.names is None:
                return response.status_code == 200
            return all(checks.get(n) == "ok" for n in self.names)
        except (requests.RequestException, ValueError, KeyError):
            self.statuses[0] += 1
            return False

    def run(self) -> None:
        while not self.stop_event.is_set():
            now, ready = time.monotonic(), self.look()
            if ready and self.not_ready_since is not None:
                self.longest_not_ready = max(self.longest_not_ready, now - self.not_ready_since)
                self.not_ready_since = None
            elif not ready:
                self.not_ready_seen += 1
                if self.not_ready_since is None:
                    self.not_ready_since = now
            self.stop_event.wait(self.interval)

    def _note_services(self, checks: dict[str, str]) -> None:
        now = time.monotonic()
        for name, state in checks.items():
            if state != "ok":
                self._down_since.setdefault(name, now)
            elif name in self._down_since:
                stretch = now - self._down_since.pop(name)
                self._longest[name] = max(self._longest.get(name, 0.0), stretch)

    def longest_per_service(self) -> dict[str, float]:
        """Seconds each service was longest seen not ready (only those that ever were)."""
        return {name: round(seconds, 1) for name, seconds in sorted(self._longest.items())}

    def stop(self) -> None:
        self.stop_event.set()
        self.join()
