"""Importing a catalogue file: every row checked, then all of it applied in one transaction."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from services.measures.adapters import catalogue_io
from services.measures.adapters.catalogue_repository import CATALOGUE_COLUMNS
from services.measures.adapters.unit_of_work import UnitOfWork
from services.measures.domain.model import ImportRefused, problem
from services.measures.service_layer.catalogue import add_measure, published_event, row_values
from soesmart.contracts import CatalogueEntry, ImportReport
from soesmart.geo import GeometryError, check_inside
from soesmart.towns import towns

# Pydantic's error types, as a coordinator reads them in an import report.
PROBLEM_TEXTS = {
    "missing": "Pflichtangabe fehlt",
    "string_too_short": "zu kurz",
    "string_too_long": "zu lang",
    "string_pattern_mismatch": "ungültiges Format (Beispiel für einen Code: VEP-RAD-12)",
    "float_parsing": "keine Zahl",
    "float_type": "keine Zahl",
    "greater_than_equal": "darf nicht negativ sein",
    "less_than_equal": "zu groß",
    "extra_forbidden": "unbekannte Spalte",
    "string_type": "Text erwartet",
    "tuple_type": "Liste von Städten erwartet",
}


def import_catalogue(content: str, fmt: str, imported_by: str, uow: UnitOfWork) -> ImportReport:
    """Check every row of a catalogue file, then apply all of it in one transaction.

    A file with any problem is refused whole (`ImportRefused` names row, column
    and problem of each). A row equal to the catalogue changes nothing, so the
    same file imported twice gives no new revision and no event.
    """
    raw_rows = catalogue_io.read(content, fmt)
    registry = towns()
    # A file without the geometry column (made before there was one) keeps the stored ones.
    keeps_geometry = {raw.row for raw in raw_rows if "geometry" not in raw.columns}
    by_name = {town.name.casefold(): town.slug for town in registry} | {
        town.slug: town.slug for town in registry
    }
    with uow:
        stored = {r["code"]: r for r in uow.catalogue.all()}
        problems: list[dict[str, object]] = []
        entries: list[CatalogueEntry] = []
        first_row: dict[str, int] = {}
        kept: set[str] = set()
        for raw in raw_rows:
            entry = _check_row(raw, stored, by_name, first_row, problems)
            if entry is not None and entry.geometry is not None:
                try:
                    check_inside(entry.geometry, registry.region_bbox)
                except GeometryError as exc:
                    problems.append(problem(raw.row, raw.columns["geometry"], str(exc)))
                    entry = None
            if entry is not None:
                entries.append(entry)
                if raw.row in keeps_geometry:
                    kept.add(entry.code)
        if not raw_rows:
            problems.append(problem(0, "", "die Datei enthält keine Maßnahmen"))
        if problems:
            raise ImportRefused(
                f"Die Datei wurde nicht übernommen: {len(problems)} Problem(e). "
                "Bitte korrigieren Sie die genannten Zeilen und laden Sie sie erneut hoch.",
                problems,
            )
        created, updated, events = [], [], []
        for entry in entries:
            row = stored.get(entry.code)
            if row is None:
                events.append(add_measure(uow, entry, imported_by, "Import"))
                created.append(entry.code)
                continue
            values = row_values(entry)
            if entry.code in kept:
                values["geometry"] = row["geometry"]
            if _same_catalogue_values(row, values):
                continue
            revision = row["revision"] + 1
            uow.catalogue.revise(entry.code, revision, values, datetime.now(UTC))
            events.append(published_event(
                {"code": entry.code, "status": row["status"], "revision": revision, **values}))
            updated.append(entry.code)
        uow.add_events(events)
        uow.commit()
    return ImportReport(rows=len(entries), created=tuple(created), updated=tuple(updated),
                        unchanged=len(entries) - len(created) - len(updated))


def _same_catalogue_values(row: Mapping[str, Any], values: dict[str, Any]) -> bool:
    for name in CATALOGUE_COLUMNS:
        stored, new = row[name], values[name]
        if name == "co2_saving_t_per_year" and stored is not None and new is not None:
            if abs(float(stored) - new) > 1e-6:
                return False
        elif (stored or None) != (new or None):
            return False
    return True


def _check_row(raw: catalogue_io.RawRow, stored: dict[str, Any], by_name: dict[str, str],
               first_row: dict[str, int], problems: list[dict[str, object]]
               ) -> CatalogueEntry | None:
    if raw.values.get("_not_an_object"):
        problems.append(problem(raw.row, "", "Eintrag ist kein Objekt"))
        return None
    values = dict(raw.values)
    extra = values.pop("_extra_cells", 0)
    if extra:
        problems.append(problem(raw.row, "", f"{extra} Zelle(n) mehr als Spalten"))
    before = len(problems)
    towns_given = values.get("towns") or []
    if isinstance(towns_given, list | tuple):
        slugs = []
        for name in towns_given:
            slug = by_name.get(str(name).strip().casefold())
            if slug is None:
                problems.append(problem(raw.row, raw.columns.get("towns", "towns"),
                                        f"unbekannte Stadt „{name}“"))
            else:
                slugs.append(slug)
        values["towns"] = tuple(dict.fromkeys(slugs))
    try:
        entry = CatalogueEntry.model_validate(values)
    except ValidationError as exc:
        for error in exc.errors():
            key = str(error["loc"][0]) if error["loc"] else ""
            problems.append(problem(raw.row, raw.columns.get(key, key), _problem_text(error)))
        return None
    if len(problems) > before:
        return None
    code_column = raw.columns.get("code", "code")
    if entry.code in first_row:
        problems.append(problem(raw.row, code_column,
                                f"Code doppelt (schon in Zeile {first_row[entry.code]})"))
        return None
    first_row[entry.code] = raw.row
    current = stored.get(entry.code)
    if current is not None and entry.status is not None and entry.status.value != current["status"]:
        problems.append(problem(
            raw.row, raw.columns.get("status", "status"),
            f"Status weicht vom Katalog ab (dort: {current['status']}); den Status ändert "
            "die Koordination mit Vermerk über die Statusänderung, nicht per Import",
        ))
        return None
    return entry


def _problem_text(error: Any) -> str:
    kind = error["type"]
    if kind == "enum":
        return f"unbekannter Wert „{error['input']}“; erlaubt: {error['ctx']['expected']}"
    if kind == "value_error":
        return str(error["msg"]).removeprefix("Value error, ")
    return PROBLEM_TEXTS.get(kind, error["msg"])
