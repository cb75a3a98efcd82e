"""Rules of the catalogue listing: which measures a filtered listing shows. No framework imports."""

from __future__ import annotations

from collections.abc import Sequence


def listed_for(town: str | None, towns: Sequence[str]) -> bool:
    """A measure naming no town is for the whole region, so every town lists it."""
    return town is None or not towns or town in towns


def found_by(text: str | None, code: str, title: str) -> bool:
    """The search text occurs in the code or the title, regardless of case."""
    if not text:
        return True
    needle = text.casefold()
    return needle in code.casefold() or needle in title.casefold()
