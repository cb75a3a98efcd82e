"""Filtering the catalogue by programme, field of action, status, town and a search text."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

CATALOGUE_FILTERS = ("programme", "field_of_action", "status", "town", "q")


def filter_measures(measures: Sequence[dict[str, Any]], filters: dict[str, str],
                    towns_of: dict[str, Sequence[str]] | None = None) -> list[dict[str, Any]]:
    """The catalogue filtered by programme, field of action, status, town and a search text."""
    out = []
    q = filters.get("q", "").strip().casefold()
    for m in measures:
        if any(filters.get(k) and m.get(k) != filters[k]
               for k in ("programme", "field_of_action", "status")):
            continue
        if filters.get("town") and towns_of is not None:
            named = towns_of.get(m["code"], ())
            if named and filters["town"] not in named:
                continue
        if q and q not in m["code"].casefold() and q not in m["title"].casefold():
            continue
        out.append(m)
    return out
