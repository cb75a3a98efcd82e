"""The catalogue as the measures service lists it: filtered and paged there (`list_catalogue`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from services.gateway.web.backend import Backend
from services.gateway.web.paging import PageRequest

CATALOGUE_FILTERS = ("programme", "field_of_action", "status", "town", "q")
WHOLE = 500  # the most measures the service hands out at once


def catalogue_listing(backend: Backend, filters: Mapping[str, str | None],
                   paging: PageRequest) -> dict[str, Any]:
    """One page of the matching measures as `{"items", "page", "per_page", "total"}`."""
    listed = backend.call("measures", "list_catalogue",
                          query={**filters, "limit": paging.per_page, "offset": paging.offset})
    return {"items": list(listed["items"]), "page": paging.page, "per_page": paging.per_page,
            "total": listed["total"]}


def whole_catalogue(backend: Backend, **filters: str | None) -> list[dict[str, Any]]:
    """Every matching measure in code order, fetched page by page."""
    items: list[dict[str, Any]] = []
    while True:
        listed = backend.call("measures", "list_catalogue",
                              query={**filters, "limit": WHOLE, "offset": len(items)})
        items.extend(listed["items"])
        if not listed["items"] or len(items) >= listed["total"]:
            return items
