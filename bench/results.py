"""Benchmark: the coordinators' combined-results queries with 1,000,000 ratings stored.

    python bench/results.py                                   # SQLite in a temporary directory
    python bench/results.py --database-url postgresql://postgres@127.0.0.1/soesmart_bench
    python bench/results.py --ratings 200000 --repeat 100 --no-rpc

Fills the measures database with the demo catalogue and N ratings spread over
all measures and the five towns, generated inside the database (INSERT ... SELECT
over a recursive series: no driver round trips), and derives the per-(measure,
town) counters and the per-day counts from them, as the projection keeps them.
Then it times every combined-results query

  1. directly on the handler (MeasuresApp), and
  2. over nameko RPC, through a measures service process started for the run in a
     RabbitMQ vhost of its own (removed afterwards); the service answers repeated
     queries from its results cache until a rating arrives, so step 1 also times
     the handler "cold", with the cache forgotten before every call,

and prints p50/p95/p99 per query. The queries read the counters, never the
ratings, so their cost depends on measures x towns (1,600 rows), not on N.

--database-url must name an empty database or one this script filled before
(it refuses one that has ratings and was not filled by it). Not a test: nothing
here asserts. Only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select, text  # noqa: E402

from services.measures.adapters import tables as t  # noqa: E402
from services.measures.service_layer.handlers import MeasuresApp  # noqa: E402
from soesmart.config import Settings  # noqa: E402
from soesmart.storage import normalise_url  # noqa: E402

TOWNS = ("soest", "arnsberg", "bad-berleburg", "menden", "olpe")
MANAGEMENT = "http://127.0.0.1:15672"


# ---------------------------------------------------------------------------- filling
def fill(app: MeasuresApp, ratings: int) -> float:
    """Generate `ratings` ratings in the database and the counters derived from them."""
    started = time.perf_counter()
    dialect = app.engine.dialect.name
    with app.engine.begin() as conn:
        codes = list(conn.execute(select(t.measures.c.code).order_by(t.measures.c.code)).scalars())
        conn.execute(text("DROP TABLE IF EXISTS bench_codes"))
        conn.execute(text("CREATE TABLE bench_codes (n INTEGER PRIMARY KEY, code VARCHAR(40))"))
        conn.execute(text("INSERT INTO bench_codes (n, code) VALUES (:n, :code)"),
                     [{"n": i, "code": c} for i, c in enumerate(codes)])
        conn.execute(text("DROP TABLE IF EXISTS bench_towns"))
        conn.execute(text("CREATE TABLE bench_towns (n INTEGER PRIMARY KEY, town VARCHAR(40))"))
        conn.execute(text("INSERT INTO bench_towns (n, town) VALUES (:n, :town)"),
                     [{"n": i, "town": s} for i, s in enumerate(TOWNS)])
        n_codes = len(codes)
        # A deterministic spread: measure, town, answers and day from the rating's number.
        if dialect == "postgresql":
            series = f"SELECT g::bigint AS i FROM generate_series(1, {ratings}) AS g"
            rid = "'bench-' || lpad(s.i::text, 30, '0')"
            day = "DATE '2026-03-01' + (s.i % 56)::int"
            now = "now()"
        else:
            series = (f"WITH RECURSIVE s0(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s0 "
                      f"WHERE i < {ratings}) SELECT i FROM s0")
            rid = "'bench-' || printf('%030d', s.i)"
            day = "date('2026-03-01', '+' || (s.i % 56) || ' days')"
            now = "CURRENT_TIMESTAMP"
        conn.execute(text(f"""
            INSERT INTO rating_projection (rating_id, town, measure_code, effectiveness, support,
                                           version, updated_at, counted_day, counted_version)
            SELECT {rid}, tw.town, c.code,
                   CASE WHEN s.i % 11 = 0 THEN NULL ELSE 1 + ((s.i / 3 + c.n) % 5) END,
                   CASE (s.i / 7 + c.n * (tw.n + 1)) % 4 WHEN 0 THEN 'yes' WHEN 1 THEN 'rather_yes'
                        WHEN 2 THEN 'rather_no' ELSE 'no' END,
                   1 + (s.i % 3 = 0)::int, {now}, {day}, 1
            FROM ({series}) AS s
            JOIN bench_codes c ON c.n = (s.i * 7919) % {n_codes}
            JOIN bench_towns tw ON tw.n = (s.i / {n_codes}) % 5
        """.replace("(s.i % 3 = 0)::int", "(CASE WHEN s.i % 3 = 0 THEN 1 ELSE 0 END)")))
        sup = {s: f"SUM(CASE WHEN support = '{s}' THEN 1 ELSE 0 END)"
               for s in ("yes", "rather_yes", "rather_no", "no")}
        eff = {i: f"SUM(CASE WHEN effectiveness = {i} THEN 1 ELSE 0 END)" for i in range(1, 6)}
        conn.execute(text(f"""
            INSERT INTO tallies (measure_code, town, answers, eff_count, eff_sum, eff_1, eff_2,
                                 eff_3, eff_4, eff_5, sup_yes, sup_rather_yes, sup_rather_no, sup_no)
            SELECT measure_code, town, COUNT(*), COUNT(effectiveness), COALESCE(SUM(effectiveness), 0),
                   {eff[1]}, {eff[2]}, {eff[3]}, {eff[4]}, {eff[5]},
                   {sup['yes']}, {sup['rather_yes']}, {sup['rather_no']}, {sup['no']}
            FROM rating_projection GROUP BY measure_code, town
        """))
        conn.execute(text("""
            INSERT INTO daily_participation (town, day, ratings)
            SELECT town, counted_day, COUNT(*) FROM rating_projection GROUP BY town, counted_day
        """))
        conn.execute(text("DROP TABLE bench_codes"))
        conn.execute(text("DROP TABLE bench_towns"))
    if dialect == "postgresql":
        with app.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
    return time.perf_counter() - started


# ---------------------------------------------------------------------------- timing
def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    return {"p50": round(at(0.50), 2), "p95": round(at(0.95), 2), "p99": round(at(0.99), 2),
            "mean": round(statistics.fmean(ordered) * 1000, 2), "n": len(ordered)}


def time_calls(calls: dict[str, Callable[[], Any]], repeat: int) -> dict[str, dict[str, float]]:
    out = {}
    for name, call in calls.items():
        call()  # warm up (connection pool, caches)
        samples = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            call()
            samples.append(time.perf_counter() - t0)
        out[name] = percentiles(samples)
    return out


def handler_calls(app: MeasuresApp, cold: bool) -> dict[str, Callable[[], Any]]:
    """The queries on the handler; `cold` forgets the results cache before every call,
    as after a rating arrived (under a steady stream of ratings every call is cold)."""
    calls: dict[str, Callable[[], Any]] = {
        "regional_results": app.regional_results,
        "top_measures": lambda: app.top_measures(limit=10, min_answers=100),
        "compare_towns": lambda: app.compare_towns("VEP-RAD-02"),
        "disagreements": lambda: app.disagreements(limit=10, min_answers=100),
        "participation_per_day": app.participation_per_day,
        "results_csv": app.results_csv,
    }
    if not cold:
        return calls

    def forgetting(call: Callable[[], Any]) -> Callable[[], Any]:
        def run() -> Any:
            app._changed()
            return call()
        return run

    return {name: forgetting(call) for name, call in calls.items()}


# ---------------------------------------------------------------------------- over RPC
def _management(method: str, path: str, body: Any = None) -> None:
    import requests

    requests.request(method, MANAGEMENT + path, auth=("guest", "guest"), json=body,
                     timeout=10).raise_for_status()


def rpc_timings(database_url: str, data_dir: Path, repeat: int) -> dict[str, dict[str, float]]:
    from nameko.standalone.rpc import ClusterRpcProxy

    vhost = f"soesmart-bench-{uuid.uuid4().hex[:8]}"
    _management("PUT", f"/api/vhosts/{quote(vhost, safe='')}")
    _management("PUT", f"/api/permissions/{quote(vhost, safe='')}/guest",
                {"configure": ".*", "write": ".*", "read": ".*"})
    broker = f"amqp://guest:guest@127.0.0.1:5672/{quote(vhost, safe='')}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOESMART_")}
    env.update(SOESMART_BROKER_URL=broker, SOESMART_DATABASE_URL=database_url,
               SOESMART_DATA_DIR=str(data_dir), SOESMART_DEMO="false", PYTHONUNBUFFERED="1")
    log = open(data_dir / "measures.log", "wb")  # noqa: SIM115 - closed in finally
    proc = subprocess.Popen([sys.executable, "-m", "launcher.service_main", "measures"], env=env,
                            stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    try:
        with ClusterRpcProxy({"AMQP_URI": broker, "serializer": "json"}, timeout=30) as cluster:
            deadline = time.monotonic() + 60
            while True:
                try:
                    cluster.measures.ping()
                    break
                except Exception:  # noqa: BLE001 - not up yet
                    if time.monotonic() > deadline or proc.poll() is not None:
                        raise RuntimeError("measures service did not start") from None
                    time.sleep(0.3)
            m = cluster.measures
            return time_calls({
                "regional_results": m.regional_results,
                "regional_results_json": m.regional_results_json,
                "top_measures": lambda: m.top_measures(limit=10, min_answers=100),
                "compare_towns": lambda: m.compare_towns(code="VEP-RAD-02"),
                "disagreements": lambda: m.disagreements(limit=10, min_answers=100),
                "participation_per_day": m.participation_per_day,
                "results_csv": m.results_csv,
            }, repeat)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        _management("DELETE", f"/api/vhosts/{quote(vhost, safe='')}")


# ---------------------------------------------------------------------------- main
def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", help="default: a SQLite file in a temporary directory")
    parser.add_argument("--ratings", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=200, help="calls per query")
    parser.add_argument("--no-rpc", action="store_true", help="time the handlers only")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="soesmart-bench-") as tmp:
        data_dir = Path(tmp)
        url = normalise_url(args.database_url or f"sqlite:///{data_dir / 'measures.db'}")
        settings = Settings(database_url=url, data_dir=data_dir, demo=True,
                            broker_url="amqp://guest:guest@127.0.0.1:5672/")
        app = MeasuresApp(settings)  # migrates and loads the demo catalogue (320 measures)
        with app.engine.connect() as conn:
            stored = conn.execute(select(func.count()).select_from(t.rating_projection)).scalar_one()
            bench_rows = conn.execute(select(func.count()).select_from(t.rating_projection).where(
                t.rating_projection.c.rating_id.like("bench-%"))).scalar_one()
        if stored and stored != bench_rows:
            print("That database holds real ratings; use an empty one.", file=sys.stderr)
            return 2
        fill_seconds = 0.0
        if stored < args.ratings:
            if stored:
                app.reset_projection()
            fill_seconds = fill(app, args.ratings)
        with app.engine.connect() as conn:
            stored = conn.execute(select(func.count()).select_from(t.rating_projection)).scalar_one()
            tally_rows = conn.execute(select(func.count()).select_from(t.tallies)).scalar_one()
        report: dict[str, Any] = {
            "database": app.engine.dialect.name, "ratings": stored, "tally_rows": tally_rows,
            "fill_seconds": round(fill_seconds, 1), "repeat": args.repeat,
            "handler_cold_ms": time_calls(handler_calls(app, cold=True), args.repeat),
            "handler_cached_ms": time_calls(handler_calls(app, cold=False), args.repeat),
        }
        app.engine.dispose()
        if not args.no_rpc:
            report["rpc_ms"] = rpc_timings(url, data_dir, args.repeat)

    if args.json:
        print(json.dumps(report, indent=1))
        return 0
    print(f"{report['database']}: {report['ratings']:,} ratings, {report['tally_rows']} counter "
          f"rows (filled in {report['fill_seconds']} s), {args.repeat} calls per query")
    titles = {
        "handler_cold_ms": "handler, cold (recomputed from the counters on every call)",
        "handler_cached_ms": "handler, answered from the results cache (no rating in between)",
        "rpc_ms": "over nameko RPC to a running measures service (its cache as deployed)",
    }
    for kind, title in titles.items():
        if kind not in report:
            continue
        print(f"\n{title}, ms")
        print(f"  {'query':<24}{'p50':>8}{'p95':>8}{'p99':>8}")
        for name, p in report[kind].items():
            print(f"  {name:<24}{p['p50']:>8}{p['p95']:>8}{p['p99']:>8}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
