"""The combined results in the database: the last version of every rating and the counters."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from sqlalchemy import Connection, Table, and_, bindparam, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from services.measures.adapters import tables as t


class ProjectionRepository:
    """Ratings as projected, tallies per (measure, town) and participation per (town, day)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def stored_rating(self, rating_id: str) -> Mapping[Any, Any] | None:
        """The version of a rating counted so far, locked for this transaction."""
        rp = t.rating_projection
        return self.conn.execute(
            select(rp).where(rp.c.rating_id == rating_id).with_for_update()
        ).mappings().first()

    def add_rating(self, values: Mapping[str, Any]) -> None:
        self.conn.execute(insert(t.rating_projection).values(**values))

    def known_ratings(self, rating_ids: Sequence[str]) -> set[str]:
        """Which of these ratings are projected already."""
        rp, known = t.rating_projection, set[str]()
        for i in range(0, len(rating_ids), 500):
            known.update(self.conn.execute(
                select(rp.c.rating_id).where(rp.c.rating_id.in_(rating_ids[i:i + 500]))).scalars())
        return known

    def add_ratings(self, rows: Sequence[Mapping[str, Any]]) -> None:
        self.conn.execute(insert(t.rating_projection), list(rows))

    def update_rating(self, rating_id: str, values: Mapping[str, Any]) -> None:
        rp = t.rating_projection
        self.conn.execute(update(rp).where(rp.c.rating_id == rating_id).values(**values))

    def move_tally(self, measure_code: str, town: str, increments: dict[str, int]) -> None:
        self._increment(t.tallies, {"measure_code": measure_code, "town": town}, increments)

    def count_day(self, town: str, day: date, increments: dict[str, int]) -> None:
        """Add to the participation counters of a town's day (`ratings`, `citizens`, ...)."""
        self._increment(t.daily_participation, {"town": town, "day": day}, increments)

    def move_tallies(self, moves: Mapping[tuple[str, str], Mapping[str, int]]) -> None:
        """`move_tally` for many (measure, town) at once: a few statements in all."""
        self._increment_many(t.tallies, ("measure_code", "town"), moves)

    def count_days(self, counts: Mapping[tuple[str, date], Mapping[str, int]]) -> None:
        """`count_day` for many (town, day) at once."""
        self._increment_many(t.daily_participation, ("town", "day"), counts)

    def _increment_many(self, table: Table, keys: tuple[str, str],
                        items: Mapping[tuple[Any, Any], Mapping[str, int]]) -> None:
        """Add to the counters of many rows: one insert for the new rows, one update
        (executed for each existing row) for the others. A row created concurrently
        fails the insert and so the transaction, which its consumer retries."""
        if not items:
            return
        counters = [c.name for c in table.columns if c.name not in keys]
        known = {tuple(r) for r in self.conn.execute(
            select(table.c[keys[0]], table.c[keys[1]])
            .where(table.c.town.in_(sorted({str(dict(zip(keys, k, strict=True))["town"])
                                            for k in items}))))}
        new = [{**dict(zip(keys, k, strict=True)), **{c: inc.get(c, 0) for c in counters}}
               for k, inc in items.items() if k not in known]
        old = [{"k0": k[0], "k1": k[1], **{f"d_{c}": inc.get(c, 0) for c in counters}}
               for k, inc in items.items() if k in known]
        if new:
            self.conn.execute(insert(table), new)
        if old:
            self.conn.execute(
                update(table).where(table.c[keys[0]] == bindparam("k0"), table.c[keys[1]] == bindparam("k1"))
                .values({c: table.c[c] + bindparam(f"d_{c}") for c in counters}), old)

    def _increment(self, table: Table, key: dict[str, Any], increments: dict[str, int]) -> None:
        """Add to counters of one row, creating it (all counters 0) if it is not there yet."""
        if not increments:
            return
        where = and_(*(table.c[name] == value for name, value in key.items()))
        values = {name: table.c[name] + delta for name, delta in increments.items()}
        result = self.conn.execute(update(table).where(where).values(**values))
        if result.rowcount:
            return
        zero = {c.name: 0 for c in table.columns if c.name not in key}
        try:
            with self.conn.begin_nested():
                self.conn.execute(insert(table).values(**key, **zero))
        except IntegrityError:
            pass  # created concurrently; the update below applies to it
        self.conn.execute(update(table).where(where).values(**values))

    def forget(self, town: str | None) -> None:
        """Drop the projected ratings, tallies and per-day rating counts (of one town, or all).

        Per-day counts of citizens, comments and ideas stay: only events bring them.
        """
        dp = t.daily_participation
        for table in (t.rating_projection, t.tallies):
            stmt = delete(table)
            if town is not None:
                stmt = stmt.where(table.c.town == town)
            self.conn.execute(stmt)
        where = [dp.c.town == town] if town is not None else []
        self.conn.execute(update(dp).where(*where).values(ratings=0))
        self.conn.execute(
            delete(dp).where(*where, *(dp.c[n] == 0 for n in t.PARTICIPATION_COUNTERS)))
