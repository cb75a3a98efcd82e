"""Citizens' ideas for new measures: proposed by a citizen, accepted or declined by the town."""

from __future__ import annotations

import uuid
from typing import Any

from services.participation.adapters.unit_of_work import UnitOfWork
from services.participation.domain.model import IdeaNotFound, InvalidInput, as_id, check_idea_undecided
from services.participation.service_layer import wire
from soesmart.contracts import (
    DecideIdea,
    Event,
    IdeaAccepted,
    IdeaDeclined,
    IdeaSubmitted,
    IdeaView,
    ProposeIdea,
    idea_measure_code,
)

STATUSES = ("submitted", "accepted", "declined")


def _not_found() -> IdeaNotFound:
    return IdeaNotFound("Diese Idee gibt es nicht.", [{"field": "idea_id", "problem": "unknown idea"}])


def propose_idea(cmd: ProposeIdea, uow: UnitOfWork) -> IdeaView:
    """A confirmed citizen proposes a new measure (not tied to a consultation)."""
    instance, idea_id = uow.instance, str(uuid.uuid4())
    with uow:
        citizen = uow.citizens.participant(cmd.citizen_id)
        uow.ideas.add(idea_id, citizen_id=citizen["id"], title=cmd.title, description=cmd.description,
                      field_of_action=cmd.field_of_action, place=cmd.place, created_at=instance.now())
        uow.add_events([IdeaSubmitted(
            source=instance.source, town=instance.town.slug, idea_id=uuid.UUID(idea_id), title=cmd.title,
            field_of_action=cmd.field_of_action)])
        uow.commit()
    return idea(idea_id, uow)


def idea(idea_id: uuid.UUID | str, uow: UnitOfWork) -> IdeaView:
    with uow:
        row = uow.ideas.get(as_id(idea_id, "idea_id"))
    if row is None:
        raise _not_found()
    return wire.idea_view(row)


def list_ideas(uow: UnitOfWork, status: str | None = None, include_hidden: bool = False) -> list[IdeaView]:
    if status is not None and status not in STATUSES:
        raise InvalidInput("Die Angaben sind ungültig.", [
            {"field": "status", "problem": "one of submitted, accepted, declined"}])
    with uow:
        return [wire.idea_view(row) for row in uow.ideas.listed(status, include_hidden)]


def decide_idea(cmd: DecideIdea, uow: UnitOfWork) -> IdeaView:
    """Accept (it becomes a proposed measure of the catalogue) or decline with a reason."""
    instance, idea_id = uow.instance, str(cmd.idea_id)
    now, town = instance.now(), instance.town.slug
    with uow:
        row = uow.ideas.get(idea_id)
        if row is None:
            raise _not_found()
        check_idea_undecided(row["status"])
        author_email = row["email"] if row["erased_at"] is None else None
        event: Event
        if cmd.decision == "accept":
            code = idea_measure_code(town, cmd.idea_id)
            values: dict[str, Any] = dict(status="accepted", measure_code=code)
            event = IdeaAccepted(
                source=instance.source, town=town, idea_id=cmd.idea_id, title=row["title"],
                description=row["description"], field_of_action=row["field_of_action"],
                place=row["place"], note=cmd.reason, author_email=author_email,
                author_language=row["language"])
        else:
            values = dict(status="declined")
            event = IdeaDeclined(
                source=instance.source, town=town, idea_id=cmd.idea_id, title=row["title"],
                reason=cmd.reason, author_email=author_email, author_language=row["language"])
        if not uow.ideas.decide(idea_id, decision_reason=cmd.reason, decided_by=cmd.actor, decided_at=now,
                                reviewed_at=now, **values):
            check_idea_undecided("decided")  # decided by a concurrent request
        uow.add_events([event])
        uow.commit()
    return idea(idea_id, uow)
