"""A measure's story: the towns' consultations that asked about it, with their answers.

The towns tell their milestones (opened, closed, results published) as events; the
measures service keeps them per consultation with the measures each asked, and the
projection keeps each rating's consultation, so the story needs no call to a town.
"""

from __future__ import annotations

from datetime import date

from services.measures.adapters.unit_of_work import UnitOfWork
from soesmart.contracts import ConsultationAsked, ConsultationMilestone


def record_milestone(event: ConsultationMilestone, uow: UnitOfWork) -> bool:
    """Keep a town's consultation milestone; False if this event was handled before."""
    with uow:
        if not uow.claim(event):
            return False
        uow.story.record_milestone(
            str(event.consultation_id), event.town, event.title,
            date.fromisoformat(event.starts_on), date.fromisoformat(event.ends_on),
            event.milestone, event.occurred_at, event.measure_codes)
        uow.commit()
    return True


def asked_in(code: str, uow: UnitOfWork) -> tuple[ConsultationAsked, ...]:
    """The consultations that asked about `code` (inside an open unit of work), oldest first."""
    return tuple(
        ConsultationAsked(
            town=r["town"], consultation_id=r["consultation_id"], title=r["title"],
            starts_on=r["starts_on"], ends_on=r["ends_on"], opened_at=r["opened_at"],
            closed_at=r["closed_at"], results_published_at=r["published_at"],
            answers=r["answers"])
        for r in uow.story.asked_in(code))
