"""Changing a measure's status: checked against the allowed steps, kept in its history, announced."""

from __future__ import annotations

from datetime import UTC, datetime

from services.measures.adapters.catalogue_repository import town_list
from services.measures.adapters.unit_of_work import UnitOfWork
from services.measures.domain.model import MeasureNotFound, check_transition
from services.measures.service_layer.catalogue import SOURCE
from soesmart.contracts import ChangeMeasureStatus, MeasureStatus, MeasureStatusChanged, Programme


def change_status(cmd: ChangeMeasureStatus, uow: UnitOfWork) -> MeasureStatusChanged:
    with uow:
        row = uow.catalogue.get(cmd.code, for_update=True)
        if row is None:
            raise MeasureNotFound(f"Maßnahme {cmd.code} ist nicht im Katalog.")
        old = MeasureStatus(row["status"])
        check_transition(old, cmd.status)
        revision = row["revision"] + 1
        now = datetime.now(UTC)
        uow.catalogue.set_status(cmd.code, cmd.status.value, revision, now)
        uow.catalogue.add_history(cmd.code, cmd.status.value, cmd.note, cmd.progress,
                                  cmd.changed_by, now)
        event = MeasureStatusChanged(
            source=SOURCE, code=cmd.code, title=row["title"],
            programme=Programme(row["programme"]), field_of_action=row["field_of_action"],
            towns=town_list(row["towns"]), old_status=old,
            new_status=cmd.status, note=cmd.note, progress=cmd.progress,
            changed_by=cmd.changed_by, revision=revision,
        )
        uow.add_events([event])
        uow.commit()
    return event
