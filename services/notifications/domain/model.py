"""Who hears about what, and when: scope matching, one item per person and cause, bundling.

Plain rules without framework imports; the handlers feed them rows and a clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

REGION = "all"
IMMEDIATE, DAILY, WEEKLY = "immediate", "daily", "weekly"
# A person who follows a measure immediately and the region weekly wants the
# measure's news now: the most urgent frequency wins.
FREQUENCY_RANK = {IMMEDIATE: 0, DAILY: 1, WEEKLY: 2}
# The most specific matching subscription is the one the mail names (and whose
# unsubscribe link it carries).
SPECIFICITY = {"measure": 0, "field_of_action": 1, "town": 2, "region": 3}
DIGEST_PERIOD = {DAILY: timedelta(days=1), WEEKLY: timedelta(days=7)}


@dataclass(frozen=True)
class Scope:
    type: str
    value: str


def scopes_following_measure(
    code: str, field_of_action: str, towns: Sequence[str], all_towns: Sequence[str]
) -> list[Scope]:
    """Every scope whose subscribers hear about a change of this measure.

    A measure without towns is region-wide: the subscribers of every town follow it.
    """
    scopes = [Scope("measure", code), Scope("region", REGION)]
    if field_of_action:
        scopes.append(Scope("field_of_action", field_of_action))
    scopes.extend(Scope("town", t) for t in (towns or all_towns))
    return scopes


@dataclass(frozen=True)
class Candidate:
    """A confirmed subscription that matches a cause."""

    subscription_id: str
    email: str
    scope_type: str
    scope_value: str
    frequency: str


def one_per_recipient(candidates: Iterable[Candidate]) -> list[Candidate]:
    """One candidate per address, however many of its subscriptions match."""
    best: dict[str, Candidate] = {}
    for c in candidates:
        key = c.email.lower()
        current = best.get(key)
        if current is None or _rank(c) < _rank(current):
            best[key] = c
    return sorted(best.values(), key=lambda c: c.email)


def _rank(c: Candidate) -> tuple[int, int, str]:
    return (FREQUENCY_RANK.get(c.frequency, 9), SPECIFICITY.get(c.scope_type, 9), c.subscription_id)


def area_of(scope_type: str, scope_value: str, event_towns: Sequence[str]) -> str:
    """The town heading an item is grouped under: comma-separated slugs, "" for the region."""
    if scope_type == "town":
        return scope_value
    return ",".join(event_towns)


def digest_due(frequency: str, last_digest_at: datetime | None, since: datetime,
               now: datetime) -> bool:
    """At most one digest per period: due one period after the last (or after `since`)."""
    return now >= (last_digest_at or since) + DIGEST_PERIOD[frequency]


@dataclass(frozen=True)
class Item:
    """One thing a person is to hear about (a cause), waiting to be bundled into a mail."""

    id: int
    subscription_id: str
    area: str
    measure_code: str
    occurred_at: datetime
    payload: dict[str, Any]


@dataclass
class MeasureGroup:
    """The news of one measure, or of one consultation (`kind`), inside a town's heading."""

    key: str
    code: str
    title: str
    kind: str = "measure"  # measure, consultation
    items: list[Item] = field(default_factory=list)


@dataclass
class AreaGroup:
    area: str
    measures: list[MeasureGroup] = field(default_factory=list)


def group_key(item: Item) -> tuple[str, str]:
    """(key, kind) of the group an item belongs to: its measure, else its consultation."""
    if item.measure_code:
        return item.measure_code, "measure"
    return f"consultation:{item.payload.get('consultation_id', '')}", "consultation"


def group_by_town_and_measure(items: Iterable[Item]) -> list[AreaGroup]:
    """Items grouped by town, then measure (or consultation); newest first at every level."""
    newest_first = sorted(items, key=lambda i: (i.occurred_at, i.id), reverse=True)
    areas: dict[str, AreaGroup] = {}
    for item in newest_first:
        area = areas.setdefault(item.area, AreaGroup(item.area))
        key, kind = group_key(item)
        group = next((m for m in area.measures if m.key == key), None)
        if group is None:
            group = MeasureGroup(key, item.measure_code, str(item.payload.get("title", "")), kind)
            area.measures.append(group)
        group.items.append(item)
    return list(areas.values())


def sender_town(items: Iterable[Item]) -> str | None:
    """The town whose events alone caused these items (its name is the sender), else None.

    Status changes come from the region's catalogue; news of a town's consultation
    carries the town in its payload.
    """
    found = {str(item.payload.get("town") or "") for item in items}
    if len(found) == 1:
        town = found.pop()
        return town or None
    return None
