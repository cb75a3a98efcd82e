"""CSV for German spreadsheets: UTF-8 with BOM, `;` between cells, CRLF, decimal comma.

One format for every file people open in Excel or LibreOffice: the catalogue and the
regional results (measures) and the towns' results (participation).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from soesmart.i18n import format_number

BOM = "\ufeff"


def format_decimal(value: float | None, places: int = 3) -> str:
    """12.5 -> '12,5'; None -> ''."""
    return format_number(value, "de", grouping=False, max_places=places)


def csv_text(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Any table as CSV for German spreadsheets (BOM, `;`, CRLF)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return BOM + out.getvalue()
