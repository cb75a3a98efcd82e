"""Use cases of the catalogue: listing, reading, exporting and republishing measures, accepted ideas."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from services.measures.adapters import catalogue_io
from services.measures.adapters.catalogue_repository import CATALOGUE_COLUMNS, town_list
from services.measures.adapters.unit_of_work import UnitOfWork
from services.measures.domain.catalogue import found_by, listed_for
from services.measures.domain.model import MeasureNotFound, summary_of
from services.measures.service_layer import measure_story
from soesmart.contracts import (
    MOBILITY_FIELDS,
    CatalogueEntry,
    CatalogueItem,
    CataloguePage,
    CatalogueQuery,
    IdeaAccepted,
    MeasureDetail,
    MeasurePublished,
    MeasureStatus,
    MeasureSummary,
    Programme,
    Source,
    StatusEntry,
    idea_measure_code,
)
from soesmart.geo import canonical_text, from_text
from soesmart.towns import UnknownTown, towns

SOURCE = Source(service="measures")


def list_catalogue(query: CatalogueQuery, uow: UnitOfWork) -> CataloguePage:
    """One page of the measures that match the query's filters, in code order."""
    with uow:
        measures = uow.catalogue.listing(
            programme=query.programme.value if query.programme else None,
            field_of_action=query.field_of_action,
            status=query.status.value if query.status else None,
        )
    matching = [m for m in measures
                if listed_for(query.town, m.towns) and found_by(query.q, m.code, m.title)]
    page = matching[query.offset:query.offset + query.limit]
    return CataloguePage(
        items=tuple(CatalogueItem.model_validate(m, from_attributes=True) for m in page),
        total=len(matching), limit=query.limit, offset=query.offset,
    )


def list_measures(uow: UnitOfWork) -> list[MeasureSummary]:
    with uow:
        rows = uow.catalogue.all()
    return [
        MeasureSummary(
            code=r["code"], title=r["title"], summary=r["summary"], programme=r["programme"],
            field_of_action=r["field_of_action"], status=r["status"],
        )
        for r in rows
    ]


def get_measure(code: str, uow: UnitOfWork) -> MeasureDetail:
    with uow:
        r = uow.catalogue.get(code)
        if r is None:
            raise MeasureNotFound(f"Maßnahme {code} ist nicht im Katalog.")
        history = uow.catalogue.history(code)
        consultations = measure_story.asked_in(code, uow)
    return MeasureDetail(
        code=r["code"], title=r["title"], summary=r["summary"], programme=r["programme"],
        field_of_action=r["field_of_action"], status=r["status"],
        towns=town_list(r["towns"]), revision=r["revision"],
        description=r["description"], co2_saving_t_per_year=r["co2_saving_t_per_year"],
        cost_class=r["cost_class"], responsible_body=r["responsible_body"], place=r["place"],
        geometry=from_text(r["geometry"]), asked_in=consultations,
        history=tuple(
            StatusEntry(status=h["status"], note=h["note"], changed_by=h["changed_by"],
                        changed_at=h["changed_at"], progress=h["progress"])
            for h in history
        ),
    )


def export_catalogue(fmt: str, uow: UnitOfWork) -> str:
    """The whole catalogue as a file that `import_catalogue` takes back unchanged."""
    with uow:
        rows = uow.catalogue.all()
    return catalogue_io.write([entry_of(r) for r in rows], fmt)


def republish_catalogue(uow: UnitOfWork) -> int:
    """Publish every measure's snapshot again (e.g. for a new town's replica)."""
    with uow:
        events = [published_event(r) for r in uow.catalogue.all()]
        uow.add_events(events)
        uow.commit()
    return len(events)


def accept_idea(event: IdeaAccepted, uow: UnitOfWork) -> MeasurePublished | None:
    """Add a town's accepted idea to the catalogue as a proposed measure, announced to all towns.

    The code comes from the idea (`idea_measure_code`), so a redelivered event, or
    one that arrives after the measure was edited, finds the code taken and
    changes nothing (returns None).
    """
    code = idea_measure_code(event.town, event.idea_id)
    town_name = _town_name(event.town)
    entry = CatalogueEntry(
        code=code, title=event.title, summary=summary_of(event.description),
        description=event.description, programme=programme_for_field(event.field_of_action),
        field_of_action=event.field_of_action, towns=(event.town,),
        status=MeasureStatus.PROPOSED, responsible_body="", place=event.place or None,
    )
    with uow:
        if uow.catalogue.exists(code):
            return None
        values = row_values(entry)
        if not uow.catalogue.add_if_absent(
                code, MeasureStatus.PROPOSED.value, values, f"Bürgerbeteiligung {town_name}",
                f"Idee aus der Bürgerbeteiligung {town_name}", None, datetime.now(UTC)):
            return None  # added by a concurrent delivery of the same event
        published = published_event(
            {"code": code, "status": MeasureStatus.PROPOSED.value, "revision": 1, **values})
        uow.add_events([published])
        uow.commit()
    return published


def programme_for_field(field_of_action: str) -> Programme:
    """The plan an accepted idea joins: the traffic plan for mobility, else the climate plan."""
    if field_of_action in MOBILITY_FIELDS:
        return Programme.VEP_KLIMA_PLUS
    return Programme.MASTERPLAN_KLIMAPAKT


def add_measure(uow: UnitOfWork, entry: CatalogueEntry, who: str, note: str,
                progress: int | None = None) -> MeasurePublished:
    """Store a new measure (revision 1, first status entry); returns its announcement."""
    status = (entry.status or MeasureStatus.PROPOSED).value
    values = row_values(entry)
    uow.catalogue.add(entry.code, status, values, who, note, progress, datetime.now(UTC))
    return published_event({"code": entry.code, "status": status, "revision": 1, **values})


def row_values(entry: CatalogueEntry) -> dict[str, Any]:
    """The catalogue columns of an entry, as stored."""
    return {
        "title": entry.title, "summary": entry.summary, "description": entry.description,
        "programme": entry.programme.value, "field_of_action": entry.field_of_action,
        "towns": ",".join(entry.towns),
        "co2_saving_t_per_year": (
            round(entry.co2_saving_t_per_year, 3) if entry.co2_saving_t_per_year is not None
            else None
        ),
        "cost_class": entry.cost_class.value if entry.cost_class else None,
        "responsible_body": entry.responsible_body, "place": entry.place or None,
        "geometry": canonical_text(entry.geometry),
    }


def entry_of(r: Mapping[str, Any]) -> CatalogueEntry:
    return CatalogueEntry.model_validate({
        "code": r["code"], "status": r["status"], **{k: r[k] for k in CATALOGUE_COLUMNS},
        "towns": town_list(r["towns"]), "geometry": from_text(r["geometry"]),
    })


def published_event(r: Mapping[str, Any]) -> MeasurePublished:
    """The announcement of a measure's snapshot, from its stored columns."""
    return MeasurePublished(
        source=SOURCE, code=r["code"], title=r["title"], summary=r["summary"],
        programme=r["programme"], field_of_action=r["field_of_action"],
        status=r["status"], towns=town_list(r["towns"]), revision=r["revision"],
        description=r["description"], co2_saving_t_per_year=r["co2_saving_t_per_year"],
        cost_class=r["cost_class"], responsible_body=r["responsible_body"], place=r["place"],
        geometry=from_text(r["geometry"]),
    )


def _town_name(slug: str) -> str:
    try:
        return towns().get(slug).name
    except UnknownTown:
        return slug
