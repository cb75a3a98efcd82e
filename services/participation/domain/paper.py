"""Rules of paper questionnaires: which consultations take sheets, what a sheet may say."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from services.participation.domain.errors import (
    ConsultationLocked,
    ConsultationNotOpen,
    EmptyAnswer,
    InvalidInput,
    MeasureNotInConsultation,
    PaperSheetAlreadyEntered,
)
from services.participation.domain.model import SUPPORT_ANSWERS, Consultation

# On the printed sheet the support boxes are numbered in the order of the question's
# answers: 1 ja, 2 eher ja, 3 eher nein, 4 nein (typed as digits in the entry form).
SUPPORT_BY_DIGIT = {str(i): answer for i, answer in enumerate(SUPPORT_ANSWERS, start=1)}
SUPPORT_BY_WORD = {"ja": "yes", "eher ja": "rather_yes", "eher nein": "rather_no", "nein": "no",
                   **{a: a for a in SUPPORT_ANSWERS}, **SUPPORT_BY_DIGIT}


def parse_effectiveness(text: str) -> int | None:
    """"" -> None, "1".."5" -> the value; anything else raises ValueError."""
    text = text.strip()
    if not text:
        return None
    if text not in ("1", "2", "3", "4", "5"):
        raise ValueError("must be a whole number from 1 to 5 or empty")
    return int(text)


def parse_support(text: str) -> str | None:
    """"" -> None; 1–4, "ja" … "nein" or the answer's key -> the answer; else ValueError."""
    text = " ".join(text.strip().casefold().replace("_", " ").split())
    if not text:
        return None
    found = SUPPORT_BY_WORD.get(text) or SUPPORT_BY_WORD.get(text.replace(" ", "_"))
    if found is None:
        raise ValueError("must be 1 (ja), 2 (eher ja), 3 (eher nein), 4 (nein) or empty")
    return found


@dataclass(frozen=True)
class SheetAnswer:
    measure_code: str
    effectiveness: int | None
    support: str | None


def check_takes_sheets(consultation: Consultation) -> None:
    """Sheets come back while a consultation is open and for a while after it closed;
    a draft has no questionnaire yet, published results are final."""
    if consultation.status == "draft":
        raise ConsultationNotOpen(
            "Für einen Entwurf gibt es noch keine Fragebögen; bitte öffnen Sie die Beteiligung zuerst.",
            [{"field": "consultation_id", "problem": "consultation is a draft"}])
    if consultation.status == "results_published":
        raise ConsultationLocked(
            "Die Ergebnisse dieser Beteiligung sind veröffentlicht; Fragebögen können nicht mehr "
            "erfasst werden.",
            [{"field": "consultation_id", "problem": "results are published"}])


def check_sheet(consultation: Consultation, number: int, answers: Sequence[SheetAnswer],
                prefix: str = "answers") -> None:
    """Every answer for a measure of the consultation, each measure once, none empty."""
    problems: list[dict[str, str]] = []
    seen: set[str] = set()
    for i, a in enumerate(answers):
        if a.measure_code not in consultation.measure_codes:
            problems.append({"field": f"{prefix}.{i}.measure_code", "code": a.measure_code,
                             "problem": "not part of this consultation"})
        elif a.measure_code in seen:
            problems.append({"field": f"{prefix}.{i}.measure_code", "code": a.measure_code,
                             "problem": "answered twice on one sheet"})
        seen.add(a.measure_code)
    if problems:
        codes = ", ".join(sorted({p["code"] for p in problems}))
        raise MeasureNotInConsultation(
            f"Bogen {number}: Die Maßnahmen {codes} gehören nicht (oder nur einmal) zu dieser "
            "Beteiligung.", problems)
    empty = [i for i, a in enumerate(answers) if a.effectiveness is None and a.support is None]
    if empty:
        raise EmptyAnswer(
            f"Bogen {number}: Jede erfasste Maßnahme braucht mindestens eine der beiden Antworten.",
            [{"field": f"{prefix}.{i}", "problem": "one of effectiveness or support is required"}
             for i in empty])
    if not answers:
        raise InvalidInput(f"Bogen {number} enthält keine Antwort.",
                           [{"field": prefix, "problem": "at least one answer is needed"}])


def already_entered(number: int, by: str, at: str) -> PaperSheetAlreadyEntered:
    return PaperSheetAlreadyEntered(
        f"Bogen {number} wurde bereits erfasst ({at}, {by}). Ein Bogen zählt nur einmal; "
        "Änderungen bitte als Korrektur mit Begründung.",
        [{"field": "sheet_number", "problem": "already entered", "sheet_number": str(number)}])
