"""Demo data of a town's instance (`SOESMART_DEMO=true` only): one open consultation, a few
confirmed citizens with comments and ideas, all marked as demo, then the lived-in region of
`demo_region` (which the region learns of by its events); and confirmed citizens for the
benchmark."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select

from services.participation.adapters import tables as t
from services.participation.adapters.unit_of_work import UnitOfWork
from services.participation.domain.model import email_key
from services.participation.service_layer import demo_region
from soesmart import demo

DEMO_CITIZENS = (("Demo-Bürgerin 1", True), ("Demo-Bürger 2", False), ("Demo-Bürgerin 3", True))
COMMENTS = (
    ("Gute Idee, aber bitte mit Beleuchtung für den Winter. " + demo.DEMO_MARK,
     "Stimmt, und mit Abstellanlagen an beiden Enden. " + demo.DEMO_MARK),
    ("Wie lange würde der Umbau dauern? " + demo.DEMO_MARK, None),
)
IDEAS = (
    ("Trinkbrunnen in der Innenstadt", "Öffentliche Trinkbrunnen an zentralen Plätzen, "
     "damit niemand an heißen Tagen Wasser kaufen muss.", "climate_adaptation", "Marktplatz"),
    ("Lastenräder zum Ausleihen", "Drei Lastenräder an der Bücherei, kostenlos für "
     "Einkäufe und Transporte auszuleihen.", "cycling", None),
)


def load(uow: UnitOfWork) -> None:
    """What demo mode adds to an instance, once."""
    create_demo_consultation(uow)
    create_demo_participation(uow)
    if uow.instance.settings.demo_region:
        demo_region.seed(uow)


def create_demo_consultation(uow: UnitOfWork) -> str | None:
    """An open consultation about the demo measures of the town, unless it has any consultation."""
    town, today = uow.instance.town, uow.instance.today()
    with uow:
        if uow.connection.execute(select(t.consultations.c.id).limit(1)).first():
            return None
        cid = str(uuid.uuid4())
        uow.consultations.add(cid, dict(
            title=f"Klima und Mobilität in {town.name}: Ihre Meinung zählt {demo.DEMO_MARK}",
            description=(
                "Welche Maßnahmen halten Sie für besonders zielführend? Welche Maßnahmen "
                "können Sie unterstützen? Ihre Antworten fließen in die politische "
                "Beratung ein. Dies ist eine Demo-Beteiligung mit Beispieldaten."
            ),
            status="open", starts_on=today - timedelta(days=20), ends_on=today + timedelta(weeks=8),
            created_at=datetime.now(UTC),
        ), [m.code for m in demo.measures_for_town(town.slug)])
        uow.commit()
    return cid


def seed_confirmed_citizens(uow: UnitOfWork, addresses: list[tuple[str, str]],
                            notify_replies: bool = False) -> list[str]:
    """Confirmed citizens without opt-in mails or events, marked as demo: for the demo
    data and the benchmark only (no RPC method offers it). `addresses`: (email, name)."""
    with uow:
        ids = _confirmed_citizens(uow, addresses, notify_replies)
        uow.commit()
    return ids


def _confirmed_citizens(uow: UnitOfWork, addresses: list[tuple[str, str]],
                        notify_replies: bool) -> list[str]:
    now = uow.instance.now()
    rows: list[dict[str, Any]] = [dict(
        id=str(uuid.uuid4()), email=email, email_key=email_key(email),
        postcode=uow.instance.town.postcodes[0], display_name=name, language="de",
        notify_replies=notify_replies, follow_rated=False, registered_at=now, confirmed_at=now,
        demo=True) for email, name in addresses]
    if rows:
        uow.connection.execute(insert(t.citizens), rows)
    return [row["id"] for row in rows]


def create_demo_participation(uow: UnitOfWork) -> bool:
    """Demo citizens (confirmed, addresses under example.org), comments with a reply and
    two ideas on the demo consultation; created once."""
    c, cs, cm = t.citizens, t.consultations, t.consultation_measures
    now, slug = uow.instance.now(), uow.instance.town.slug
    with uow:
        conn = uow.connection
        if conn.execute(select(c.c.id).where(c.c.demo.is_(True)).limit(1)).first():
            return False
        ids = [_confirmed_citizens(uow, [(f"demo-{slug}-{i}@example.org", name)], notify)[0]
               for i, (name, notify) in enumerate(DEMO_CITIZENS, start=1)]
        consultation = conn.execute(
            select(cs.c.id).where(cs.c.title.contains(demo.DEMO_MARK)).order_by(cs.c.created_at).limit(1)
        ).scalar()
        codes = conn.execute(
            select(cm.c.measure_code).where(cm.c.consultation_id == consultation)
            .order_by(cm.c.position).limit(2)
        ).scalars().all() if consultation else []
        for k, code in enumerate(codes):
            first, reply = COMMENTS[k]
            parent_id = str(uuid.uuid4())
            uow.comments.add(parent_id, consultation_id=consultation, measure_code=code,
                             citizen_id=ids[0], body=first, created_at=now - timedelta(hours=2 + k))
            if reply:
                uow.comments.add(str(uuid.uuid4()), consultation_id=consultation, measure_code=code,
                                 citizen_id=ids[1], parent_id=parent_id, body=reply,
                                 created_at=now - timedelta(hours=1))
        for k, (title, description, field, place) in enumerate(IDEAS):
            uow.ideas.add(str(uuid.uuid4()), citizen_id=ids[k + 1], title=f"{title} {demo.DEMO_MARK}",
                          description=description, field_of_action=field, place=place,
                          created_at=now - timedelta(days=1))
        uow.commit()
    return True
