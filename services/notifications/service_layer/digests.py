"""Bundling: the items that are due become one mail per address (status news, digests).

One transaction per group of addresses: the delivery rows go in, exactly the
items read for them go out, and the time of a daily or weekly digest is kept.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from services.notifications.adapters.mails import ComposeCache, ComposedMail
from services.notifications.adapters.unit_of_work import UnitOfWork
from services.notifications.domain import model
from services.notifications.service_layer.context import Context, aware, town_name, town_sender
from services.notifications.service_layer.delivery import delivery_row
from services.notifications.service_layer.fan_out import MILESTONE_KIND
from soesmart.i18n import label

BUNDLE_CAUSE = {model.IMMEDIATE: "measure_status_changed", model.DAILY: "digest_daily",
                model.WEEKLY: "digest_weekly"}
LAST_DIGEST_COLUMN = {model.DAILY: "last_daily_digest_at", model.WEEKLY: "last_weekly_digest_at"}


def bundle_due(new_uow: Callable[[], UnitOfWork], ctx: Context, limit: int = 500) -> int:
    """Turn due items into one mail per address and frequency; returns how many mails."""
    now = ctx.now()
    with new_uow() as uow:
        immediate = uow.items.due_now(model.IMMEDIATE, now, limit)
        digests = uow.items.digest_candidates([model.DAILY, model.WEEKLY])
    due: dict[str, list[str]] = {model.IMMEDIATE: list(immediate),
                                 model.DAILY: [], model.WEEKLY: []}
    for email, frequency, first_item, since, last_daily, last_weekly in digests:
        last = last_daily if frequency == model.DAILY else last_weekly
        if model.digest_due(frequency, aware(last), aware(since or first_item) or now, now):
            due[frequency].append(email)
    made = 0
    for frequency, emails in due.items():
        for start in range(0, len(emails), 500):
            made += _bundle(new_uow(), ctx, emails[start:start + 500], frequency, now)
    return made


def _bundle(uow: UnitOfWork, ctx: Context, emails: list[str], frequency: str,
            now: datetime) -> int:
    with uow:
        rows = uow.items.waiting(emails, frequency)
        if not rows:
            return 0
        by_email: dict[str, list[Any]] = {}
        for row in rows:
            by_email.setdefault(row["recipient"], []).append(row)
        recipients = uow.subscriptions.recipients(list(by_email), "de", ctx.now())
        deliveries = []
        cache = ComposeCache()
        for email, items in by_email.items():
            recipient = recipients[email]
            mail, unsubscribe_url, cause, town = _compose_bundle(
                ctx, recipient, items, frequency, now, cache)
            key = f"{frequency}:{items[0]['cause']}:{recipient['id']}"
            deliveries.append(delivery_row(ctx, key, cause, email, mail, unsubscribe_url,
                                           town_sender(town), town=town))
        uow.mails.add_many(deliveries)
        # Only the rows read above leave: an item that arrived meanwhile waits for the next mail.
        uow.items.remove([row["id"] for row in rows])
        if frequency in LAST_DIGEST_COLUMN:
            uow.subscriptions.digests_sent(list(by_email), LAST_DIGEST_COLUMN[frequency], now)
        uow.commit()
    return len(deliveries)


def _compose_bundle(ctx: Context, recipient: Any, rows: list[Any], frequency: str, now: datetime,
                    cache: ComposeCache) -> tuple[ComposedMail, str, str, str | None]:
    """One mail of a person's due items: (mail, unsubscribe URL, cause, the town it is from).

    The town (None: the region) names the sender and the controller in the mail's footer.
    """
    links = ctx.links
    lang = recipient["language"] or "de"
    subscription_ids = {row["subscription_id"] for row in rows}
    if len(subscription_ids) == 1:
        unsubscribe_url = links.url(
            f"/abo/abmelden?token={links.unsubscribe_token(next(iter(subscription_ids)))}")
    else:  # the mail comes from several subscriptions: the link ends them all
        unsubscribe_url = links.url(
            f"/abo/abmelden?token={links.unsubscribe_all_token(recipient['id'])}")
    preferences_url = links.url(
        f"/abo/einstellungen?token={links.preferences_token(recipient['id'])}")
    # The only parts of the mail that differ between the addresses of one cause.
    personal = {"unsubscribe_url": unsubscribe_url, "preferences_url": preferences_url}
    items = [
        model.Item(id=row["id"], subscription_id=row["subscription_id"], area=row["area"],
                   measure_code=row["measure_code"],
                   occurred_at=aware(row["occurred_at"]) or now,
                   payload=json.loads(row["payload"]))
        for row in rows
    ]
    town = model.sender_town(items)
    kinds = {row["kind"] for row in rows}
    if frequency == model.IMMEDIATE:
        cause = kinds.pop() if len(kinds) == 1 else "updates"
    else:
        cause = BUNDLE_CAUSE[frequency]
    if frequency == model.IMMEDIATE and len(items) == 1:
        p = items[0].payload
        if rows[0]["kind"] == MILESTONE_KIND:
            return cache.compose(
                "consultation_milestone", lang, personal, town_name=town_name(p["town"]),
                title=p["title"], milestone=p["milestone"],
                starts_on=p["starts_on"], ends_on=p["ends_on"],
                town_url=links.url(f"/stadt/{p['town']}"),
            ), unsubscribe_url, cause, town
        return cache.compose(
            "measure_status_changed", lang, personal, title=p["title"], code=p["code"],
            old_status=label("status", p["old_status"], lang),
            new_status=label("status", p["new_status"], lang),
            progress=p["progress"], note=p["note"],
            measure_url=links.url(f"/massnahmen/{p['code']}"),
            scope_type=rows[0]["scope_type"] or "measure",
        ), unsubscribe_url, cause, town
    groups = [
        {
            "name": _area_name(area.area),
            "measures": [_group_view(ctx, m, lang) for m in area.measures],
        }
        for area in model.group_by_town_and_measure(items)
    ]
    return cache.compose(
        "updates", lang, personal, digest=frequency if frequency != model.IMMEDIATE else "",
        count=len(items), measures=len({it.measure_code for it in items if it.measure_code}),
        consultations=sum(1 for it in items if not it.measure_code), groups=groups,
    ), unsubscribe_url, cause, town


def _group_view(ctx: Context, group: model.MeasureGroup, lang: str) -> dict[str, Any]:
    """What the `updates` template shows of one measure's or consultation's news."""
    if group.kind == "consultation":
        newest = group.items[0].payload
        return {"kind": "consultation", "code": "", "title": group.title,
                "starts_on": newest["starts_on"], "ends_on": newest["ends_on"],
                "url": ctx.links.url(f"/stadt/{newest['town']}"),
                "entries": [{"at": it.occurred_at, "milestone": it.payload["milestone"]}
                            for it in group.items]}
    return {"kind": "measure", "code": group.code, "title": group.title,
            "url": ctx.links.url(f"/massnahmen/{group.code}"),
            "entries": [
                {"at": it.occurred_at,
                 "old_status": label("status", it.payload["old_status"], lang),
                 "new_status": label("status", it.payload["new_status"], lang),
                 "progress": it.payload["progress"], "note": it.payload["note"]}
                for it in group.items
            ]}


def _area_name(area: str) -> str:
    """The towns of a heading; "" for the whole region, which the template names."""
    return ", ".join(town_name(slug) for slug in area.split(",") if slug)
