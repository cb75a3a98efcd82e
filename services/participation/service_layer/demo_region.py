"""The lived-in demo of a town (`SOESMART_DEMO=true` only, everything marked as demo).

Beside the open demo consultation: an earlier consultation, closed with its results
published, and the town's share of ~1,500 demo citizens who answered both, commented,
replied, proposed ideas (some accepted into the catalogue), plus paper sheets. Written
straight into the town's database in one transaction, with the events the region needs
in the same commit: the ratings as `RatingsRecorded` batches, the new citizens, comments
and ideas per day as one `ParticipationCounted`, each accepted idea as `IdeaAccepted`
(without an author address: no mail). No citizen gets a mail, no RPC is made. Created
once: a second start finds the closed demo consultation and adds nothing.
"""

from __future__ import annotations

import random
import uuid
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, insert, select

from services.participation.adapters import tables as t
from services.participation.adapters.unit_of_work import BERLIN, UnitOfWork
from services.participation.domain.model import email_key
from services.participation.service_layer.paper import batch_events
from soesmart.contracts import (
    ConsultationMilestone,
    DayCounts,
    Event,
    IdeaAccepted,
    ParticipationCounted,
    idea_measure_code,
)
from soesmart.demo import DEMO_MARK
from soesmart.demo import region as demo
from soesmart.towns import towns

CLOSED_TITLE = "Radverkehr und Klimaschutz: erste Runde"


def seed(uow: UnitOfWork) -> dict[str, int]:
    """Seed the town's lived-in demo once; returns what was created (empty if it was there)."""
    town = uow.instance.town
    rng = random.Random(f"demo:{town.slug}")
    cs = t.consultations
    with uow:
        conn = uow.connection
        if conn.execute(select(cs.c.id).where(cs.c.title.contains(DEMO_MARK),
                                             cs.c.status == "results_published").limit(1)).first():
            return {}
        now, today = uow.instance.now(), uow.instance.today()
        open_c = conn.execute(select(cs).where(cs.c.title.contains(DEMO_MARK), cs.c.status == "open")
                              .order_by(cs.c.created_at).limit(1)).mappings().first()
        closed = _closed_consultation(uow, today, now)
        n = demo.citizens_per_town({x.slug: x.population for x in towns()})[town.slug]
        citizens = _citizens(uow, rng, n, now)
        ratings = _ratings(rng, town.slug, closed, citizens, demo.RATES_CLOSED)
        sheets, paper = _paper_sheets(uow, rng, town.slug, closed, now)
        ratings += paper
        if open_c is not None:
            asked = list(conn.execute(select(t.consultation_measures.c.measure_code).where(
                t.consultation_measures.c.consultation_id == open_c["id"])).scalars())
            window = (_moment(open_c["starts_on"]), now)
            ratings += _ratings(rng, town.slug, {"id": open_c["id"], "codes": asked, "window": window},
                                citizens, demo.RATES_OPEN)
        uow.paper.add_ratings(ratings)
        comments = _comments(uow, rng, closed, open_c, citizens)
        ideas, accepted = _ideas(uow, rng, citizens, now)
        days: dict[date, Counter[str]] = {}
        for kind, stamps in (("citizens", [c["confirmed_at"] for c in citizens]),
                             ("comments", comments), ("ideas", ideas)):
            for stamp in stamps:
                days.setdefault(stamp.astimezone(BERLIN).date(), Counter())[kind] += 1
        events: list[Event] = [*_milestones(uow, closed, open_c), *batch_events(uow, ratings),
                               *accepted, ParticipationCounted(
            source=uow.instance.source, town=town.slug,
            days=tuple(DayCounts(day=d, **c) for d, c in sorted(days.items())))]
        uow.add_events(events)
        uow.commit()
    return {"citizens": len(citizens), "ratings": len(ratings), "paper_sheets": sheets,
            "comments": len(comments), "ideas": len(ideas)}


def _moment(day: date, hour: int = 9) -> datetime:
    return datetime.combine(day, time(hour), BERLIN).astimezone(UTC)


