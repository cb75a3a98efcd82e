"""After a restore: the combined results made to agree with the towns' own databases again.

The measures service keeps the combined results as a projection of the towns'
events. Restored from an older backup, it lacks everything the towns announced
since; a town restored from an older backup no longer has ratings the region
counted. Either way the towns' databases are the truth, and this rebuilds the
projection from them, reading each town's database directly (as `soesmart
migrate` reaches every instance), with the same idempotent use cases as live
events:

- ratings: the projection (of the towns concerned) is dropped and every stored
  rating replayed at its latest version (`replay_ratings`); rating events still
  on their way are older or equal versions then, and change nothing;
- everything else the measures service takes from the towns (per-day counts of
  new citizens, comments and ideas, accepted ideas, consultation milestones: every
  type its queue binds, but ratings) exists only as events: every such event in the
  town's outbox (kept after it was sent) is handed to the measures service's own
  event handler again; those it had handled before the backup are in its restored
  `processed_events` (an accepted idea: in its catalogue) and change nothing, those
  since are handled once.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import select

from soesmart.config import Settings
from soesmart.contracts import Event, parse_event
from soesmart.messaging.topology import MEASURES_QUEUE
from soesmart.towns import Town

# The events of the towns the measures service takes, apart from ratings (rebuilt from rows).
REPLAYED_EVENTS = tuple(
    kind for kind in (p.rsplit(".", 1)[1] for p in MEASURES_QUEUE.patterns
                      if p.startswith("participation."))
    if kind not in ("RatingRecorded", "RatingsRecorded"))
PAGE = 2000


@dataclass
class TownRecovery:
    town: str
    ratings: int = 0
    events: int = 0


def town_events(engine: object, event_types: tuple[str, ...]) -> Iterator[Event]:
    """Every event of `event_types` in a town's outbox, oldest first, sent or not."""
    from services.participation.adapters import tables as t

    o = t.outbox
    last = 0
    while True:
        with engine.connect() as conn:  # type: ignore[attr-defined]
            rows = conn.execute(
                select(o.c.id, o.c.payload).where(o.c.event_type.in_(event_types), o.c.id > last)
                .order_by(o.c.id).limit(PAGE)).all()
        for row in rows:
            yield parse_event(json.loads(row[1]))
        if len(rows) < PAGE:
            return
        last = rows[-1][0]


def rebuild_from_towns(settings: Settings, selected: list[Town], everything: bool) -> list[TownRecovery]:
    """Rebuild the combined results of `selected` towns (all of them when `everything`)."""
    from types import SimpleNamespace

    from services.measures.entrypoints.service import MeasuresService
    from services.measures.service_layer.handlers import MeasuresApp
    from services.participation.service_layer.handlers import ParticipationApp

    quiet = settings.model_copy(update={"demo": False})
    region = MeasuresApp(quiet)
    consumer = SimpleNamespace(app=region)  # what the service's event handler reads
    town_apps = [ParticipationApp(quiet.model_copy(update={"town": t.slug})) for t in selected]
    report = []
    try:
        if everything:
            region.reset_projection()  # also drops towns that have left the network
        else:
            for town in selected:
                region.reset_projection(town.slug)
        for town, app in zip(selected, town_apps, strict=True):
            done = TownRecovery(town.slug)
            after: str | None = None
            while True:
                page = app.export_ratings(after, PAGE)
                region.replay_ratings(town.slug, page.items)
                done.ratings += len(page.items)
                if page.next_after is None:
                    break
                after = page.next_after
            for event in town_events(app.engine, REPLAYED_EVENTS):
                MeasuresService.on_event(consumer, event)  # type: ignore[arg-type]
                done.events += 1
            report.append(done)
    finally:
        for engine in [region.engine, *(a.engine for a in town_apps)]:
            engine.dispose()
    return report
