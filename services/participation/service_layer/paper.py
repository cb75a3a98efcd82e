"""Paper questionnaires: staff enter returned sheets, correct them, import scanned ones.

A sheet is one anonymous respondent: its id is the `participant_id` of its ratings,
which are stored and announced like a citizen's (`RatingRecorded`, `channel="paper"`),
so town and region count them once, like any other answer. Entries and corrections
are written to the moderation log (who, when, what).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from services.participation.adapters.rows import aware
from services.participation.adapters.unit_of_work import UnitOfWork
from services.participation.domain.errors import InvalidInput, PaperSheetNotFound
from services.participation.domain.paper import (
    SheetAnswer,
    already_entered,
    check_sheet,
    check_takes_sheets,
)
from soesmart.contracts import (
    EnterPaperSheet,
    PaperAnswer,
    PaperSheetView,
    RatingRecorded,
    RatingsRecorded,
    RecordedRating,
    Support,
)
from soesmart.i18n import format_datetime

BATCH = 2000  # ratings per RatingsRecorded event


def enter_sheet(cmd: EnterPaperSheet, uow: UnitOfWork) -> PaperSheetView:
    """Enter a returned sheet once, or correct one entered before (with a reason)."""
    cid = str(cmd.consultation_id)
    answers = [SheetAnswer(a.measure_code, a.effectiveness, a.support.value if a.support else None)
               for a in cmd.answers]
    with uow:
        consultation = uow.consultations.get(cid)
        check_takes_sheets(consultation)
        check_sheet(consultation, cmd.sheet_number, answers)
        stored = uow.paper.sheet(cid, cmd.sheet_number)
        now = uow.instance.now()
        if cmd.correction:
            if stored is None:
                raise PaperSheetNotFound(
                    f"Bogen {cmd.sheet_number} wurde noch nicht erfasst; es gibt nichts zu korrigieren.",
                    [{"field": "sheet_number", "problem": "not entered yet"}])
            if len(cmd.reason.strip()) < 3:
                raise InvalidInput("Bitte begründen Sie die Korrektur.",
                                   [{"field": "reason", "problem": "a reason is required"}])
            sheet_id, what = stored["id"], _correct(uow, cid, stored["id"], answers, now)
            uow.paper.mark_corrected(sheet_id, now)
            _log(uow, sheet_id, "corrected",
                 f"Bogen {cmd.sheet_number}: {cmd.reason.strip()} – {what}", cmd.actor, now)
        else:
            if stored is not None:
                raise already_entered(cmd.sheet_number, stored["entered_by"],
                                      format_datetime(aware(stored["entered_at"]), "de"))
            sheet_id = str(uuid.uuid4())
            uow.paper.add_sheets([dict(id=sheet_id, consultation_id=cid, sheet_number=cmd.sheet_number,
                                       entered_by=cmd.actor, entered_at=now)])
            rows = [rating_row(cid, sheet_id, a, now) for a in answers]
            uow.paper.add_ratings(rows)
            uow.add_events([_event(uow, row) for row in rows])
            _log(uow, sheet_id, "entered",
                 f"Bogen {cmd.sheet_number}: {len(rows)} Antworten erfasst", cmd.actor, now)
        uow.commit()
    return sheet(cid, cmd.sheet_number, uow)


def _correct(uow: UnitOfWork, cid: str, sheet_id: str, answers: Sequence[SheetAnswer],
             now: datetime) -> str:
    """Change the sheet's answers in place (new versions); returns what changed, in words."""
    stored, changes, events = uow.paper.answers_of(sheet_id), [], []
    missing = sorted(set(stored) - {a.measure_code for a in answers})
    if missing:
        raise InvalidInput(
            "Eine erfasste Antwort kann korrigiert, aber nicht entfernt werden: " + ", ".join(missing),
            [{"field": "answers", "problem": "an entered answer cannot be removed", "code": code}
             for code in missing])
    for a in answers:
        old = stored.get(a.measure_code)
        if old is None:
            row = rating_row(cid, sheet_id, a, now)
            uow.paper.add_ratings([row])
            changes.append(f"{a.measure_code} neu {_words(a.effectiveness, a.support)}")
        elif (old["effectiveness"], old["support"]) != (a.effectiveness, a.support):
            row = {**old, "effectiveness": a.effectiveness, "support": a.support,
                   "version": old["version"] + 1, "updated_at": now}
            uow.paper.change_rating(old["id"], {k: row[k] for k in
                                                ("effectiveness", "support", "version", "updated_at")})
            changes.append(f"{a.measure_code} {_words(old['effectiveness'], old['support'])} → "
                           f"{_words(a.effectiveness, a.support)}")
        else:
            continue
        events.append(_event(uow, row))
    uow.add_events(events)
    return "; ".join(changes) or "keine Änderung"


