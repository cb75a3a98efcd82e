"""The demo catalogue (`SOESMART_DEMO`): the measures of `soesmart.demo`, added where missing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import insert

from services.measures.adapters import tables as t
from services.measures.adapters.catalogue_repository import CATALOGUE_COLUMNS
from services.measures.adapters.unit_of_work import UnitOfWork
from services.measures.service_layer.catalogue import add_measure
from soesmart import demo
from soesmart.contracts import CatalogueEntry


def load_demo_catalogue(uow: UnitOfWork) -> int:
    """Add the demo measures that are missing; returns how many were added.

    Measures already there are left alone (a coordinator may have edited them).
    The featured ones come first, so the towns' demo consultations fill first.
    """
    catalogue = demo.demo_catalogue()
    with uow:
        existing = uow.catalogue.codes()
        events = [
            add_measure(uow, _entry(m), "Demo", "Demo-Katalog angelegt", m.progress)
            for m in catalogue if m.code not in existing
        ]
        uow.add_events(events)
        _earlier_steps(uow, [m for m in catalogue if m.code not in existing])
        uow.commit()
    return len(events)


# The steps before a decided, started or finished demo measure's status: (status, days
# before now, note); each measure's story then reads like one through the real process.
STEPS = (("proposed", 420, "Vorschlag aus dem Plan (Demo)"),
         ("in_consultation", 110, "In der Bürgerbeteiligung der Städte (Demo)"),
         ("decided", 55, "Ratsbeschluss (Demo)"),
         ("in_implementation", 20, "Bau und Einführung begonnen (Demo)"))
ORDER = [s for s, _, _ in STEPS] + ["implemented"]


def _earlier_steps(uow: UnitOfWork, added: list[demo.DemoMeasure]) -> None:
    now, rows = datetime.now(UTC), []
    for m in added:
        if m.status not in ("decided", "in_implementation", "implemented"):
            continue
        for status, days, note in STEPS:
            if ORDER.index(status) >= ORDER.index(m.status):
                break
            rows.append(dict(measure_code=m.code, status=status, note=note, changed_by="Demo",
                             progress=10 if status == "in_implementation" else None,
                             changed_at=now - timedelta(days=days)))
    if rows:
        uow.connection.execute(insert(t.status_history), rows)


def _entry(m: demo.DemoMeasure) -> CatalogueEntry:
    return CatalogueEntry.model_validate({
        "code": m.code, "status": m.status, "towns": m.towns,
        **{k: getattr(m, k) for k in CATALOGUE_COLUMNS if k != "towns"},
    })
