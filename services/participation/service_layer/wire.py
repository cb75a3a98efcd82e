"""The wire contracts this instance answers with, made from stored rows and domain values."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import RowMapping

from services.participation.adapters.rows import aware
from services.participation.domain.model import ERASED_DISPLAY_NAME, AnswerCounts
from soesmart.contracts import (
    CitizenView,
    CommentView,
    ConsultationMeasure,
    ConsultationView,
    IdeaView,
    Tally,
)
from soesmart.geo import from_text


def display_name(row: Any) -> str:
    return ERASED_DISPLAY_NAME if row["erased_at"] is not None else row["display_name"]


def tally(counts: AnswerCounts, paper_answers: int = 0) -> Tally:
    return Tally(answers=counts.answers, effectiveness_count=counts.effectiveness_count,
                 effectiveness_mean=counts.effectiveness_mean,
                 effectiveness_distribution=dict(counts.effectiveness_distribution),
                 support=dict(counts.support), paper_answers=paper_answers)


def consultation_view(town: str, row: Any, measures: Iterable[RowMapping]) -> ConsultationView:
    return ConsultationView(
        id=row["id"], town=town, title=row["title"], description=row["description"],
        status=row["status"], starts_on=row["starts_on"].isoformat(), ends_on=row["ends_on"].isoformat(),
        measures=tuple(
            ConsultationMeasure(code=m["code"], title=m["title"], summary=m["summary"],
                           programme=m["programme"], field_of_action=m["field_of_action"],
                           status=m["status"], geometry=from_text(m["geometry"]))
            for m in measures),
    )


def comment_view(row: Any, replies: tuple[CommentView, ...] = ()) -> CommentView:
    return CommentView(id=row["id"], measure_code=row["measure_code"], display_name=display_name(row),
                       body=row["body"], created_at=aware(row["created_at"]), parent_id=row["parent_id"],
                       replies=replies)


def idea_view(row: Any) -> IdeaView:
    return IdeaView(
        id=row["id"], title=row["title"], description=row["description"],
        field_of_action=row["field_of_action"], place=row["place"], display_name=display_name(row),
        status=row["status"], decision_reason=row["decision_reason"],
        measure_code=row["measure_code"], created_at=aware(row["created_at"]), hidden=bool(row["hidden"]))


def citizen_view(town: str, row: RowMapping, ratings: list[dict[str, Any]],
                 comments: Sequence[RowMapping], ideas: Sequence[RowMapping]) -> CitizenView:
    """"Meine Daten": everything stored about one citizen."""
    return CitizenView(
        citizen_id=row["id"], town=town, email=row["email"], postcode=row["postcode"],
        display_name=row["display_name"], language=row["language"],
        notify_replies=row["notify_replies"], follow_rated=row["follow_rated"],
        registered_at=aware(row["registered_at"]), confirmed_at=aware(row["confirmed_at"]),
        ratings=tuple(ratings),
        comments=tuple(
            {"id": x["id"], "consultation_id": x["consultation_id"],
             "measure_code": x["measure_code"], "parent_id": x["parent_id"], "body": x["body"],
             "created_at": aware(x["created_at"]).isoformat(), "hidden": bool(x["hidden"])}
            for x in comments),
        ideas=tuple(
            {"id": x["id"], "title": x["title"], "description": x["description"],
             "field_of_action": x["field_of_action"], "place": x["place"], "status": x["status"],
             "decision_reason": x["decision_reason"], "measure_code": x["measure_code"],
             "created_at": aware(x["created_at"]).isoformat(), "hidden": bool(x["hidden"])}
            for x in ideas),
    )
