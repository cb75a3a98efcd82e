"""The combined results and the participation per day as CSV files for German spreadsheets."""

from __future__ import annotations

from datetime import date
from typing import Any

from services.measures.adapters.unit_of_work import UnitOfWork
from services.measures.domain.model import effectiveness_mean, support_share
from services.measures.service_layer.regional_results import (
    add_counters,
    participation_per_day,
    zero,
)
from services.measures.service_layer.results_cache import ResultsCache
from soesmart.i18n import format_date
from soesmart.spreadsheet import csv_text, format_decimal
from soesmart.towns import towns

PARTICIPATION_CSV_HEADER = (
    "Tag", "Stadt", "Neue Teilnehmende", "Bewertungen", "Kommentare", "Ideen",
)

RESULTS_CSV_HEADER = (
    "Code", "Maßnahme", "Stadt", "Antworten", "Wirksamkeit (Mittelwert 1–5)",
    "Wirksamkeit 1", "Wirksamkeit 2", "Wirksamkeit 3", "Wirksamkeit 4", "Wirksamkeit 5",
    "Ja", "Eher ja", "Eher nein", "Nein", "Zustimmung (%)", "davon auf Papier",
)


def participation_csv(uow: UnitOfWork, cache: ResultsCache, since: date | None = None,
                      town: str | None = None) -> str:
    """Participation per town and day for German spreadsheets, oldest day first."""
    names = {x.slug: x.name for x in towns()}
    rows = [
        [format_date(d.day, "de", "medium"), names.get(d.town, d.town), str(d.citizens),
         str(d.ratings), str(d.comments), str(d.ideas)]
        for d in participation_per_day(uow, cache, since, town).days
    ]
    return csv_text(PARTICIPATION_CSV_HEADER, rows)


def results_csv(uow: UnitOfWork, cache: ResultsCache) -> str:
    """Combined results for German spreadsheets: a region row and a row per town."""
    return cache.get(("csv",), lambda: _results_csv(uow))


def _results_csv(uow: UnitOfWork) -> str:
    with uow:
        titles, rows = uow.results.titles(), uow.results.tallies()
    per_measure: dict[str, dict[str, dict[str, int]]] = {}
    for r in rows:
        per_measure.setdefault(r["measure_code"], {})[r["town"]] = dict(r)
    names = {town.slug: town.name for town in towns()}
    table = []
    for code in sorted(per_measure):
        total = zero()
        for counters in per_measure[code].values():
            add_counters(total, counters)
        table.append(_csv_row(code, titles.get(code, code), "Region (gesamt)", total))
        for slug in sorted(per_measure[code], key=lambda s: names.get(s, s)):
            table.append(_csv_row(code, titles.get(code, code), names.get(slug, slug),
                                  per_measure[code][slug]))
    return csv_text(RESULTS_CSV_HEADER, table)


def _csv_row(code: str, title: str, place: str, c: Any) -> list[str]:
    _, share = support_share(c)
    mean = effectiveness_mean(c)
    return [
        code, title, place, str(c["answers"]),
        format_decimal(round(mean, 2) if mean is not None else None),
        *(str(c[f"eff_{i}"]) for i in range(1, 6)),
        str(c["sup_yes"]), str(c["sup_rather_yes"]), str(c["sup_rather_no"]), str(c["sup_no"]),
        format_decimal(round(100 * share, 1) if share is not None else None),
        str(c["paper_answers"]),
    ]
