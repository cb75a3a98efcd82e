"""Moderation of comments and ideas: the queue, hiding and restoring, and its log."""

from __future__ import annotations

from typing import Any

from services.participation.adapters.rows import aware
from services.participation.adapters.unit_of_work import UnitOfWork
from services.participation.domain.model import CommentNotFound, IdeaNotFound, InvalidInput
from services.participation.service_layer import wire
from soesmart.contracts import Moderate, ModerationAct, ModerationItem, ModerationQueue

MODERATION_NEW_LIMIT = 50


def moderation_queue(uow: UnitOfWork) -> ModerationQueue:
    """Flagged comments first (most flags first), then content nobody has reviewed yet."""
    with uow:
        counts = uow.moderation.open_flags()
        flagged_rows = uow.moderation.comments(list(counts))
        new_comments = uow.moderation.unreviewed_comments(MODERATION_NEW_LIMIT)
        new_ideas = uow.ideas.unreviewed()[:MODERATION_NEW_LIMIT]

    def comment_item(row: Any) -> ModerationItem:
        reasons = counts.get(row["id"], {})
        return ModerationItem(
            target_type="comment", target_id=row["id"], measure_code=row["measure_code"],
            display_name=wire.display_name(row), text=row["body"], created_at=aware(row["created_at"]),
            hidden=bool(row["hidden"]), flags=sum(reasons.values()), flag_reasons=reasons)

    flagged = sorted((comment_item(r) for r in flagged_rows),
                     key=lambda item: (-item.flags, -item.created_at.timestamp()))
    new = [comment_item(r) for r in new_comments if r["id"] not in counts] + [
        ModerationItem(target_type="idea", target_id=r["id"], display_name=wire.display_name(r),
                       text=f"{r['title']}\n\n{r['description']}", created_at=aware(r["created_at"]),
                       hidden=bool(r["hidden"]), flags=0)
        for r in new_ideas]
    new.sort(key=lambda item: item.created_at, reverse=True)
    return ModerationQueue(flagged=tuple(flagged), new=tuple(new[:MODERATION_NEW_LIMIT]))


def moderate(cmd: Moderate, uow: UnitOfWork) -> ModerationAct:
    """Hide (with a reason), restore, or dismiss the flags; every act goes into the log."""
    now, target_id = uow.instance.now(), str(cmd.target_id)
    with uow:
        if not uow.moderation.exists(cmd.target_type, target_id):
            if cmd.target_type == "comment":
                raise CommentNotFound("Diesen Kommentar gibt es nicht.",
                                      [{"field": "target_id", "problem": "unknown comment"}])
            raise IdeaNotFound("Diese Idee gibt es nicht.",
                               [{"field": "target_id", "problem": "unknown idea"}])
        hidden = cmd.action == "hide" if cmd.action in ("hide", "restore") else None
        uow.moderation.review(cmd.target_type, target_id, now, hidden)
        if cmd.action == "dismiss_flags" and cmd.target_type == "comment":
            uow.moderation.dismiss_flags(target_id, now)
        uow.moderation.log(target_type=cmd.target_type, target_id=target_id, action=cmd.action,
                           reason=cmd.reason, actor=cmd.actor, at=now)
        uow.commit()
    return ModerationAct(target_type=cmd.target_type, target_id=cmd.target_id, action=cmd.action,
                         reason=cmd.reason, actor=cmd.actor, at=now)


def moderation_log(uow: UnitOfWork, limit: int = 100) -> list[ModerationAct]:
    if not isinstance(limit, int) or not 1 <= limit <= 1000:
        raise InvalidInput("Die Angaben sind ungültig.",
                           [{"field": "limit", "problem": "must be a whole number from 1 to 1000"}])
    with uow:
        rows = uow.moderation.latest_acts(limit)
    return [ModerationAct(target_type=r["target_type"], target_id=r["target_id"], action=r["action"],
                          reason=r["reason"], actor=r["actor"], at=aware(r["at"])) for r in rows]
