"""Reading the combined results: titles, counters per (measure, town), participation per day."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import Connection, select

from services.measures.adapters import tables as t

# Every query reads the per-(measure, town) counters, never the ratings: a few
# thousand rows at most, however many ratings there are.


class ResultsQueries:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def titles(self, code: str | None = None) -> dict[str, str]:
        """Title by code (of every measure, or of one)."""
        query = select(t.measures.c.code, t.measures.c.title)
        if code is not None:
            query = query.where(t.measures.c.code == code)
        return {c: title for c, title in self.conn.execute(query)}

    def tallies(self, code: str | None = None) -> list[Mapping[Any, Any]]:
        """The counters of every (measure, town), or of one measure's towns."""
        query = select(t.tallies)
        if code is not None:
            query = query.where(t.tallies.c.measure_code == code)
        return list(self.conn.execute(query).mappings())

    def participation_days(self, since: date | None, town: str | None) -> list[Mapping[Any, Any]]:
        """Participation counters per (day, town), oldest day first."""
        dp = t.daily_participation
        query = select(dp).order_by(dp.c.day, dp.c.town)
        if since is not None:
            query = query.where(dp.c.day >= since)
        if town is not None:
            query = query.where(dp.c.town == town)
        return list(self.conn.execute(query).mappings())
