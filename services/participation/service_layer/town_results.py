"""A consultation's results in the town: per measure its tally and comments, per day what happened."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from datetime import time as dtime

from services.participation.adapters.town_results import TownResultsQuery
from services.participation.adapters.unit_of_work import BERLIN, UnitOfWork
from services.participation.domain.model import SUPPORT_ANSWERS, as_id, support_share, tally
from services.participation.service_layer import wire
from soesmart.contracts import TownDay, TownMeasureResult, TownResults
from soesmart.i18n import label
from soesmart.spreadsheet import csv_text, format_decimal

TOWN_RESULTS_CSV_HEADER = (
    "Code", "Maßnahme", "Handlungsfeld", "Antworten", "Wirksamkeit (Mittelwert 1–5)",
    "Wirksamkeit 1", "Wirksamkeit 2", "Wirksamkeit 3", "Wirksamkeit 4", "Wirksamkeit 5",
    "Ja", "Eher ja", "Eher nein", "Nein", "Zustimmung (%)", "Kommentare", "davon auf Papier",
)


def town_results(consultation_id: uuid.UUID | str, uow: UnitOfWork) -> TownResults:
    """Per measure: tally and comment count; participants; per day (Europe/Berlin) what happened."""
    cid = as_id(consultation_id, "consultation_id")
    with uow:
        row = uow.consultations.row(cid)
        query = TownResultsQuery(uow.connection, cid)
        measures = query.measures()
        eff, sup = query.answers("effectiveness"), query.answers("support")
        comment_counts, paper = query.visible_comments(), query.paper_answers()
        verified, by_trust = query.verified_answers(), query.answers_by_trust()
        participants = query.participants()
        start = datetime.combine(row["starts_on"], dtime(0), BERLIN).astimezone(UTC)
        end = datetime.combine(row["ends_on"] + timedelta(days=1), dtime(0), BERLIN).astimezone(UTC)
        series = query.stamps(start, end)
    days: dict[str, dict[str, int]] = {}
    for kind, stamps in series.items():
        for stamp in stamps:
            counts = days.setdefault(stamp.astimezone(BERLIN).date().isoformat(), {})
            counts[kind] = counts.get(kind, 0) + 1
    results = []
    for code, title, field in measures:
        answers = sum(n for _, n in eff.get(code, []))
        results.append(TownMeasureResult(
            code=code, title=title or code, field_of_action=field or "",
            tally=wire.tally(tally(eff.get(code, []), sup.get(code, []), answers), paper.get(code, 0)),
            comments=comment_counts.get(code, 0), verified_answers=verified.get(code, 0)))
    return TownResults(
        town=uow.instance.town.slug, consultation_id=uuid.UUID(cid), title=row["title"], status=row["status"],
        participants=participants, measures=tuple(results),
        days=tuple(TownDay(day=day, **counts) for day, counts in sorted(days.items())),
        generated_at=datetime.now(UTC), answers_by_trust=by_trust)


def town_results_csv(consultation_id: uuid.UUID | str, uow: UnitOfWork) -> str:
    """The town's results for German spreadsheets: BOM, semicolon, decimal comma."""
    results = town_results(consultation_id, uow)
    rows = []
    for m in results.measures:
        share = support_share(m.tally)
        mean = m.tally.effectiveness_mean
        rows.append([
            m.code, m.title, label("field_of_action", m.field_of_action), str(m.tally.answers),
            format_decimal(round(mean, 2) if mean is not None else None),
            *(str(m.tally.effectiveness_distribution.get(str(i), 0)) for i in range(1, 6)),
            *(str(m.tally.support.get(s, 0)) for s in SUPPORT_ANSWERS),
            format_decimal(round(100 * share, 1) if share is not None else None),
            str(m.comments), str(m.tally.paper_answers),
        ])
    return csv_text(TOWN_RESULTS_CSV_HEADER, rows)