def _words(effectiveness: int | None, support: str | None) -> str:
    return f"({effectiveness if effectiveness is not None else '–'}/{support or '–'})"


def rating_row(cid: str, sheet_id: str, a: SheetAnswer, now: datetime) -> dict[str, Any]:
    return dict(id=str(uuid.uuid4()), consultation_id=cid, measure_code=a.measure_code,
                participant_id=sheet_id, effectiveness=a.effectiveness, support=a.support,
                reason=None, version=1, created_at=now, updated_at=now, channel="paper")


def _event(uow: UnitOfWork, row: dict[str, Any]) -> RatingRecorded:
    instance = uow.instance
    return RatingRecorded(
        source=instance.source, town=instance.town.slug, consultation_id=uuid.UUID(row["consultation_id"]),
        rating_id=uuid.UUID(row["id"]), measure_code=row["measure_code"],
        effectiveness=row["effectiveness"], support=Support(row["support"]) if row["support"] else None,
        version=row["version"], channel="paper", occurred_at=row["updated_at"])


def batch_events(uow: UnitOfWork, rows: Sequence[dict[str, Any]]) -> list[RatingsRecorded]:
    """Stored ratings (new, version 1) as `RatingsRecorded` events of at most BATCH each."""
    instance = uow.instance
    items = [RecordedRating(
        consultation_id=uuid.UUID(r["consultation_id"]), rating_id=uuid.UUID(r["id"]),
        measure_code=r["measure_code"], effectiveness=r["effectiveness"],
        support=Support(r["support"]) if r["support"] else None, version=r["version"],
        channel=r["channel"], recorded_at=r["created_at"]) for r in rows]
    return [RatingsRecorded(source=instance.source, town=instance.town.slug,
                            ratings=tuple(items[i:i + BATCH]))
            for i in range(0, len(items), BATCH)]


def _log(uow: UnitOfWork, sheet_id: str, action: str, what: str, actor: str, now: datetime) -> None:
    uow.moderation.log(target_type="paper_sheet", target_id=sheet_id, action=action, reason=what,
                       actor=actor, at=now)


def sheet(consultation_id: str, number: int, uow: UnitOfWork) -> PaperSheetView:
    with uow:
        row = uow.paper.sheet(consultation_id, number)
        if row is None:
            raise PaperSheetNotFound(f"Bogen {number} wurde noch nicht erfasst.",
                                     [{"field": "sheet_number", "problem": "not entered yet"}])
        answers = uow.paper.answers_of(row["id"])
        return _view(row, answers.values())


def list_sheets(consultation_id: str, uow: UnitOfWork, limit: int = 50) -> list[dict[str, Any]]:
    """The latest sheets entered for a consultation (number, answers, who, when)."""
    with uow:
        uow.consultations.get(consultation_id)
        return [{"sheet_number": r["sheet_number"], "answers": r["answers"],
                 "entered_by": r["entered_by"], "entered_at": aware(r["entered_at"]).isoformat(),
                 "corrected": r["corrected_at"] is not None}
                for r in uow.paper.sheets(consultation_id, limit)]


def _view(row: Any, answers: Any) -> PaperSheetView:
    return PaperSheetView(
        consultation_id=row["consultation_id"], sheet_number=row["sheet_number"],
        answers=tuple(PaperAnswer(measure_code=a["measure_code"], effectiveness=a["effectiveness"],
                                  support=a["support"]) for a in answers),
        entered_by=row["entered_by"], entered_at=aware(row["entered_at"]),
        corrected=row["corrected_at"] is not None)
