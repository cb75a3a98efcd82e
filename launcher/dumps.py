"""How one instance's database is copied to a file and back: SQLite and PostgreSQL.

SQLite: the sqlite3 online backup API, page by page into a new file; the copy is
one consistent state even while the service writes (WAL), and restoring runs the
same API the other way round. PostgreSQL: `pg_dump --format=custom` from the PATH
on a snapshot that this process exports from one REPEATABLE READ transaction, in
which it also reads the schema revision and counts the rows, so the manifest and
the dump describe the same moment. When no pg_dump of the server's major version
is found (pg_dump refuses newer servers; an older server would get a dump it may
not read), the same transaction writes a logical copy instead (`logical.py`).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, MetaData, func, inspect, select, text
from sqlalchemy.engine import make_url

from launcher import logical
from soesmart.storage import make_engine


class BackupRefused(RuntimeError):
    """A backup or restore that cannot go ahead; the message names the problem."""


@dataclass(frozen=True)
class Snapshot:
    """What a backup of one instance found: its schema revision and rows per table."""

    method: str  # "sqlite-backup", "pg_dump" or "logical"
    file: str
    revision: str | None
    rows: dict[str, int]


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def database_kind(url: str) -> str:
    return "sqlite" if make_url(url).get_backend_name() == "sqlite" else "postgresql"


def count_rows(conn: Connection) -> tuple[str | None, dict[str, int]]:
    """The alembic revision and the rows of every table, read on `conn`'s transaction."""
    metadata = MetaData()
    metadata.reflect(conn)
    rows = {name: int(conn.execute(select(func.count()).select_from(table)).scalar_one())
            for name, table in sorted(metadata.tables.items())}
    revision = None
    if "alembic_version" in metadata.tables:
        revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    return revision, rows


def sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupRefused(f"{url} is not a database file")
    return Path(database)


# ---------------------------------------------------------------------------------- SQLite

def backup_sqlite(url: str, target: Path) -> Snapshot:
    source = sqlite_path(url)
    if not source.exists():
        raise BackupRefused(f"there is no database at {source} (run `soesmart migrate` first?)")
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()
    engine = make_engine(f"sqlite:///{target}")
    try:
        with engine.connect() as conn:
            revision, rows = count_rows(conn)
    finally:
        engine.dispose()
    # The copy is a complete database file on its own (no -wal beside it).
    with sqlite3.connect(target) as db:
        db.execute("PRAGMA journal_mode=DELETE")
    db.close()
    return Snapshot("sqlite-backup", target.name, revision, rows)


def restore_sqlite(backup: Path, url: str) -> None:
    target = sqlite_path(url)
    target.parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(f"file:{backup}?mode=ro", uri=True)
    dst = sqlite3.connect(target, timeout=30)
    try:
        src.backup(dst)  # replaces every page of the target in one step
        dst.execute("PRAGMA journal_mode=WAL")
    finally:
        src.close()
        dst.close()


# ------------------------------------------------------------------------------ PostgreSQL

def libpq_environment(url: str) -> tuple[list[str], dict[str, str]]:
    """Connection arguments for pg_dump/pg_restore, the password in the environment only."""
    parsed = make_url(url)
    args = ["--host", parsed.host or "127.0.0.1", "--port", str(parsed.port or 5432),
            "--username", parsed.username or "postgres", "--dbname", parsed.database or ""]
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    return args, env


def usable_pg_dump(server_version: int) -> str | None:
    """pg_dump from the PATH if its major version is the server's, else None."""
    if os.environ.get("SOESMART_BACKUP_LOGICAL", "").lower() in ("1", "true", "yes"):
        return None
    found = shutil.which("pg_dump")
    if found is None:
        return None
    out = subprocess.run([found, "--version"], capture_output=True, text=True, check=False).stdout
    match = re.search(r"(\d+)(?:\.\d+)?", out)
    return found if match and int(match.group(1)) == server_version // 10000 else None


def backup_postgres(url: str, target_dir: Path, name: str) -> Snapshot:
    engine = make_engine(url, pool_size=1, max_overflow=0)
    try:
        with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn:
            with conn.begin():
                conn.execute(text("SET TRANSACTION READ ONLY"))
                server = int(conn.execute(text("SHOW server_version_num")).scalar_one())
                revision, rows = count_rows(conn)
                pg_dump = usable_pg_dump(server)
                if pg_dump is None:
                    file = logical.dump(conn, target_dir / f"{name}.jsonl.gz")
                    return Snapshot("logical", file.name, revision, rows)
                snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
                file = target_dir / f"{name}.dump"
                args, env = libpq_environment(url)
                done = subprocess.run(
                    [pg_dump, *args, "--format=custom", "--no-owner", "--no-privileges",
                     f"--snapshot={snapshot}", "--file", str(file)],
                    env=env, capture_output=True, text=True, check=False)
                if done.returncode != 0:
                    raise BackupRefused(f"pg_dump of {name} failed: {done.stderr.strip()}")
                return Snapshot("pg_dump", file.name, revision, rows)
    finally:
        engine.dispose()


def drop_everything(engine: Engine) -> None:
    """Empty the database of one instance (its tables and their sequences)."""
    metadata = MetaData()
    with engine.begin() as conn:
        metadata.reflect(conn)
        metadata.drop_all(conn)
        for sequence in inspect(conn).get_sequence_names():
            conn.execute(text(f'DROP SEQUENCE IF EXISTS "{sequence}" CASCADE'))


def restore_postgres(backup: Path, method: str, url: str, migrations: Path,
                     revision: str | None) -> None:
    engine = make_engine(url, pool_size=1, max_overflow=0)
    try:
        drop_everything(engine)
        if method == "logical":
            logical.load(engine, backup, migrations, revision)
            return
        pg_restore = shutil.which("pg_restore")
        if pg_restore is None:
            raise BackupRefused("pg_restore is not on the PATH")
        args, env = libpq_environment(url)
        done = subprocess.run(
            [pg_restore, *args, "--no-owner", "--no-privileges", "--single-transaction",
             "--exit-on-error", str(backup)], env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise BackupRefused(f"pg_restore into {make_url(url).database} failed: "
                                f"{done.stderr.strip()}")
    finally:
        engine.dispose()


def current_rows(url: str) -> dict[str, Any]:
    engine = make_engine(url, pool_size=1, max_overflow=0)
    try:
        with engine.connect() as conn:
            revision, rows = count_rows(conn)
    finally:
        engine.dispose()
    return {"revision": revision, "rows": rows}
