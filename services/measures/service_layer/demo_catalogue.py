"""The demo catalogue (`SOESMART_DEMO`): the measures of `soesmart.demo`, added where missing."""

from __future__ import annotations

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
        uow.commit()
    return len(events)


def _entry(m: demo.DemoMeasure) -> CatalogueEntry:
    return CatalogueEntry.model_validate({
        "code": m.code, "status": m.status, "towns": m.towns,
        **{k: getattr(m, k) for k in CATALOGUE_COLUMNS if k != "towns"},
    })
