"""Benchmark: one status change, 20,000 confirmed subscribers, every mail at a real SMTP server.

    python bench/mail_fanout.py                       # 20,000 subscribers, SQLite
    python bench/mail_fanout.py --subscribers 5000 --database-url postgresql://postgres@127.0.0.1/x

Inserts the confirmed subscribers (scope: the whole region) directly into a fresh
notifications database, starts a real aiosmtpd server on loopback in this process
(it only counts recipients, so the bench measures the sender, not a parser), starts
the notifications service as its own process (as `soesmart up` does) in a fresh
RabbitMQ vhost, publishes one MeasureStatusChanged to the broker and measures the
time until all mails have arrived. The quiet period before immediate mails
(`--batch-seconds`) is part of the figure. Only 127.0.0.1 is contacted.
Not a test: nothing here asserts.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from sqlalchemy import insert

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from services.notifications.adapters import tables as t  # noqa: E402
from services.notifications.adapters.mail import MemoryTransport  # noqa: E402
from services.notifications.service_layer.handlers import NotificationsApp  # noqa: E402
from soesmart.config import Settings  # noqa: E402
from soesmart.contracts import MeasureStatusChanged, Source  # noqa: E402
from soesmart.messaging.topology import declare_all  # noqa: E402
from soesmart.towns import towns  # noqa: E402
from tests.support.bus import publish_event  # noqa: E402
from tests.support.infra import create_vhost, delete_vhost, free_port  # noqa: E402


class Counter:
    """An SMTP handler that only counts accepted recipients (and when)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.count = 0
        self.first: float | None = None
        self.last: float | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.count += len(envelope.rcpt_tos)
            now = time.monotonic()
            self.first = self.first or now
            self.last = now
        return "250 OK"


def cpu_seconds(pid: int | None = None) -> float | None:
    """CPU time (user + system) of a process so far: this one, or `pid` (Linux only)."""
    if pid is None:
        times = os.times()
        return times.user + times.system
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def insert_subscribers(database_url: str, data_dir: Path, n: int) -> float:
    started = time.monotonic()
    app = NotificationsApp(Settings(data_dir=data_dir, database_url=database_url),
                           transport=MemoryTransport())  # migrates the database
    now = datetime.now(UTC)
    with app.engine.begin() as conn:
        for start in range(0, n, 5000):
            conn.execute(insert(t.subscriptions), [
                dict(id=str(uuid.uuid4()), email=f"buerger-{i:06d}@example.org",
                     scope_type="region", scope_value="all", language="de",
                     status="confirmed", frequency="immediate", created_at=now, confirmed_at=now)
                for i in range(start, min(n, start + 5000))
            ])
    app.engine.dispose()
    return time.monotonic() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscribers", type=int, default=20_000)
    parser.add_argument("--database-url", default=None, help="default: SQLite in a temp dir")
    parser.add_argument("--batch-seconds", type=float, default=1.0,
                        help="quiet period before immediate mails (SOESMART_MAIL_BATCH_SECONDS)")
    parser.add_argument("--connections", type=int, default=None,
                        help="SMTP connections of the sender (SOESMART_MAIL_CONNECTIONS; "
                             "default: the service's default)")
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    data_dir = Path(tempfile.mkdtemp(prefix="soesmart-bench-mail-"))
    database_url = args.database_url or f"sqlite:///{data_dir / 'notifications.db'}"
    vhost, broker_url = create_vhost()
    counter = Counter()
    smtp = Controller(counter, hostname="127.0.0.1", port=free_port())
    smtp.start()
    proc = None
    try:
        insert_s = insert_subscribers(database_url, data_dir, args.subscribers)
        env = {k: v for k, v in os.environ.items() if not k.startswith("SOESMART_")}
        env.update(SOESMART_BROKER_URL=broker_url, SOESMART_DATA_DIR=str(data_dir),
                   SOESMART_DATABASE_URL=database_url,
                   SOESMART_SMTP_URL=f"smtp://127.0.0.1:{smtp.port}",
                   SOESMART_MAIL_BATCH_SECONDS=str(args.batch_seconds),
                   SOESMART_SECRET_KEY="bench-secret", PYTHONUNBUFFERED="1")
        if args.connections is not None:
            env["SOESMART_MAIL_CONNECTIONS"] = str(args.connections)
        log = open(data_dir / "notifications.log", "wb")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen([sys.executable, "-m", "launcher.service_main", "notifications"],
                                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        declare_all(broker_url, towns())
        time.sleep(3)  # let the service connect; the queue holds the event either way
        event = MeasureStatusChanged(source=Source(service="measures"), code="VEP-RAD-02",
                                     title="Radweg auf der ehemaligen Bahntrasse",
                                     old_status="in_consultation", new_status="decided",
                                     note="Der Rat hat die Maßnahme beschlossen.",
                                     changed_by="Regionale Koordination", revision=2)
        sender_cpu, bench_cpu = cpu_seconds(proc.pid), cpu_seconds()
        published = time.monotonic()
        publish_event(broker_url, event)
        deadline = published + args.timeout
        while counter.count < args.subscribers and time.monotonic() < deadline:
            if proc.poll() is not None:
                raise SystemExit(f"notifications stopped; see {data_dir / 'notifications.log'}")
            time.sleep(0.05)
        done = time.monotonic()
        sender_cpu_after, bench_cpu_after = cpu_seconds(proc.pid), cpu_seconds()
        mails = max(1, counter.count)
        result: dict[str, Any] = {
            "subscribers": args.subscribers,
            "database": database_url.split(":", 1)[0],
            "batch_seconds": args.batch_seconds,
            "mails_arrived": counter.count,
            "insert_subscribers_s": round(insert_s, 2),
            "publish_to_first_mail_s": round((counter.first or done) - published, 2),
            "publish_to_last_mail_s": round(done - published, 2),
            "smtp_rate_mails_per_s": round(
                counter.count / max(1e-9, (counter.last or done) - (counter.first or done)), 1),
            "connections": args.connections or "default",
            # Where the CPU goes: the notifications process (bundling, rendering, SMTP
            # client, database) and this process (almost all of it the SMTP server).
            "sender_cpu_ms_per_mail": (
                round(1000 * (sender_cpu_after - sender_cpu) / mails, 3)
                if sender_cpu is not None and sender_cpu_after is not None else None),
            "smtp_server_cpu_ms_per_mail": round(
                1000 * ((bench_cpu_after or 0) - (bench_cpu or 0)) / mails, 3),
            "load_average_1min": round(os.getloadavg()[0], 2),
        }
        print(json.dumps(result) if args.json else "\n".join(
            f"{k:>26}: {v}" for k, v in result.items()))
        return 0 if counter.count >= args.subscribers else 1
    finally:
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        smtp.stop()
        delete_vhost(vhost)
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
