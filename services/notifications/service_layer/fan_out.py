"""Fan-out: an event becomes one waiting item per confirmed follower, bundled into mails later.

Items are written in the transaction that claims the event; their unique key
(address and cause) makes a redelivered event or a second matching scope harmless.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable

from services.notifications.adapters.unit_of_work import UnitOfWork
from services.notifications.domain import model
from services.notifications.service_layer.context import Context
from soesmart.contracts import ConsultationMilestone, MeasureStatusChanged
from soesmart.towns import towns

STATUS_KIND = "measure_status_changed"
MILESTONE_KIND = "consultation_milestone"


def on_measure_status_changed(event: MeasureStatusChanged, uow: UnitOfWork, ctx: Context) -> int:
    """Queue one item per confirmed follower (measure, field, towns, region); returns how many."""
    scopes = model.scopes_following_measure(
        event.code, event.field_of_action, event.towns, [x.slug for x in towns()]
    )
    payload = json.dumps({
        "code": event.code, "title": event.title, "old_status": event.old_status.value,
        "new_status": event.new_status.value, "note": event.note, "progress": event.progress,
    }, ensure_ascii=False)
    return _fan_out(uow, ctx, event, STATUS_KIND, [(sc.type, sc.value) for sc in scopes], payload,
                    lambda c: model.area_of(c.scope_type, c.scope_value, event.towns), event.code)


def on_consultation_milestone(event: ConsultationMilestone, uow: UnitOfWork, ctx: Context) -> int:
    """Queue one item per confirmed subscriber of the town; returns how many.

    The items travel like status changes: bundled after the quiet period, or in
    the subscriber's daily or weekly digest under the town's heading.
    """
    payload = json.dumps({
        "town": event.town, "consultation_id": str(event.consultation_id),
        "title": event.title, "milestone": event.milestone,
        "starts_on": event.starts_on, "ends_on": event.ends_on,
    }, ensure_ascii=False)
    return _fan_out(uow, ctx, event, MILESTONE_KIND, [("town", event.town)], payload,
                    lambda c: event.town, "")


def _fan_out(uow: UnitOfWork, ctx: Context, event: MeasureStatusChanged | ConsultationMilestone,
             kind: str, scopes: Iterable[tuple[str, str]], payload: str,
             area: Callable[[model.Candidate], str], measure_code: str) -> int:
    """One item per address among the followers of the scopes (the most urgent and most
    specific of its subscriptions), in the transaction that claims the event."""
    now = ctx.now()
    with uow:
        if not uow.claim(event):
            return 0
        chosen = model.one_per_recipient(
            model.Candidate(*row) for row in uow.subscriptions.followers(scopes))
        items = [
            dict(recipient=c.email, cause=str(event.event_id), kind=kind,
                 subscription_id=c.subscription_id, frequency=c.frequency, area=area(c),
                 measure_code=measure_code, payload=payload, occurred_at=event.occurred_at,
                 due_at=now + ctx.batch_wait if c.frequency == model.IMMEDIATE else now,
                 created_at=now)
            for c in chosen
        ]
        uow.items.add(items)
        uow.commit()
    return len(items)
