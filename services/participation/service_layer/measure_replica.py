"""The town's local copy of the regional catalogue, kept from the measures service's events:
citizens read and rate while the regional services are down."""

from __future__ import annotations

from services.participation.adapters.unit_of_work import UnitOfWork
from soesmart.contracts import Event, MeasurePublished, MeasureStatusChanged
from soesmart.geo import canonical_text


def apply_measure_event(event: Event, uow: UnitOfWork) -> bool:
    """Keep the local copy of the catalogue; the highest revision wins. True if it changed."""
    if not isinstance(event, (MeasurePublished, MeasureStatusChanged)):
        return False
    with uow:
        if not uow.replica.claim(event):
            return False
        row = uow.replica.get(event.code)
        changed = row is None or row["revision"] < event.revision
        if changed and isinstance(event, MeasurePublished):
            values = dict(
                title=event.title, summary=event.summary, programme=event.programme.value,
                field_of_action=event.field_of_action, status=event.status.value,
                revision=event.revision, towns=" ".join(event.towns),
                geometry=canonical_text(event.geometry),
            )
            if row is None:
                uow.replica.add(event.code, **values)
            else:
                uow.replica.change(event.code, **values)
        elif changed and row is not None and isinstance(event, MeasureStatusChanged):
            uow.replica.change(event.code, status=event.new_status.value, revision=event.revision)
        else:
            # stale, or the status of a measure this town has not seen yet (its snapshot
            # follows): only the claim is kept, so a redelivery is skipped
            changed = False
        uow.commit()
    return changed
