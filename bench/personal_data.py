"""Benchmark: a person's data download and its erasure across the running network.

    python bench/personal_data.py                   # SQLite network in a temporary directory
    python bench/personal_data.py --postgres        # one PostgreSQL database per instance
    python bench/personal_data.py --people 5 --repeat 20

Starts the whole network as `soesmart up` does (real processes, a RabbitMQ vhost of
its own, mails as .eml files), gives each person the traces a citizen leaves (a
confirmed account, a subscription of the region confirmed by its link, a rating
that follows the measure, a sign-in mail), then times

  1. the download `GET /api/v1/towns/<town>/me/export` (the town's instance and the
     notifications service over RPC), `--repeat` times per person, and
  2. the erasure `DELETE /api/v1/towns/<town>/me` (notifications first, then the
     town), and checks right after its answer that no database of the network
     holds the address in any form (tests/support/personal_data.py).

Prints p50/p95/max in milliseconds. Not a test: nothing here asserts.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import eventlet

eventlet.monkey_patch()

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402

from tests.support.infra import POSTGRES_URL, create_vhost, delete_vhost  # noqa: E402
from tests.support.network import Network  # noqa: E402
from tests.support.personal_data import leave_traces, traces_of, wait_for_export  # noqa: E402


def _postgres(prefix: str, create: bool) -> str:
    """Create (or drop) one database per instance; returns the URL template."""
    import pg8000.native
    from sqlalchemy.engine import make_url

    from soesmart.towns import towns

    url = make_url(POSTGRES_URL)
    admin = pg8000.native.Connection(user=url.username or "postgres", host=url.host or "127.0.0.1",
                                     port=url.port or 5432, database=url.database or "postgres")
    for instance in ["gateway", "measures", "notifications", *(t.service_name for t in towns())]:
        admin.run(f'CREATE DATABASE "{prefix}_{instance}"' if create
                  else f'DROP DATABASE IF EXISTS "{prefix}_{instance}" WITH (FORCE)')
    admin.close()
    return url.set(database=f"{prefix}_{{instance}}").render_as_string(hide_password=False)


def _figures(name: str, values: list[float]) -> str:
    ms = sorted(v * 1000 for v in values)
    p95 = ms[min(len(ms) - 1, int(len(ms) * 0.95))]
    return (f"{name:<10} n={len(ms):<4} p50={statistics.median(ms):7.1f} ms  "
            f"p95={p95:7.1f} ms  max={ms[-1]:7.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    vhost, broker = create_vhost()
    prefix = f"soesmart_bench_{uuid.uuid4().hex[:8]}"
    template = _postgres(prefix, create=True) if args.postgres else None
    net = Network(data_dir=Path(tempfile.mkdtemp(prefix="bench-data-")), broker_url=broker,
                  vhost=vhost, database_url_template=template)
    try:
        net.start(wait=False)
        net.wait_ready(timeout=240)
        downloads, erasures, clean = [], [], 0
        towns = ["soest", "arnsberg", "bad-berleburg", "menden", "olpe"]
        for i in range(args.people):
            town, address = towns[i % len(towns)], f"bench-{uuid.uuid4().hex[:8]}@example.org"
            auth = leave_traces(net, town, address)
            wait_for_export(net, town, auth)
            for _ in range(args.repeat):
                started = time.perf_counter()
                r = requests.get(f"{net.url}/api/v1/towns/{town}/me/export", headers=auth, timeout=10)
                downloads.append(time.perf_counter() - started)
                assert r.status_code == 200, r.text
            started = time.perf_counter()
            r = requests.delete(f"{net.url}/api/v1/towns/{town}/me", headers=auth, timeout=10)
            erasures.append(time.perf_counter() - started)
            assert r.status_code == 200, r.text
            clean += not traces_of(net, address)
        print(f"database: {'PostgreSQL' if args.postgres else 'SQLite'}; people: {args.people}")
        print(_figures("download", downloads))
        print(_figures("erasure", erasures))
        print(f"no trace of the address right after the erasure's answer: {clean}/{args.people}")
    finally:
        net.stop()
        delete_vhost(vhost)
        if args.postgres:
            _postgres(prefix, create=False)


if __name__ == "__main__":
    main()
