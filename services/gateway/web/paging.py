"""Pagination of list endpoints: `?page=&per_page=` in, `{"items", "page", "per_page", "total"}` out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from services.gateway.web.errors import ApiError

DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 500


@dataclass(frozen=True)
class PageRequest:
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


def page_request(args: Mapping[str, str], default_per_page: int = DEFAULT_PER_PAGE,
                 max_per_page: int = MAX_PER_PAGE) -> PageRequest:
    """Read `page` (from 1) and `per_page` (1..max); a refusal names each bad parameter."""
    values: dict[str, int] = {}
    problems = []
    for name, default, upper in (("page", 1, 10**6), ("per_page", default_per_page, max_per_page)):
        raw = args.get(name)
        if raw in (None, ""):
            values[name] = default
            continue
        try:
            number = int(str(raw))
        except ValueError:
            number = 0
        if not 1 <= number <= upper:
            problems.append({"field": name, "problem": f"must be a whole number from 1 to {upper}"})
        values[name] = number
    if problems:
        raise ApiError("VALIDATION_FAILED", "Die Angaben zur Seite sind ungültig.", problems)
    return PageRequest(page=values["page"], per_page=values["per_page"])


def paginate(items: Sequence[Any], request: PageRequest) -> dict[str, Any]:
    """One page of `items`; a page after the last is empty, not an error."""
    chunk = list(items[request.offset:request.offset + request.per_page])
    return {"items": chunk, "page": request.page, "per_page": request.per_page,
            "total": len(items)}


def page_count(total: int, per_page: int) -> int:
    return max(1, -(-total // per_page))
