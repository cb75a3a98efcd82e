"""The catalogue in the database: measures and their status history."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql import insert

from services.measures.adapters import tables as t

Row = Mapping[Any, Any]  # a stored row, column name -> value

# The catalogue fields of a measure as stored; an import compares exactly these.
CATALOGUE_COLUMNS = (
    "title", "summary", "description", "programme", "field_of_action", "towns",
    "co2_saving_t_per_year", "cost_class", "responsible_body", "place", "geometry",
)


def town_list(stored: str | None) -> tuple[str, ...]:
    """The towns of a measure as stored (a comma list; empty means the whole region)."""
    return tuple(x for x in (stored or "").split(",") if x)


@dataclass(frozen=True)
class ListedMeasure:
    """A measure as the catalogue listing shows it."""

    code: str
    title: str
    summary: str
    programme: str
    field_of_action: str
    status: str
    towns: tuple[str, ...]
    revision: int


class CatalogueRepository:
    """Reads and writes the catalogue inside one unit of work.

    Rows are read as mappings of the stored columns (`towns` as the stored comma
    list); values to write use the same column names.
    """

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def listing(self, programme: str | None = None, field_of_action: str | None = None,
                status: str | None = None) -> list[ListedMeasure]:
        """The measures with these exact values (None: any), in code order."""
        m = t.measures
        query = select(m.c.code, m.c.title, m.c.summary, m.c.programme, m.c.field_of_action,
                       m.c.status, m.c.towns, m.c.revision).order_by(m.c.code)
        for column, value in ((m.c.programme, programme), (m.c.field_of_action, field_of_action),
                              (m.c.status, status)):
            if value is not None:
                query = query.where(column == value)
        return [
            ListedMeasure(code=r.code, title=r.title, summary=r.summary, programme=r.programme,
                          field_of_action=r.field_of_action, status=r.status,
                          towns=town_list(r.towns), revision=r.revision)
            for r in self.conn.execute(query)
        ]

    def codes(self) -> set[str]:
        return set(self.conn.execute(select(t.measures.c.code)).scalars())

    def exists(self, code: str) -> bool:
        return self.conn.execute(select(t.measures.c.code).where(t.measures.c.code == code)).first() \
            is not None

    def all(self) -> list[Row]:
        """Every measure, in code order."""
        return list(self.conn.execute(select(t.measures).order_by(t.measures.c.code)).mappings())

    def get(self, code: str, for_update: bool = False) -> Row | None:
        query = select(t.measures).where(t.measures.c.code == code)
        if for_update:
            query = query.with_for_update()
        return self.conn.execute(query).mappings().first()

    def history(self, code: str) -> list[Row]:
        h = t.status_history
        return list(self.conn.execute(
            select(h).where(h.c.measure_code == code).order_by(h.c.changed_at, h.c.id)).mappings())

    def add(self, code: str, status: str, values: Mapping[str, Any], who: str, note: str,
            progress: int | None, now: datetime) -> None:
        """A new measure at revision 1, with its first status entry."""
        self.conn.execute(insert(t.measures).values(
            code=code, status=status, revision=1, created_at=now, updated_at=now, **values))
        self.add_history(code, status, note, progress, who, now)

    def add_if_absent(self, code: str, status: str, values: Mapping[str, Any], who: str,
                      note: str, progress: int | None, now: datetime) -> bool:
        """`add`, unless a concurrent transaction added the code first (then False)."""
        try:
            with self.conn.begin_nested():
                self.add(code, status, values, who, note, progress, now)
        except IntegrityError:
            return False
        return True

    def revise(self, code: str, revision: int, values: Mapping[str, Any], now: datetime) -> None:
        """New catalogue values (and revision) of a measure; its status stays."""
        self.conn.execute(update(t.measures).where(t.measures.c.code == code).values(
            revision=revision, updated_at=now, **values))

    def set_status(self, code: str, status: str, revision: int, now: datetime) -> None:
        self.conn.execute(update(t.measures).where(t.measures.c.code == code).values(
            status=status, revision=revision, updated_at=now))

    def add_history(self, code: str, status: str, note: str, progress: int | None, who: str,
                    now: datetime) -> None:
        self.conn.execute(insert(t.status_history).values(
            measure_code=code, status=status, note=note, progress=progress, changed_by=who,
            changed_at=now))
