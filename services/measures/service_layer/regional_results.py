"""The combined results of all towns, as the coordinators read them (cached, see ResultsCache).

Every query reads the per-(measure, town) counters, never the ratings: a few
thousand rows at most, however many ratings there are.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from services.measures.adapters import tables as t
from services.measures.adapters.unit_of_work import UnitOfWork
from services.measures.domain.model import (
    SUPPORT_COLUMNS,
    MeasureNotFound,
    effectiveness_mean,
    spread,
    support_share,
)
from services.measures.service_layer.results_cache import ResultsCache
from soesmart.contracts import (
    DailyParticipation,
    Disagreement,
    Disagreements,
    MeasureResults,
    ParticipationPerDay,
    RankedMeasure,
    RegionalResults,
    Tally,
    TopMeasures,
    TownComparison,
    TownFigures,
)
from soesmart.towns import towns

Counters = Mapping[str, Any]


def regional_results(uow: UnitOfWork, cache: ResultsCache) -> RegionalResults:
    return cache.get(("regional_results",), lambda: _regional_results(uow))


def regional_results_wire(uow: UnitOfWork, cache: ResultsCache) -> dict[str, Any]:
    """`regional_results` as the RPC reply sends it, cached too: turning ~2,000
    tallies into JSON-ready dicts cost more than computing them."""
    return cache.get(("regional_results_wire",),
                     lambda: regional_results(uow, cache).model_dump(mode="json"))


def regional_results_json(uow: UnitOfWork, cache: ResultsCache) -> str:
    """`regional_results` as one JSON text, cached: the reply crosses the broker as a
    string and the gateway sends it on as it is. As nested JSON (about 2,000 tallies)
    the encoding and decoding on both sides took most of the ~125 ms per call."""
    return cache.get(("regional_results_json",), lambda: json.dumps(
        regional_results_wire(uow, cache), ensure_ascii=False, separators=(",", ":")))


def _regional_results(uow: UnitOfWork) -> RegionalResults:
    with uow:
        titles = uow.results.titles()
        rows = uow.results.tallies()
    per_measure: dict[str, dict[str, Tally]] = {}
    totals: dict[str, dict[str, int]] = {}
    for r in rows:
        per_measure.setdefault(r["measure_code"], {})[r["town"]] = tally_of(r)
        add_counters(totals.setdefault(r["measure_code"], zero()), r)
    measures = tuple(
        MeasureResults(code=code, title=titles.get(code, code), total=tally_of(totals[code]),
                       towns=per_measure[code])
        for code in sorted(per_measure)
    )
    return RegionalResults(measures=measures, generated_at=datetime.now(UTC))


def top_measures(uow: UnitOfWork, cache: ResultsCache, limit: int = 10, min_answers: int = 1,
                 town: str | None = None) -> TopMeasures:
    """The measures with the highest support share (in the region, or in one town)."""
    return cache.get(("top", limit, min_answers, town),
                     lambda: _top_measures(uow, limit, min_answers, town))


def _top_measures(uow: UnitOfWork, limit: int, min_answers: int, town: str | None) -> TopMeasures:
    with uow:
        titles, rows = uow.results.titles(), uow.results.tallies()
    totals: dict[str, dict[str, int]] = {}
    for r in rows:
        if town is None or r["town"] == town:
            add_counters(totals.setdefault(r["measure_code"], zero()), r)
    ranked = [
        (code, _figures(town or "region", c)) for code, c in totals.items()
        if c["answers"] >= max(1, min_answers)
    ]
    ranked = [x for x in ranked if x[1].support_share is not None]
    ranked.sort(key=lambda x: (-(x[1].support_share or 0), -x[1].support_answers, x[0]))
    return TopMeasures(
        min_answers=min_answers, town=town,
        measures=tuple(RankedMeasure(code=code, title=titles.get(code, code), region=f)
                       for code, f in ranked[:limit]),
    )


def compare_towns(uow: UnitOfWork, cache: ResultsCache, code: str) -> TownComparison:
    """One measure, town against town: every configured town, with or without answers."""
    return cache.get(("compare", code), lambda: _compare_towns(uow, code))


def _compare_towns(uow: UnitOfWork, code: str) -> TownComparison:
    with uow:
        titles, rows = uow.results.titles(code), uow.results.tallies(code)
    if code not in titles:
        raise MeasureNotFound(f"Maßnahme {code} ist nicht im Katalog.")
    per_town = {r["town"]: dict(r) for r in rows}
    total = zero()
    for r in rows:
        add_counters(total, r)
    slugs = list(towns().slugs) + sorted(set(per_town) - set(towns().slugs))
    return TownComparison(
        code=code, title=titles[code], region=_figures("region", total),
        towns=tuple(_figures(s, per_town.get(s, zero())) for s in slugs),
    )


def disagreements(uow: UnitOfWork, cache: ResultsCache, limit: int = 10,
                  min_answers: int = 20) -> Disagreements:
    """Measures where towns disagree most (see `_disagreements`)."""
    return cache.get(("disagreements", limit, min_answers),
                     lambda: _disagreements(uow, limit, min_answers))


def _disagreements(uow: UnitOfWork, limit: int, min_answers: int) -> Disagreements:
    """Measures where towns disagree most.

    Disagreement is the spread (highest minus lowest) of the support share
    between the towns that have at least `min_answers` answers to the measure;
    a measure needs two such towns. Ties are broken by the spread of the mean
    effectiveness. Shares, not counts, so big and small towns weigh the same.
    """
    with uow:
        titles, rows = uow.results.titles(), uow.results.tallies()
    by_measure: dict[str, list[TownFigures]] = {}
    for r in rows:
        if r["answers"] >= max(1, min_answers):
            f = _figures(r["town"], r)
            if f.support_share is not None:
                by_measure.setdefault(r["measure_code"], []).append(f)
    found = []
    for code, figures in by_measure.items():
        support_spread = spread([f.support_share for f in figures])
        if support_spread is None:
            continue
        found.append(Disagreement(
            code=code, title=titles.get(code, code), support_spread=round(support_spread, 4),
            effectiveness_spread=_round(spread([f.effectiveness_mean for f in figures])),
            towns=tuple(sorted(figures, key=lambda f: -(f.support_share or 0))),
        ))
    found.sort(key=lambda d: (-d.support_spread, -(d.effectiveness_spread or 0), d.code))
    return Disagreements(min_answers=min_answers, measures=tuple(found[:limit]))


def participation_per_day(uow: UnitOfWork, cache: ResultsCache, since: date | None = None,
                          town: str | None = None) -> ParticipationPerDay:
    return cache.get(("per_day", since, town), lambda: _participation_per_day(uow, since, town))


def _participation_per_day(uow: UnitOfWork, since: date | None,
                           town: str | None) -> ParticipationPerDay:
    with uow:
        rows = uow.results.participation_days(since, town)
    return ParticipationPerDay(days=tuple(
        DailyParticipation(day=r["day"].isoformat(), town=r["town"],
                           **{n: r[n] for n in t.PARTICIPATION_COUNTERS})
        for r in rows if any(r[n] for n in t.PARTICIPATION_COUNTERS)
    ))


# ---------------------------------------------------------------------- counters to figures
_EFF_KEYS = tuple((str(i), f"eff_{i}") for i in range(1, 6))
_SUPPORT_KEYS = tuple(SUPPORT_COLUMNS.items())


def tally_of(r: Counters) -> Tally:
    # Built without validation: the counters come from our own table, and validating
    # some 2,000 of them took half the time of the regional results.
    eff_count = r["eff_count"]
    return Tally.model_construct(
        answers=r["answers"],
        effectiveness_count=eff_count,
        effectiveness_mean=round(r["eff_sum"] / eff_count, 3) if eff_count else None,
        effectiveness_distribution={k: r[col] for k, col in _EFF_KEYS},
        support={k: r[col] for k, col in _SUPPORT_KEYS},
        paper_answers=r["paper_answers"],
    )


def zero() -> dict[str, int]:
    return {n: 0 for n in t.TALLY_COUNTERS}


def add_counters(acc: dict[str, int], counters: Counters) -> None:
    for n in t.TALLY_COUNTERS:
        acc[n] += counters[n]


def _round(value: float | None, digits: int = 3) -> float | None:
    return round(value, digits) if value is not None else None


def _figures(town: str, counters: Any) -> TownFigures:
    answers, share = support_share(counters)
    return TownFigures(
        town=town, answers=counters["answers"],
        effectiveness_mean=_round(effectiveness_mean(counters)),
        support_answers=answers, support_share=_round(share, 4),
        paper_answers=counters["paper_answers"],
    )
