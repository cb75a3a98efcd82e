"""The catalogue in the database: measures and their status history."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, select

from services.measures.adapters import tables as t


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
    """Reads and writes the catalogue inside one unit of work."""

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
