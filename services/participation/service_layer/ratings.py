"""Citizens' answers to the two questions: record or change one, read them back, export them.

A rating's path: the RPC entrypoint hands `RateMeasure` to `rate`, which checks the
rules (domain), stores the answer and adds `RatingRecorded` to the outbox in the same
commit; the relay publishes it to the regional results.
"""

from __future__ import annotations

import uuid
from typing import Any

from services.participation.adapters.unit_of_work import UnitOfWork
from services.participation.domain.model import Answer, as_id, not_asked_in_town
from soesmart.contracts import (
    CitizenFollowsMeasure,
    Event,
    ExportedRating,
    RateMeasure,
    RatingAccepted,
    RatingRecorded,
    RatingsPage,
    Support,
)


def rate(cmd: RateMeasure, uow: UnitOfWork, consultation_id: uuid.UUID | str | None = None) -> RatingAccepted:
    """Record or change a confirmed citizen's answer; the event goes out with the same commit.

    The hot path: the citizen costs one primary-key lookup.
    """
    answer = Answer(cmd.effectiveness, cmd.support, cmd.reason)
    answer.check_not_empty()
    participant, instance = str(cmd.participant_id), uow.instance
    with uow:
        standing, citizen = uow.ratings.rater(participant)
        standing.check_can_participate()
        assert citizen is not None
        cid = as_id(consultation_id, "consultation_id") if consultation_id else None
        consultation = uow.consultations.asking(cmd.measure_code, cid)
        if consultation is None:
            raise not_asked_in_town(cmd.measure_code, instance.town.name)
        consultation.check_open_for(cmd.measure_code, instance.today())
        stored = uow.ratings.current(consultation.id, cmd.measure_code, participant)
        now = instance.now()
        events: list[Event] = []
        if stored is not None:
            if stored.answer.same_as(answer):
                support = stored.answer.support
                return RatingAccepted(
                    rating_id=uuid.UUID(stored.id), measure_code=cmd.measure_code,
                    effectiveness=stored.answer.effectiveness, support=Support(support) if support else None,
                    version=stored.version, changed=False)
            rating_id, version = stored.id, stored.version + 1
            uow.ratings.change(rating_id, version, answer, now)
        else:
            rating_id, version = str(uuid.uuid4()), 1
            uow.ratings.add(rating_id, consultation.id, cmd.measure_code, participant, answer, now)
            if citizen.follow_rated and citizen.email:
                events.append(CitizenFollowsMeasure(
                    source=instance.source, town=instance.town.slug, measure_code=cmd.measure_code,
                    email=citizen.email, language=citizen.language))
        events.insert(0, RatingRecorded(
            source=instance.source, town=instance.town.slug,
            consultation_id=uuid.UUID(consultation.id), rating_id=uuid.UUID(rating_id),
            measure_code=cmd.measure_code, effectiveness=cmd.effectiveness,
            support=cmd.support, version=version))
        uow.add_events(events)
        uow.commit()
    return RatingAccepted(rating_id=uuid.UUID(rating_id), measure_code=cmd.measure_code,
                          effectiveness=cmd.effectiveness, support=cmd.support, version=version,
                          changed=True)


def my_ratings(citizen_id: uuid.UUID | str, uow: UnitOfWork,
               consultation_id: uuid.UUID | str | None = None) -> list[dict[str, Any]]:
    with uow:
        row = uow.citizens.live(citizen_id)
        cid = as_id(consultation_id, "consultation_id") if consultation_id else None
        return uow.ratings.of_citizen(row["id"], cid)


def export_ratings(after_id: str | None, limit: int, uow: UnitOfWork) -> RatingsPage:
    """Stored ratings ordered by id, `limit` after `after_id`: pages that stay stable
    while citizens keep rating (a new rating lands on some later or earlier page,
    and its event reaches the projection anyway)."""
    with uow:
        rows = uow.ratings.page(after_id, limit)
    return RatingsPage(
        town=uow.instance.town.slug,
        items=tuple(
            ExportedRating(
                rating_id=row["id"], consultation_id=row["consultation_id"],
                measure_code=row["measure_code"], effectiveness=row["effectiveness"],
                support=row["support"], version=row["version"], created_at=row["created_at"],
                channel=row["channel"])
            for row in rows),
        next_after=rows[-1]["id"] if len(rows) == limit else None,
    )
