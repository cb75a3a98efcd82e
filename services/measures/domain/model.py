"""The regional catalogue's rules and the arithmetic of combined results. No framework imports."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

# The vocabulary as plain values (the wire contracts' enums are str enums of these).
SUPPORT_COLUMNS = {
    "yes": "sup_yes",
    "rather_yes": "sup_rather_yes",
    "rather_no": "sup_rather_no",
    "no": "sup_no",
}

IDEA, PROPOSED, IN_CONSULTATION, DECIDED = "idea", "proposed", "in_consultation", "decided"
IN_IMPLEMENTATION, IMPLEMENTED, REJECTED = "in_implementation", "implemented", "rejected"

# Where a measure may go from each status. A coordinator may also correct a
# mistake by going back one step; a rejected measure can be proposed again.
ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    IDEA: frozenset({PROPOSED, REJECTED}),
    PROPOSED: frozenset({IN_CONSULTATION, DECIDED, REJECTED, IDEA}),
    IN_CONSULTATION: frozenset({DECIDED, REJECTED, PROPOSED}),
    DECIDED: frozenset({IN_IMPLEMENTATION, REJECTED, IN_CONSULTATION}),
    IN_IMPLEMENTATION: frozenset({IMPLEMENTED, IN_IMPLEMENTATION, DECIDED}),
    IMPLEMENTED: frozenset({IN_IMPLEMENTATION}),
    REJECTED: frozenset({PROPOSED}),
}


class CatalogueError(Exception):
    code = "CATALOGUE_ERROR"


class MeasureNotFound(CatalogueError):
    code = "MEASURE_NOT_FOUND"


class TransitionNotAllowed(CatalogueError):
    code = "STATUS_TRANSITION_NOT_ALLOWED"


class ImportRefused(CatalogueError):
    """A catalogue file with problems; nothing of it was applied."""

    code = "CATALOGUE_IMPORT_INVALID"

    def __init__(self, message: str, problems: list[dict[str, object]]) -> None:
        super().__init__(message)
        self.details = problems


def problem(row: int, column: str, text: str) -> dict[str, object]:
    """One entry of an import report: where (spreadsheet row, column) and what."""
    return {"row": row, "column": column, "problem": text}


def check_transition(current: str, new: str) -> None:
    if new not in ALLOWED_TRANSITIONS[current]:
        raise TransitionNotAllowed(f"Status kann nicht von '{current}' zu '{new}' wechseln.")


@dataclass(frozen=True)
class Answer:
    """One citizen's answer as it counts in the tally."""

    effectiveness: int | None
    support: str | None  # a key of SUPPORT_COLUMNS


@dataclass
class TallyDelta:
    """How one changed answer moves the counters of a (measure, town) tally."""

    answers: int = 0
    eff_count: int = 0
    eff_sum: int = 0
    columns: dict[str, int] = field(default_factory=dict)

    def as_increments(self) -> dict[str, int]:
        out = {"answers": self.answers, "eff_count": self.eff_count, "eff_sum": self.eff_sum}
        out.update(self.columns)
        return {k: v for k, v in out.items() if v}


def _contribution(answer: Answer | None, sign: int, delta: TallyDelta) -> None:
    if answer is None:
        return
    delta.answers += sign
    if answer.effectiveness is not None:
        delta.eff_count += sign
        delta.eff_sum += sign * answer.effectiveness
        col = f"eff_{answer.effectiveness}"
        delta.columns[col] = delta.columns.get(col, 0) + sign
    if answer.support is not None:
        col = SUPPORT_COLUMNS[answer.support]
        delta.columns[col] = delta.columns.get(col, 0) + sign


def tally_delta(old: Answer | None, new: Answer | None) -> TallyDelta:
    """The change of the counters when `old` is replaced by `new` (either may be None)."""
    delta = TallyDelta()
    _contribution(old, -1, delta)
    _contribution(new, +1, delta)
    return delta


def is_newer(stored_version: int | None, incoming_version: int) -> bool:
    """Only a higher version moves the tally: repeats and late arrivals change nothing."""
    return stored_version is None or incoming_version > stored_version


# The towns are in Germany: a day of participation is a day on their clocks.
LOCAL_TIME = ZoneInfo("Europe/Berlin")


def local_day(moment: datetime) -> date:
    if moment.tzinfo is None:  # SQLite hands back stored UTC times without their zone
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(LOCAL_TIME).date()


@dataclass(frozen=True)
class DayMove:
    """How a rating's place in the per-day counts changes: -1 on `leave`, +1 on `enter`."""

    leave: date | None
    enter: date | None


def day_move(stored_day: date | None, stored_version: int | None, stored: bool,
             day: date, version: int) -> DayMove:
    """Where a rating is counted per day when a version of it arrives.

    A rating counts once, on the day of its first version. Events can arrive out of
    order, so the projection remembers which version its day came from and moves the
    count when an earlier version turns up. (A rating projected before days were
    kept has no day yet: it is counted now, on the day at hand.)
    """
    if not stored:
        return DayMove(None, day)
    if stored_day is None:
        return DayMove(None, day)
    if stored_version is not None and version < stored_version and day != stored_day:
        return DayMove(stored_day, day)
    return DayMove(None, None)


# ---------------------------------------------------------------------- coordinator figures
def support_share(counters: dict[str, int]) -> tuple[int, float | None]:
    """(support answers, share of yes + rather yes among them)."""
    answers = sum(counters[c] for c in SUPPORT_COLUMNS.values())
    if not answers:
        return 0, None
    return answers, (counters["sup_yes"] + counters["sup_rather_yes"]) / answers


def effectiveness_mean(counters: dict[str, int]) -> float | None:
    return counters["eff_sum"] / counters["eff_count"] if counters["eff_count"] else None


def spread(values: list[float | None]) -> float | None:
    """max - min of the known values; None with fewer than two."""
    known = [v for v in values if v is not None]
    return max(known) - min(known) if len(known) >= 2 else None


# ---------------------------------------------------------------------- accepted ideas
SUMMARY_LENGTH = 300
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def summary_of(description: str, limit: int = SUMMARY_LENGTH) -> str:
    """The first sentence(s) of a text, at most `limit` characters.

    Whole sentences while they fit; a first sentence that is too long alone is cut
    at a word and ends with "…".
    """
    text = " ".join(description.split())
    summary = ""
    for sentence in _SENTENCE_END.split(text):
        candidate = f"{summary} {sentence}".strip()
        if len(candidate) > limit:
            break
        summary = candidate
    if summary or not text:
        return summary
    cut = text[: limit - 1].rsplit(" ", 1)[0] if " " in text[: limit - 1] else text[: limit - 1]
    return cut.rstrip(",;:-– ") + "…"
