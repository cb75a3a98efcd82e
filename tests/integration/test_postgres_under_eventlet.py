"""PostgreSQL must not block the eventlet hub: a slow query may not stall other workers."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from tests.support.infra import POSTGRES_URL

SCRIPT = textwrap.dedent(
    """
    import eventlet
    eventlet.monkey_patch()
    import sys
    from sqlalchemy import text
    from soesmart.storage import make_engine

    engine = make_engine(sys.argv[1])
    order = []

    def slow():
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_sleep(1.5)"))
        order.append("slow")

    def quick():
        eventlet.sleep(0.2)  # start while the slow query is running
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        order.append("quick")

    pool = eventlet.GreenPool()
    pool.spawn(slow)
    pool.spawn(quick)
    pool.waitall()
    print(",".join(order))
    """
)


def test_a_quick_query_finishes_while_a_slow_one_is_still_running() -> None:
    # With a driver that blocks the hub (psycopg2 unpatched) the order would be slow,quick.
    out = subprocess.run([sys.executable, "-W", "ignore", "-c", SCRIPT, POSTGRES_URL],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "quick,slow"