def _closed_consultation(uow: UnitOfWork, today: date, now: datetime) -> dict[str, Any]:
    town, cid = uow.instance.town, str(uuid.uuid4())
    starts, ends = today - timedelta(days=110), today - timedelta(days=70)
    codes = demo.closed_consultation_codes(town.slug)
    uow.consultations.add(cid, dict(
        title=f"{CLOSED_TITLE} in {town.name} {DEMO_MARK}",
        description="Die erste Beteiligungsrunde zu Radverkehr und Klimaschutz ist abgeschlossen; "
                    "die Ergebnisse sind veröffentlicht. Dies ist eine Demo-Beteiligung mit Beispieldaten.",
        status="results_published", starts_on=starts, ends_on=ends,
        created_at=_moment(starts) - timedelta(days=14)), codes)
    actor = f"Verwaltung {town.name} {DEMO_MARK}"
    for milestone, day in (("opened", starts), ("closed", ends + timedelta(days=1)),
                           ("results_published", ends + timedelta(days=10))):
        uow.consultations.record_milestone(cid, milestone, _moment(day, 10), actor)
    return {"id": cid, "codes": codes, "window": (_moment(starts), _moment(ends, 18)),
            "title": f"{CLOSED_TITLE} in {town.name} {DEMO_MARK}", "starts_on": starts, "ends_on": ends}


def _milestones(uow: UnitOfWork, closed: dict[str, Any], open_c: Any) -> list[ConsultationMilestone]:
    """The milestones of both demo consultations, dated when they happened, for the measures'
    stories in the region. (On a first start nobody subscribed yet: they send no mail.)"""
    town, events = uow.instance.town, []
    steps = [(closed, "opened", closed["starts_on"]),
             (closed, "closed", closed["ends_on"] + timedelta(days=1)),
             (closed, "results_published", closed["ends_on"] + timedelta(days=10))]
    if open_c is not None:
        codes = list(uow.connection.execute(select(t.consultation_measures.c.measure_code).where(
            t.consultation_measures.c.consultation_id == open_c["id"])).scalars())
        shown = {"id": open_c["id"], "codes": codes, "title": open_c["title"],
                 "starts_on": open_c["starts_on"], "ends_on": open_c["ends_on"]}
        uow.consultations.record_milestone(open_c["id"], "opened", _moment(open_c["starts_on"]),
                                           f"Verwaltung {town.name} {DEMO_MARK}")
        steps.append((shown, "opened", open_c["starts_on"]))
    for c, milestone, day in steps:
        events.append(ConsultationMilestone(
            source=uow.instance.source, town=town.slug, consultation_id=uuid.UUID(c["id"]),
            milestone=milestone,  # type: ignore[arg-type]
            title=c["title"], starts_on=c["starts_on"].isoformat(),
            ends_on=c["ends_on"].isoformat(), measure_codes=tuple(sorted(c["codes"])),
            occurred_at=_moment(day, 10)))
    return events


def _citizens(uow: UnitOfWork, rng: random.Random, n: int, now: datetime) -> list[dict[str, Any]]:
    slug, postcodes = uow.instance.town.slug, uow.instance.town.postcodes
    rows = []
    for i in range(1, n + 1):
        registered = now - timedelta(days=125 * rng.random() ** 1.5, minutes=rng.randrange(600))
        email = f"demo-{slug}-{i:04d}@example.org"
        rows.append(dict(id=str(uuid.uuid4()), email=email, email_key=email_key(email),
                         postcode=rng.choice(postcodes), display_name=f"Demo-Person {i} {DEMO_MARK}",
                         language="de", notify_replies=False, follow_rated=False,
                         registered_at=registered, confirmed_at=registered + timedelta(minutes=7),
                         demo=True))
    uow.connection.execute(insert(t.citizens), rows)
    return rows


def _when(rng: random.Random, window: tuple[datetime, datetime], earliest: datetime) -> datetime:
    start = max(window[0], earliest)
    if start >= window[1]:
        return window[1]
    return start + (window[1] - start) * rng.random()


def _ratings(rng: random.Random, town: str, consultation: dict[str, Any],
             citizens: list[dict[str, Any]], share: float) -> list[dict[str, Any]]:
    """Answers of the citizens who were registered while the consultation ran."""
    rows = []
    for c in citizens:
        if c["confirmed_at"] > consultation["window"][1] or not consultation["codes"]:
            continue
        for code in demo.sample(rng, consultation["codes"], share):
            at = _when(rng, consultation["window"], c["confirmed_at"])
            effectiveness, support = demo.answer(rng, town, code)
            rows.append(dict(id=str(uuid.uuid4()), consultation_id=consultation["id"], measure_code=code,
                             participant_id=c["id"], effectiveness=effectiveness, support=support,
                             reason=None, version=1, created_at=at, updated_at=at, channel="online"))
    return rows


