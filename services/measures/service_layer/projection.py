"""The projection of the towns' ratings into the combined results, and participation per day.

Live events and a rebuild from the towns' stored ratings go through the same
`apply_rating`: the projection keeps the highest version per rating, so repeated,
late and replayed ratings agree whatever the order.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from services.measures.adapters.projection_repository import ProjectionRepository
from services.measures.adapters.unit_of_work import UnitOfWork
from services.measures.domain.model import Answer, day_move, is_newer, local_day, tally_delta
from soesmart.contracts import (
    CitizenConfirmed,
    CommentPosted,
    ExportedRating,
    IdeaSubmitted,
    ParticipationCounted,
    RatingRecorded,
    RatingsRecorded,
    RecordedRating,
    Support,
)

# Which per-day counter a participation event of a town adds to.
PARTICIPATION_COUNTER: dict[type, str] = {
    CitizenConfirmed: "citizens", CommentPosted: "comments", IdeaSubmitted: "ideas",
}


@dataclass(frozen=True)
class RatingFact:
    """A rating as the projection takes it, from a live event or from a town's export."""

    town: str
    rating_id: str
    measure_code: str
    answer: Answer
    version: int
    day: date  # the day this version is from, as far as known
    day_version: int  # the version `day` belongs to (1 for a stored rating's created_at)
    consultation_id: str | None = None  # the consultation the rating answers
    channel: str = "online"  # or "paper"; a rating keeps the channel of its first version


def record_rating(event: RatingRecorded, uow: UnitOfWork) -> bool:
    """Apply a town's rating event to the combined results; True if it moved the tally.

    Idempotent without recording event ids: the projection keeps the highest
    `version` per `rating_id`, so a repeated or late event changes nothing. (With
    a million ratings, a table of processed ids would only grow and cost a
    second write per event.)
    """
    fact = _fact(event.town, event, event.occurred_at, day_version=event.version)
    with uow:
        moved = apply_rating(uow.projection, fact)
        uow.results_changed()
        uow.commit()
    return moved


def record_ratings(event: RatingsRecorded, uow: UnitOfWork) -> int:
    """Apply a town's batch of ratings in one transaction; returns how many moved a tally.

    Each item counts as its own `RatingRecorded` would (the same batch again moves
    nothing), so the projection stays exactly what the town's ratings say.
    """
    facts = [_fact(event.town, r, r.recorded_at, day_version=r.version) for r in event.ratings]
    with uow:
        moved = apply_ratings(uow.projection, facts)
        uow.results_changed()
        uow.commit()
    return moved


def record_participation_counts(event: ParticipationCounted, uow: UnitOfWork) -> bool:
    """Add a town's per-day counts of new citizens, comments and ideas; once per event id."""
    with uow:
        if not uow.claim(event):
            return False
        uow.projection.count_days({(event.town, d.day): {
            "citizens": d.citizens, "comments": d.comments, "ideas": d.ideas} for d in event.days})
        uow.results_changed()
        uow.commit()
    return True


def record_participation(event: CitizenConfirmed | CommentPosted | IdeaSubmitted,
                         uow: UnitOfWork) -> bool:
    """Count a new citizen, comment or idea for its town and day; False if already counted.

    The day is the Europe/Berlin day of `occurred_at`; the event id is recorded in
    the same transaction, so a redelivered event counts once.
    """
    column = PARTICIPATION_COUNTER[type(event)]
    with uow:
        if not uow.claim(event):
            return False
        uow.projection.count_day(event.town, local_day(event.occurred_at), {column: 1})
        uow.results_changed()
        uow.commit()
    return True


def reset_projection(town: str | None, uow: UnitOfWork) -> None:
    """Forget the combined results (of one town, or all) before replaying them.

    Only what a replay of the towns' ratings brings back is forgotten: the per-day
    counts of new citizens, comments and ideas come from events alone and stay.
    """
    with uow:
        uow.projection.forget(town)
        uow.results_changed()
        uow.commit()


def replay_ratings(town: str, ratings: Iterable[ExportedRating], uow: UnitOfWork) -> int:
    """Apply one page of a town's stored ratings (one transaction); returns how many moved.

    A stored rating is the latest version of an answer; its `created_at` is the
    time of version 1, so it is counted per day on that day, as the live events
    are. Replaying is idempotent like the live projection, and live events that
    arrive meanwhile mix in safely: the higher version wins either way.
    """
    moved = 0
    with uow:
        for r in ratings:
            moved += apply_rating(uow.projection, _fact(town, r, r.created_at, day_version=1))
        uow.results_changed()
        uow.commit()
    return moved


