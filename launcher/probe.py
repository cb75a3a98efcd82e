"""Liveness and readiness of one service process, for orchestrators' exec probes.

    python -m launcher.probe live KIND [--town SLUG]    the runner's heartbeat is fresh
    python -m launcher.probe ready KIND [--town SLUG]   that, and broker and database answer

Every runner (launcher/service_main.py) refreshes a heartbeat file from a green
thread of its eventlet hub. A process whose hub is blocked (a call that never
yields, a stopped process) stops refreshing it, so `live` fails once the file is
older than --max-age; a process that stopped removes it. `ready` adds what the
service needs to do its work: the broker accepts a connection and the service's
own database answers a query. Exit 0: yes; exit 1: no, with the reason on stderr.
The town comes from --town or SOESMART_TOWN, like the runner's.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from soesmart.config import ServiceKind, Settings

HEARTBEAT_SECONDS = 5.0
DEFAULT_MAX_AGE = 30.0
KINDS: tuple[ServiceKind, ...] = ("measures", "notifications", "participation", "gateway")


def heartbeat_path(settings: Settings, kind: ServiceKind) -> Path:
    """One file per instance, so several processes can share a data directory (`soesmart up`)."""
    return settings.data_dir / "health" / f"{settings.instance_name(kind)}.heartbeat"


def beat(path: Path) -> None:
    """Write the heartbeat: the pid and the time, replacing the file in one step."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        f.write(f"{os.getpid()} {time.time():.3f}\n")
    os.replace(tmp, path)


def keep_beating(path: Path, interval: float = HEARTBEAT_SECONDS) -> None:
    """The body of the runner's heartbeat green thread (never returns)."""
    import eventlet

    while True:
        beat(path)
        eventlet.sleep(interval)


def check_alive(path: Path, max_age: float) -> str | None:
    """None when the heartbeat is fresh, else why not."""
    try:
        age = time.time() - path.stat().st_mtime
    except FileNotFoundError:
        return f"no heartbeat at {path} (not started, or stopped)"
    if age > max_age:
        return f"heartbeat {path} is {age:.0f} s old (more than {max_age:.0f} s): the process hangs"
    return None


def check_broker(url: str, timeout: float) -> str | None:
    from kombu import Connection

    try:
        with Connection(url, connect_timeout=timeout) as conn:
            conn.ensure_connection(max_retries=1)
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
        return f"broker does not answer: {exc}"
    return None


def check_database(url: str, timeout: float) -> str | None:
    # Not soesmart.storage.make_engine: it brings alembic along, and this runs every
    # probe period; the driver is the one the services use (pg8000 for PostgreSQL).
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.pool import NullPool

    parsed = make_url(url)
    connect_args: dict[str, object] = {}
    if parsed.get_backend_name() == "sqlite":
        # Connecting would create an empty file; the service makes it at start-up.
        if parsed.database and not Path(parsed.database).exists():
            return f"database {parsed.database} does not exist"
    elif parsed.get_backend_name() == "postgresql":
        parsed = parsed.set(drivername="postgresql+pg8000")
        connect_args = {"timeout": timeout}
    engine = create_engine(parsed, poolclass=NullPool, connect_args=connect_args)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
        return f"database does not answer: {type(exc).__name__}: {exc}"
    finally:
        engine.dispose()
    return None


def probe(check: str, kind: ServiceKind, settings: Settings, max_age: float, timeout: float) -> list[str]:
    """The reasons the process is not alive (or not ready); empty: it is."""
    problems = [p for p in [check_alive(heartbeat_path(settings, kind), max_age)] if p]
    if check == "ready" and not problems:
        problems += [p for p in [check_broker(settings.broker_url, timeout),
                                 check_database(settings.database_url_for(kind), timeout)] if p]
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="soesmart probe", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("check", choices=["live", "ready"])
    parser.add_argument("kind", choices=KINDS)
    parser.add_argument("--town", help="town slug (participation only; default SOESMART_TOWN)")
    parser.add_argument("--max-age", type=float, default=DEFAULT_MAX_AGE,
                        help="seconds a heartbeat may be old (default %(default)s)")
    parser.add_argument("--timeout", type=float, default=5.0,
                        help="seconds for the broker and the database to answer")
    args = parser.parse_args(argv)
    settings = Settings(**({"town": args.town} if args.town else {}))
    try:
        problems = probe(args.check, args.kind, settings, args.max_age, args.timeout)
    except ValueError as exc:  # e.g. no town for a participation instance
        problems = [str(exc)]
    for problem in problems:
        print(f"{args.kind}: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
