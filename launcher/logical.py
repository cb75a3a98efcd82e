"""A logical copy of a PostgreSQL database, for when no pg_dump of the server's version is at hand.

Written on the caller's REPEATABLE READ transaction (one snapshot): one gzip'd JSON
line per row, `{"table": ..., "row": {...}}`. Loaded into an empty database by
creating the schema with the service's own migrations up to the revision of the
backup, inserting the rows parents first, and moving every sequence past its rows.
"""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, MetaData, Table, insert, select, text
from sqlalchemy.types import Date, DateTime, LargeBinary, Numeric

BATCH = 1000


def plain_value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    return value


def dump(conn: Connection, path: Path) -> Path:
    metadata = MetaData()
    metadata.reflect(conn)
    with gzip.open(path, "wt", encoding="utf-8") as out:
        for table in metadata.sorted_tables:
            for row in conn.execute(select(table)).mappings():
                record = {"table": table.name, "row": {k: plain_value(v) for k, v in row.items()}}
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
    return path


def typed_row(table: Table, row: dict[str, Any]) -> dict[str, Any]:
    typed = {}
    for name, value in row.items():
        column_type = table.c[name].type
        if value is not None and isinstance(column_type, DateTime):
            value = datetime.fromisoformat(value)
        elif value is not None and isinstance(column_type, Date):
            value = date.fromisoformat(value)
        elif value is not None and isinstance(column_type, LargeBinary):
            value = base64.b64decode(value)
        elif value is not None and isinstance(column_type, Numeric) and isinstance(value, str):
            value = Decimal(value)
        typed[name] = value
    return typed


def _records(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    opened = gzip.open(path, "rt", encoding="utf-8") if path.suffix == ".gz" else path.open(
        encoding="utf-8")
    with opened as f:
        for line in f:
            record = json.loads(line)
            yield record["table"], record["row"]


def load(engine: Engine, path: Path, migrations: Path, revision: str | None) -> None:
    """Fill an empty database from a logical copy made at `revision` of `migrations`.

    (Also the way the upgrade test puts a previous release's data into its schema.)
    """
    from soesmart.storage import migrate

    if revision is not None:
        migrate(engine, migrations, revision)
    with engine.begin() as conn:
        metadata = MetaData()
        metadata.reflect(conn)
        pending: dict[str, list[dict[str, Any]]] = {}

        def flush(name: str) -> None:
            if pending.get(name):
                conn.execute(insert(metadata.tables[name]), pending.pop(name))

        current = ""
        for name, row in _records(path):  # parents first, as written
            if name == "alembic_version":
                continue  # written by the migrations above
            if name != current:
                flush(current)
                current = name
            pending.setdefault(name, []).append(typed_row(metadata.tables[name], row))
            if len(pending[name]) >= BATCH:
                flush(name)
        flush(current)
        if conn.dialect.name != "postgresql":
            return  # SQLite takes the next id after the largest by itself
        for table in metadata.sorted_tables:
            for column in table.primary_key.columns:
                if column.autoincrement is True or (
                        column.autoincrement == "auto" and column.type.python_type is int
                        and len(table.primary_key.columns) == 1):
                    conn.execute(text(
                        f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', '{column.name}'), "
                        f"COALESCE((SELECT MAX(\"{column.name}\") FROM \"{table.name}\"), 0) + 1, false) "
                        f"WHERE pg_get_serial_sequence('\"{table.name}\"', '{column.name}') IS NOT NULL"))