def _paper_sheets(uow: UnitOfWork, rng: random.Random, town: str, closed: dict[str, Any],
                  now: datetime) -> tuple[int, list[dict[str, Any]]]:
    actor = f"Verwaltung {uow.instance.town.name} {DEMO_MARK}"
    sheets, rows = [], []
    for number in range(1, demo.PAPER_SHEETS + 1):
        sheet_id, at = str(uuid.uuid4()), _when(rng, closed["window"], closed["window"][0])
        sheets.append(dict(id=sheet_id, consultation_id=closed["id"], sheet_number=number,
                           entered_by=actor, entered_at=at, demo=True))
        for code in demo.sample(rng, closed["codes"], 0.8):
            effectiveness, support = demo.answer(rng, town, code)
            rows.append(dict(id=str(uuid.uuid4()), consultation_id=closed["id"], measure_code=code,
                             participant_id=sheet_id, effectiveness=effectiveness, support=support,
                             reason=None, version=1, created_at=at, updated_at=at, channel="paper"))
    uow.paper.add_sheets(sheets)
    return len(sheets), rows


def _comments(uow: UnitOfWork, rng: random.Random, closed: dict[str, Any], open_c: Any,
              citizens: list[dict[str, Any]]) -> list[datetime]:
    stamps = []
    places = [(closed["id"], closed["codes"], closed["window"])]
    if open_c is not None:
        codes = list(uow.connection.execute(select(t.consultation_measures.c.measure_code).where(
            t.consultation_measures.c.consultation_id == open_c["id"])).scalars())
        places.append((open_c["id"], codes, (_moment(open_c["starts_on"]), uow.instance.now())))
    for k, (body, reply) in enumerate(demo.COMMENT_THREADS):
        cid, codes, window = places[k % len(places)]
        if not codes:
            continue
        author, other = rng.sample(citizens, 2)
        at, parent = _when(rng, window, window[0]), str(uuid.uuid4())
        uow.comments.add(parent, consultation_id=cid, measure_code=codes[k % len(codes)],
                         citizen_id=author["id"], body=demo.demo_text(body), created_at=at)
        stamps.append(at)
        if reply:
            later = min(at + timedelta(hours=5), window[1])
            uow.comments.add(str(uuid.uuid4()), consultation_id=cid, measure_code=codes[k % len(codes)],
                             citizen_id=other["id"], parent_id=parent, body=demo.demo_text(reply),
                             created_at=later)
            stamps.append(later)
    return stamps


def _ideas(uow: UnitOfWork, rng: random.Random, citizens: list[dict[str, Any]],
           now: datetime) -> tuple[list[datetime], list[IdeaAccepted]]:
    town, stamps, accepted = uow.instance.town, [], []
    for title, description, field, accept in demo.IDEAS:
        idea_id, author = uuid.uuid4(), rng.choice(citizens)
        at = now - timedelta(days=rng.randrange(20, 90))
        uow.ideas.add(str(idea_id), citizen_id=author["id"], title=demo.demo_text(title),
                      description=description, field_of_action=field, place=None, created_at=at)
        stamps.append(at)
        if accept:
            note = "Aufgenommen in den Katalog (Demo)."
            uow.ideas.decide(str(idea_id), status="accepted", decision_reason=note,
                             decided_by=f"Verwaltung {town.name} {DEMO_MARK}",
                             decided_at=at + timedelta(days=6),
                             measure_code=idea_measure_code(town.slug, idea_id))
            accepted.append(IdeaAccepted(
                source=uow.instance.source, town=town.slug, idea_id=idea_id,
                title=demo.demo_text(title), description=description, field_of_action=field,
                note=note, author_email=None))
    return stamps, accepted


def count_demo(uow: UnitOfWork) -> dict[str, int]:
    """How much demo data the town holds (citizens, ratings, sheets): for tests and the README."""
    with uow:
        conn = uow.connection
        return {
            "citizens": conn.execute(select(func.count()).select_from(t.citizens)
                                     .where(t.citizens.c.demo.is_(True))).scalar_one(),
            "ratings": conn.execute(select(func.count()).select_from(t.ratings)).scalar_one(),
            "paper_sheets": conn.execute(select(func.count()).select_from(t.paper_sheets)).scalar_one(),
        }
