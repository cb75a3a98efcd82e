"""The regional catalogue and the arithmetic of combined results. No framework imports."""

from __future__ import annotations

from dataclasses import dataclass, field

from soesmart.contracts import MeasureStatus, Support

SUPPORT_COLUMNS = {
    Support.YES: "sup_yes",
    Support.RATHER_YES: "sup_rather_yes",
    Support.RATHER_NO: "sup_rather_no",
    Support.NO: "sup_no",
}

# Where a measure may go from each status. A coordinator may also correct a
# mistake by going back one step; a rejected measure can be proposed again.
ALLOWED_TRANSITIONS: dict[MeasureStatus, frozenset[MeasureStatus]] = {
    MeasureStatus.IDEA: frozenset({MeasureStatus.PROPOSED, MeasureStatus.REJECTED}),
    MeasureStatus.PROPOSED: frozenset(
        {MeasureStatus.IN_CONSULTATION, MeasureStatus.DECIDED, MeasureStatus.REJECTED,
         MeasureStatus.IDEA}
    ),
    MeasureStatus.IN_CONSULTATION: frozenset(
        {MeasureStatus.DECIDED, MeasureStatus.REJECTED, MeasureStatus.PROPOSED}
    ),
    MeasureStatus.DECIDED: frozenset(
        {MeasureStatus.IN_IMPLEMENTATION, MeasureStatus.REJECTED, MeasureStatus.IN_CONSULTATION}
    ),
    MeasureStatus.IN_IMPLEMENTATION: frozenset(
        {MeasureStatus.IMPLEMENTED, MeasureStatus.IN_IMPLEMENTATION, MeasureStatus.DECIDED}
    ),
    MeasureStatus.IMPLEMENTED: frozenset({MeasureStatus.IN_IMPLEMENTATION}),
    MeasureStatus.REJECTED: frozenset({MeasureStatus.PROPOSED}),
}


class CatalogueError(Exception):
    code = "CATALOGUE_ERROR"


class MeasureNotFound(CatalogueError):
    code = "MEASURE_NOT_FOUND"


class TransitionNotAllowed(CatalogueError):
    code = "STATUS_TRANSITION_NOT_ALLOWED"


def check_transition(current: MeasureStatus, new: MeasureStatus) -> None:
    if new not in ALLOWED_TRANSITIONS[current]:
        raise TransitionNotAllowed(
            f"Status kann nicht von '{current.value}' zu '{new.value}' wechseln."
        )


@dataclass(frozen=True)
class Answer:
    """One citizen's answer as it counts in the tally."""

    effectiveness: int | None
    support: Support | None


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