def _fact(town: str, r: RatingRecorded | RecordedRating | ExportedRating, at: datetime,
          day_version: int) -> RatingFact:
    """A rating as the projection takes it: from a live event, an item of a town's batch or
    a town's export (the same field names); `at` is the moment its `day` is taken from."""
    return RatingFact(
        town=town, rating_id=str(r.rating_id), measure_code=r.measure_code,
        answer=_answer(r.effectiveness, r.support), version=r.version,
        day=local_day(at), day_version=day_version,
        consultation_id=str(r.consultation_id), channel=r.channel,
    )


def _answer(effectiveness: int | None, support: Support | None) -> Answer:
    return Answer(effectiveness, support.value if support is not None else None)


def apply_rating(projection: ProjectionRepository, f: RatingFact) -> bool:
    """Move the tally and the per-day count for one rating version; True if the tally moved."""
    stored = projection.stored_rating(f.rating_id)
    newer = is_newer(stored["version"] if stored else None, f.version)
    move = day_move(
        stored["counted_day"] if stored else None, stored["counted_version"] if stored else None,
        stored is not None, f.day, f.day_version,
    )
    answer_values = dict(
        effectiveness=f.answer.effectiveness,
        support=f.answer.support,
        version=f.version, updated_at=datetime.now(UTC),
    )
    if stored is None:
        projection.add_rating(dict(
            rating_id=f.rating_id, town=f.town, measure_code=f.measure_code,
            counted_day=f.day, counted_version=f.day_version, consultation_id=f.consultation_id,
            channel=f.channel, **answer_values,
        ))
    else:
        values: dict[str, Any] = dict(answer_values) if newer else {}
        if stored["consultation_id"] is None and f.consultation_id is not None:
            values["consultation_id"] = f.consultation_id  # projected before it was kept
        if move.enter is not None:
            values.update(counted_day=move.enter, counted_version=f.day_version)
        elif stored["counted_version"] is not None and f.day_version < stored["counted_version"]:
            values["counted_version"] = f.day_version  # same day, earlier version
        if values:
            projection.update_rating(f.rating_id, values)
    if move.leave is not None:
        projection.count_day(f.town, move.leave, {"ratings": -1})
    if move.enter is not None:
        projection.count_day(f.town, move.enter, {"ratings": 1})
    if not newer:
        return False
    old = Answer(stored["effectiveness"], stored["support"] or None) if stored else None
    channel = stored["channel"] if stored else f.channel
    projection.move_tally(f.measure_code, f.town, _increments(old, f.answer, channel))
    return True


def _increments(old: Answer | None, new: Answer, channel: str) -> dict[str, int]:
    """The tally's counters moved by one answer; a paper answer also counts as paper."""
    increments = tally_delta(old, new).as_increments()
    if channel == "paper" and increments.get("answers"):
        increments["paper_answers"] = increments["answers"]
    return increments


def apply_ratings(projection: ProjectionRepository, facts: Sequence[RatingFact]) -> int:
    """Many ratings at once; returns how many moved a tally.

    Ratings the projection has not seen (and that appear once in `facts`) are
    inserted together and their counters added up per tally and per day: a few
    statements for thousands of ratings. Every other one goes through
    `apply_rating`, so versions, late arrivals and repeats behave as one by one.
    """
    known = projection.known_ratings([f.rating_id for f in facts])
    times = Counter(f.rating_id for f in facts)
    fresh = [f for f in facts if f.rating_id not in known and times[f.rating_id] == 1]
    rest = [f for f in facts if f.rating_id in known or times[f.rating_id] > 1]
    if fresh:
        now = datetime.now(UTC)
        projection.add_ratings([dict(
            rating_id=f.rating_id, town=f.town, measure_code=f.measure_code,
            effectiveness=f.answer.effectiveness, support=f.answer.support, version=f.version,
            updated_at=now, counted_day=f.day, counted_version=f.day_version, channel=f.channel,
            consultation_id=f.consultation_id,
        ) for f in fresh])
        tallies: dict[tuple[str, str], Counter[str]] = {}
        days: Counter[tuple[str, date]] = Counter()
        for f in fresh:
            tallies.setdefault((f.measure_code, f.town), Counter()).update(
                _increments(None, f.answer, f.channel))
            days[(f.town, f.day)] += 1
        projection.move_tallies(tallies)
        projection.count_days({key: {"ratings": n} for key, n in days.items()})
    return len(fresh) + sum(apply_rating(projection, f) for f in rest)
