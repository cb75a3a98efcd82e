"""A CSV file of scanned paper sheets: every row checked, then all of it in one transaction.

One answer a row: `Bogen;Code;Wirksamkeit;Unterstützung` (UTF-8, `;` or `,`, a BOM is
fine). Effectiveness 1–5, support 1–4 or "ja", "eher ja", "eher nein", "nein"; either
may be empty, not both. A file with any problem is refused whole, each problem named
by row (the spreadsheet's, the header is row 1) and column; nothing is written.
"""

from __future__ import annotations

import csv
import io
import uuid

from services.participation.adapters.unit_of_work import UnitOfWork
from services.participation.domain.errors import PaperImportInvalid
from services.participation.domain.paper import (
    SheetAnswer,
    check_takes_sheets,
    parse_effectiveness,
    parse_support,
)
from services.participation.service_layer.paper import batch_events, rating_row
from soesmart.contracts import SHEET_NUMBER_MAX, ImportPaperSheets, PaperImportReport

COLUMNS = {"bogen": "sheet", "sheet": "sheet", "code": "code", "maßnahme": "code",
           "wirksamkeit": "effectiveness", "effectiveness": "effectiveness",
           "unterstützung": "support", "unterstuetzung": "support", "support": "support"}
HEADERS = {"sheet": "Bogen", "code": "Code", "effectiveness": "Wirksamkeit", "support": "Unterstützung"}


def _problem(row: int, column: str, text: str) -> dict[str, object]:
    return {"row": row, "column": column, "problem": text}


def _refuse(problems: list[dict[str, object]]) -> PaperImportInvalid:
    return PaperImportInvalid(
        f"Die Datei wurde nicht übernommen: {len(problems)} Problem(e); nichts wurde gespeichert.",
        problems[:200])


def read_sheets(text: str, codes: frozenset[str]) -> dict[int, list[tuple[int, SheetAnswer]]]:
    """sheet number -> (row, answer) of each answer; raises PaperImportInvalid."""
    text = text.removeprefix("\ufeff")
    first = text.split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=";" if first.count(";") >= first.count(",")
                        else ",")
    header = next(reader, None)
    if header is None:
        raise _refuse([_problem(1, "", "die Datei ist leer")])
    keys = [COLUMNS.get(h.strip().casefold()) for h in header]
    problems = [_problem(1, HEADERS[k], "Pflichtspalte fehlt") for k in HEADERS if k not in keys]
    problems += [_problem(1, h, "unbekannte Spalte") for h, k in zip(header, keys, strict=True)
                 if k is None and h.strip()]
    if problems:
        raise _refuse(problems)
    sheets: dict[int, list[tuple[int, SheetAnswer]]] = {}
    seen: dict[tuple[int, str], int] = {}
    for number, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        cell = {k: (cells[i].strip() if i < len(cells) else "") for i, k in enumerate(keys) if k}
        sheet = _sheet_number(cell["sheet"])
        if sheet is None:
            problems.append(_problem(number, "Bogen", f"eine Bogennummer von 1 bis {SHEET_NUMBER_MAX}"))
        code = cell["code"]
        if code not in codes:
            problems.append(_problem(number, "Code",
                                     f"{code or '(leer)'} gehört nicht zu dieser Beteiligung"))
        try:
            effectiveness = parse_effectiveness(cell["effectiveness"])
        except ValueError:
            problems.append(_problem(number, "Wirksamkeit", "1 bis 5 oder leer"))
            effectiveness = None
        try:
            support = parse_support(cell["support"])
        except ValueError:
            problems.append(_problem(number, "Unterstützung",
                                     "1 (ja), 2 (eher ja), 3 (eher nein), 4 (nein) oder leer"))
            support = None
        if not cell["effectiveness"] and not cell["support"]:
            problems.append(_problem(number, "Wirksamkeit", "mindestens eine der beiden Antworten"))
        if sheet is not None and code in codes:
            if (sheet, code) in seen:
                problems.append(_problem(number, "Code",
                                         f"Bogen {sheet} nennt {code} schon in Zeile {seen[sheet, code]}"))
            seen[(sheet, code)] = number
            sheets.setdefault(sheet, []).append((number, SheetAnswer(code, effectiveness, support)))
    if not sheets and not problems:
        problems.append(_problem(2, "Bogen", "die Datei enthält keinen Bogen"))
    if problems:
        raise _refuse(problems)
    return sheets


def _sheet_number(text: str) -> int | None:
    return int(text) if text.isdigit() and 1 <= int(text) <= SHEET_NUMBER_MAX else None


def import_sheets(cmd: ImportPaperSheets, uow: UnitOfWork) -> PaperImportReport:
    """All sheets of the file, or none: a sheet entered before refuses the file."""
    cid = str(cmd.consultation_id)
    with uow:
        consultation = uow.consultations.get(cid)
        check_takes_sheets(consultation)
        sheets = read_sheets(cmd.content, consultation.measure_codes)
        entered = uow.paper.entered_numbers(cid, sheets)
        if entered:
            raise _refuse([_problem(sheets[n][0][0], "Bogen", f"Bogen {n} wurde bereits erfasst")
                           for n in sorted(entered)])
        now, sheet_rows, ratings, log = uow.instance.now(), [], [], []
        for number, answers in sorted(sheets.items()):
            sheet_id = str(uuid.uuid4())
            sheet_rows.append(dict(id=sheet_id, consultation_id=cid, sheet_number=number,
                                   entered_by=cmd.actor, entered_at=now))
            ratings += [rating_row(cid, sheet_id, a, now) for _, a in answers]
            log.append(dict(target_type="paper_sheet", target_id=sheet_id, action="imported",
                            reason=f"Bogen {number}: {len(answers)} Antworten aus CSV-Import",
                            actor=cmd.actor, at=now))
        uow.paper.add_sheets(sheet_rows)
        uow.paper.add_ratings(ratings)
        for act in log:
            uow.moderation.log(**act)
        uow.add_events(batch_events(uow, ratings))
        uow.commit()
    return PaperImportReport(consultation_id=cmd.consultation_id, sheets=len(sheets), answers=len(ratings))
