"""Discussion of a measure: comments with one level of replies, and citizens' flags."""

from __future__ import annotations

import uuid

from services.participation.adapters.rate_limits import Check
from services.participation.adapters.unit_of_work import UnitOfWork
from services.participation.domain.model import (
    CommentNotFound,
    Limit,
    ParentComment,
    as_id,
    not_asked_in_town,
)
from services.participation.service_layer import wire
from soesmart.contracts import CommentPosted, CommentReplied, CommentView, Event, FlagComment, PostComment

HOUR, TEN_MINUTES = 3600.0, 600.0
EXCERPT_CHARS = 300


def post_comment(cmd: PostComment, uow: UnitOfWork) -> CommentView:
    """A comment on a measure of an open consultation, or a reply (one level deep)."""
    instance = uow.instance
    now, s = instance.now(), instance.settings
    with uow:
        citizen = uow.citizens.participant(cmd.citizen_id)
        checks: list[Check] = [(f"comment:citizen:{citizen['id']}",
                                Limit(s.limit_comments_per_citizen, TEN_MINUTES), "Kommentare")]
        if cmd.client:
            checks.append((f"comment:client:{cmd.client}",
                           Limit(s.limit_comments_per_client, TEN_MINUTES), "Kommentare"))
        uow.rate_limits.check(checks, now)
        cid = as_id(cmd.consultation_id, "consultation_id") if cmd.consultation_id else None
        consultation = uow.consultations.asking(cmd.measure_code, cid)
        if consultation is None:
            raise not_asked_in_town(cmd.measure_code, instance.town.name)
        consultation.check_open_for(cmd.measure_code, instance.today())
        parent = None
        if cmd.parent_id is not None:
            parent = uow.comments.visible(str(cmd.parent_id))
            if parent is None:
                raise CommentNotFound("Den Kommentar, auf den Sie antworten, gibt es nicht.",
                                      [{"field": "parent_id", "problem": "unknown comment"}])
            ParentComment(parent["id"], parent["measure_code"], parent["consultation_id"],
                          parent["parent_id"]).check_can_take_reply(cmd.measure_code, consultation.id)
        comment_id = str(uuid.uuid4())
        uow.comments.add(comment_id, consultation_id=consultation.id, measure_code=cmd.measure_code,
                         citizen_id=citizen["id"], parent_id=parent["id"] if parent else None,
                         body=cmd.body, created_at=now)
        events: list[Event] = [CommentPosted(
            source=instance.source, town=instance.town.slug, comment_id=uuid.UUID(comment_id),
            consultation_id=uuid.UUID(consultation.id), measure_code=cmd.measure_code,
            parent_id=cmd.parent_id)]
        if parent is not None and parent["citizen_id"] != citizen["id"]:
            author = uow.citizens.get(parent["citizen_id"])
            if author["notify_replies"] and author["email"] and author["erased_at"] is None:
                body = cmd.body
                excerpt = body if len(body) <= EXCERPT_CHARS else body[:EXCERPT_CHARS - 1] + "…"
                events.append(CommentReplied(
                    source=instance.source, town=instance.town.slug, comment_id=uuid.UUID(comment_id),
                    parent_id=uuid.UUID(parent["id"]), measure_code=cmd.measure_code,
                    measure_title=uow.comments.measure_title(cmd.measure_code),
                    replier_display_name=citizen["display_name"], excerpt=excerpt,
                    recipient_email=author["email"], recipient_language=author["language"]))
        uow.add_events(events)
        uow.rate_limits.record(checks, now)
        uow.commit()
    return CommentView(id=uuid.UUID(comment_id), measure_code=cmd.measure_code,
                       display_name=citizen["display_name"], body=cmd.body, created_at=now,
                       parent_id=cmd.parent_id)


def list_comments(measure_code: str, uow: UnitOfWork,
                  consultation_id: uuid.UUID | str | None = None) -> list[CommentView]:
    """Visible comments, newest first, each with its visible replies, oldest first."""
    cid = as_id(consultation_id, "consultation_id") if consultation_id else None
    with uow:
        rows = uow.comments.visible_on(measure_code, cid)
    replies: dict[str, list[CommentView]] = {}
    for row in rows:
        if row["parent_id"]:
            replies.setdefault(row["parent_id"], []).append(wire.comment_view(row))
    top = [row for row in rows if not row["parent_id"]]
    return [wire.comment_view(row, tuple(replies.get(row["id"], ()))) for row in reversed(top)]


def flag_comment(cmd: FlagComment, uow: UnitOfWork) -> dict[str, bool]:
    """A citizen flags a comment for the moderators; a second flag of theirs changes nothing."""
    now, s = uow.instance.now(), uow.instance.settings
    with uow:
        citizen = uow.citizens.participant(cmd.citizen_id)
        comment_id = str(cmd.comment_id)
        if not uow.comments.exists(comment_id):
            raise CommentNotFound("Diesen Kommentar gibt es nicht.",
                                  [{"field": "comment_id", "problem": "unknown comment"}])
        if uow.comments.flagged_by(comment_id, citizen["id"]):
            return {"flagged": True}
        checks: list[Check] = [(f"flag:citizen:{citizen['id']}", Limit(s.limit_flags_per_citizen, HOUR),
                                "Meldungen")]
        if cmd.client:
            checks.append((f"flag:client:{cmd.client}", Limit(s.limit_flags_per_client, HOUR),
                           "Meldungen"))
        uow.rate_limits.check(checks, now)
        uow.comments.add_flag(comment_id, citizen["id"], reason=cmd.reason, note=cmd.note, created_at=now)
        uow.rate_limits.record(checks, now)
        uow.commit()
    return {"flagged": True}
