"""Writing and reading many rows in few statements."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Table, insert


def chunks(values: Sequence[Any], size: int) -> list[Sequence[Any]]:
    return [values[i:i + size] for i in range(0, len(values), size)]


def insert_rows(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert many rows with the same keys, in few statements.

    pg8000 runs a plain executemany as one statement per row, one round trip each
    (8 s for the items of a 20,000-address fan-out). With RETURNING, SQLAlchemy
    sends pages of 1,000 rows as one statement ("insertmanyvalues", compiled once;
    a multi-row `.values()` is compiled anew each time). SQLite runs in-process and
    takes the executemany as it is.
    """
    if not rows:
        return
    for chunk in chunks(rows, 2000):
        if conn.dialect.name == "sqlite":
            conn.execute(insert(table), list(chunk))
        else:
            conn.execute(insert(table).returning(*table.primary_key.columns), list(chunk)).all()
