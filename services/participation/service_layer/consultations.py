"""Consultations of the town: create and edit them, move them through their phases, and the
calendar that says "closes in 3 days" and closes them past their end date."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from services.participation.adapters.unit_of_work import UnitOfWork
from services.participation.domain.model import (
    MILESTONE_OF_PHASE,
    Consultation,
    InvalidInput,
    MeasureUnknown,
    as_id,
    check_dates,
)
from services.participation.service_layer import wire
from soesmart.contracts import (
    CLIMATE_FIELDS,
    MOBILITY_FIELDS,
    ChangeConsultationPhase,
    ConsultationMilestone,
    ConsultationView,
    CreateConsultation,
    UpdateConsultation,
)


def list_consultations(uow: UnitOfWork, include_drafts: bool = False) -> list[ConsultationView]:
    with uow:
        return [_view(uow, row) for row in uow.consultations.rows(include_drafts=include_drafts)]


def open_consultations(uow: UnitOfWork) -> list[ConsultationView]:
    with uow:
        return [_view(uow, row) for row in uow.consultations.rows(only_open=True)]


def consultation(cid: uuid.UUID | str, uow: UnitOfWork) -> ConsultationView:
    cid = as_id(cid, "consultation_id")
    with uow:
        return _view(uow, uow.consultations.row(cid))


def _view(uow: UnitOfWork, row: Any) -> ConsultationView:
    return wire.consultation_view(uow.instance.town.slug, row, uow.consultations.measures_of(row["id"]))


def create_consultation(cmd: CreateConsultation, uow: UnitOfWork) -> ConsultationView:
    """A new consultation in draft with the measures it asks about."""
    cid = str(uuid.uuid4())
    with uow:
        codes = _select_measures(uow, [p.value for p in cmd.programmes], cmd.fields_of_action,
                                 cmd.measure_codes)
        uow.consultations.add(cid, dict(title=cmd.title, description=cmd.description, status="draft",
                                        starts_on=cmd.starts_on, ends_on=cmd.ends_on,
                                        created_at=uow.instance.now()), codes)
        uow.commit()
    return consultation(cid, uow)


def update_consultation(cmd: UpdateConsultation, uow: UnitOfWork) -> ConsultationView:
    """Texts and dates while draft or open; the measures only while draft.

    Given any of programmes, fields of action or measure codes, the selection is
    made anew from those given (the others count as empty).
    """
    cid = str(cmd.consultation_id)
    changes_measures = any(x is not None for x in (cmd.programmes, cmd.fields_of_action,
                                                   cmd.measure_codes))
    with uow:
        current = uow.consultations.get(cid, lock=True)
        current.check_editable(changes_measures)
        starts_on = cmd.starts_on or current.starts_on
        ends_on = cmd.ends_on or current.ends_on
        check_dates(starts_on, ends_on)
        values: dict[str, Any] = {"starts_on": starts_on, "ends_on": ends_on}
        if cmd.title is not None:
            values["title"] = cmd.title
        if cmd.description is not None:
            values["description"] = cmd.description
        uow.consultations.change(cid, **values)
        if changes_measures:
            codes = _select_measures(uow, [p.value for p in cmd.programmes or ()],
                                     cmd.fields_of_action or (), cmd.measure_codes or ())
            uow.consultations.set_measures(cid, codes)
        uow.commit()
    return consultation(cid, uow)


def _select_measures(uow: UnitOfWork, programmes: Iterable[str], fields: Iterable[str],
                     codes: Iterable[str]) -> list[str]:
    """Single measures (any in the catalogue copy) plus whole programmes and fields of
    action (the measures of this town and the region-wide ones)."""
    programmes, fields, codes = set(programmes), set(fields), list(dict.fromkeys(codes))
    unknown_fields = sorted(fields - set(MOBILITY_FIELDS + CLIMATE_FIELDS))
    if unknown_fields:
        raise InvalidInput("Die Angaben sind ungültig.", [
            {"field": "fields_of_action", "problem": f"unknown field of action '{f}'"}
            for f in unknown_fields])
    rows = list(uow.consultations.catalogue())
    known = {r.code for r in rows}
    missing = [code for code in codes if code not in known]
    if missing:
        raise MeasureUnknown(
            "Diese Maßnahmen sind nicht im Katalog: " + ", ".join(missing),
            [{"field": "measure_codes", "problem": "not in the catalogue", "code": code}
             for code in missing])
    town, picked = uow.instance.town.slug, set()
    for r in rows:
        for_town = not r.towns.split() or town in r.towns.split()
        if for_town and (r.programme in programmes or r.field_of_action in fields):
            picked.add(r.code)
    # single measures in the order given, then the picked ones by code
    return codes + sorted(picked - set(codes))


def change_consultation_phase(cmd: ChangeConsultationPhase, uow: UnitOfWork) -> ConsultationView:
    """draft -> open -> closed -> results_published; each step is a milestone event."""
    cid = str(cmd.consultation_id)
    with uow:
        current = uow.consultations.get(cid, lock=True)
        current.check_phase_change(cmd.phase, uow.instance.today())
        if cmd.phase == "open":
            current.check_no_overlap([uow.consultations.get(o)
                                      for o in uow.consultations.open_ids(other_than=cid)])
        uow.consultations.change(cid, status=cmd.phase)
        _milestone(uow, current, MILESTONE_OF_PHASE[cmd.phase], cmd.actor)
        uow.commit()
    return consultation(cid, uow)


def _milestone(uow: UnitOfWork, consultation: Consultation, milestone: str, actor: str) -> bool:
    """Record a milestone once and tell the others; False if it was recorded before."""
    instance = uow.instance
    if not uow.consultations.record_milestone(consultation.id, milestone, instance.now(), actor):
        return False
    uow.add_events([ConsultationMilestone(
        source=instance.source, town=instance.town.slug, consultation_id=uuid.UUID(consultation.id),
        milestone=milestone,  # type: ignore[arg-type]
        title=consultation.title, starts_on=consultation.starts_on.isoformat(),
        ends_on=consultation.ends_on.isoformat(),
        measure_codes=tuple(sorted(consultation.measure_codes)),
    )])
    return True


def check_consultations(uow: UnitOfWork) -> list[tuple[str, str]]:
    """Close open consultations whose end date has passed; say "closes soon" once.

    Returns the (consultation id, milestone) pairs announced.
    """
    today, announced = uow.instance.today(), []
    with uow:
        for cid in uow.consultations.open_ids():
            current = uow.consultations.get(cid, lock=True)
            if current.is_over(today):
                uow.consultations.change(cid, status="closed")
                if _milestone(uow, current, "closed", "system"):
                    announced.append((cid, "closed"))
            elif current.closes_soon(today):
                if _milestone(uow, current, "closing_soon", "system"):
                    announced.append((cid, "closing_soon"))
        uow.commit()
    return announced
