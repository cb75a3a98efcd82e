"""Catalogue files: CSV for German spreadsheets and JSON, read into rows and written from entries.

CSV as German spreadsheet programs read and write it: UTF-8 with a byte order
mark (without it Excel guesses a Windows code page), `;` between cells, decimal
comma. Reading is lenient where spreadsheets differ (`,` or `;`, decimal point or
comma, German or English headers); checking the values is the handler's job.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from typing import Any

from services.measures.domain.model import ImportRefused, problem
from soesmart.contracts import CatalogueEntry
from soesmart.geo import canonical_text
from soesmart.spreadsheet import BOM, csv_text, format_decimal

MAX_ROWS = 5000

# Column key -> header in exported CSV files (German: the file is for people).
CSV_HEADERS: dict[str, str] = {
    "code": "Code",
    "title": "Titel",
    "summary": "Kurzbeschreibung",
    "description": "Beschreibung",
    "programme": "Programm",
    "field_of_action": "Handlungsfeld",
    "towns": "Städte",
    "status": "Status",
    "co2_saving_t_per_year": "CO2-Einsparung (t/a)",
    "cost_class": "Kostenklasse",
    "responsible_body": "Zuständig",
    "place": "Ort",
    "geometry": "Geometrie (GeoJSON)",
}
REQUIRED = ("code", "title", "programme", "field_of_action")
_HEADER_KEYS = {h.casefold(): k for k, h in CSV_HEADERS.items()} | {k: k for k in CSV_HEADERS}
OPTIONAL_VALUES = {"status", "co2_saving_t_per_year", "cost_class", "place", "geometry"}


@dataclass(frozen=True)
class RawRow:
    """One record as found in the file; `row` is what a spreadsheet shows (header = 1)."""

    row: int
    values: dict[str, Any]
    columns: dict[str, str]  # field key -> column name as written in the file


def parse_decimal(text: str) -> float:
    """'12,5', '12.5' and '1.234,5' are all numbers to a German spreadsheet."""
    value = text.strip().replace("\u00a0", "").replace(" ", "")
    if "," in value:
        value = value.replace(".", "").replace(",", ".")
    return float(value)


def _split_towns(text: str) -> list[str]:
    return [t.strip() for t in text.replace(";", ",").split(",") if t.strip()]


def read_csv(text: str) -> list[RawRow]:
    text = text.removeprefix(BOM)
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") >= first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise ImportRefused("Die Datei ist leer.", [problem(1, "", "keine Kopfzeile")]) from None
    keys: list[str | None] = []
    problems = []
    for name in header:
        key = _HEADER_KEYS.get(name.strip().casefold())
        if key is None and name.strip():
            problems.append(problem(1, name, "unbekannte Spalte"))
        keys.append(key)
    for key in REQUIRED:
        if key not in keys:
            problems.append(problem(1, CSV_HEADERS[key], "Pflichtspalte fehlt"))
    if problems:
        raise ImportRefused("Die Kopfzeile der Datei passt nicht zum Katalog.", problems)
    columns = {k: header[i].strip() for i, k in enumerate(keys) if k}
    rows: list[RawRow] = []
    for number, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue  # spreadsheets leave empty lines at the end
        values: dict[str, Any] = {}
        for key, cell in zip(keys, cells, strict=False):
            if key is None:
                continue
            cell = cell.strip()
            if key == "towns":
                values[key] = _split_towns(cell)
            elif key in OPTIONAL_VALUES and not cell:
                values[key] = None
            elif key == "co2_saving_t_per_year":
                try:
                    values[key] = parse_decimal(cell)
                except ValueError:
                    values[key] = cell  # left for validation to name
            else:
                values[key] = cell
        if len(cells) > len(keys):
            values["_extra_cells"] = len(cells) - len(keys)
        rows.append(RawRow(number, values, columns))
        if len(rows) > MAX_ROWS:
            raise ImportRefused(f"Höchstens {MAX_ROWS} Zeilen je Datei.",
                                [problem(number, "", "zu viele Zeilen")])
    return rows


def read_json(text: str) -> list[RawRow]:
    try:
        data = json.loads(text.removeprefix(BOM))
    except json.JSONDecodeError as exc:
        raise ImportRefused("Die Datei ist kein gültiges JSON.",
                            [problem(exc.lineno, "", f"kein JSON: {exc.msg}")]) from None
    items = data.get("measures") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise ImportRefused('Erwartet wird eine Liste von Maßnahmen oder {"measures": [...]}.',
                            [problem(0, "", "keine Liste von Maßnahmen")])
    if len(items) > MAX_ROWS:
        raise ImportRefused(f"Höchstens {MAX_ROWS} Zeilen je Datei.",
                            [problem(MAX_ROWS + 1, "", "zu viele Zeilen")])
    rows = []
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            rows.append(RawRow(number, {"_not_an_object": True}, {}))
            continue
        values = dict(item)
        co2 = values.get("co2_saving_t_per_year")
        if isinstance(co2, str):
            try:
                values["co2_saving_t_per_year"] = parse_decimal(co2) if co2.strip() else None
            except ValueError:
                pass  # left for validation to name
        if isinstance(values.get("towns"), str):
            values["towns"] = _split_towns(values["towns"])
        rows.append(RawRow(number, values, {k: k for k in values}))
    return rows


def read(content: str, fmt: str) -> list[RawRow]:
    if fmt == "csv":
        return read_csv(content)
    if fmt == "json":
        return read_json(content)
    raise ImportRefused("Unbekanntes Dateiformat.", [problem(0, "", "Format muss csv oder json sein")])


# ---------------------------------------------------------------------- writing
def _cell(entry: CatalogueEntry, key: str) -> str:
    value = getattr(entry, key)
    if key == "towns":
        return ", ".join(value)
    if key == "co2_saving_t_per_year":
        return format_decimal(value)
    if key == "geometry":
        return canonical_text(value) or ""
    if value is None:
        return ""
    return str(value.value if hasattr(value, "value") else value)


def write_csv(entries: list[CatalogueEntry]) -> str:
    return csv_text(list(CSV_HEADERS.values()),
                    [[_cell(entry, key) for key in CSV_HEADERS] for entry in entries])


def write_json(entries: list[CatalogueEntry]) -> str:
    return json.dumps({"measures": [e.model_dump(mode="json") for e in entries]},
                      ensure_ascii=False, indent=1)


def write(entries: list[CatalogueEntry], fmt: str) -> str:
    return write_csv(entries) if fmt == "csv" else write_json(entries)
