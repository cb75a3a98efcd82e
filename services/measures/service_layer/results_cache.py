"""The results cache: an answer to a results query, computed again only after a change."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

RESULTS_CACHE_SECONDS = 2.0
R = TypeVar("R")


class ResultsCache:
    """Coordinators' pages and exports ask the same questions again and again.

    An answer stays valid until this process applies a rating (`changed()` moves
    the generation) and at most RESULTS_CACHE_SECONDS, for changes made by another
    process such as `soesmart rebuild-results`.
    """

    def __init__(self, seconds: float = RESULTS_CACHE_SECONDS) -> None:
        self.seconds = seconds
        self.generation = 0
        self._answers: dict[tuple[Any, ...], tuple[float, int, Any]] = {}

    def changed(self) -> None:
        self.generation += 1

    def get(self, key: tuple[Any, ...], compute: Callable[[], R]) -> R:
        now = time.monotonic()
        hit = self._answers.get(key)
        if hit is not None and hit[1] == self.generation and now - hit[0] < self.seconds:
            return hit[2]  # type: ignore[no-any-return]
        generation = self.generation
        value = compute()
        self._answers[key] = (now, generation, value)
        return value
