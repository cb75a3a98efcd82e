"""Use cases of the catalogue: listing, reading, exporting and republishing measures."""

from __future__ import annotations

from services.measures.adapters.unit_of_work import UnitOfWork
from services.measures.domain.catalogue import found_by, listed_for
from soesmart.contracts import CatalogueItem, CataloguePage, CatalogueQuery


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
