"""The published results of a town's consultation, for everyone: per measure the town's
answers beside the region's, with the charts and tables of the staff pages."""

from __future__ import annotations

import json
from typing import Any

from werkzeug.wrappers import Response

from services.gateway.web.backend import Backend, town_or_404
from services.gateway.web.charts import number, percent
from services.gateway.web.errors import ApiError
from services.gateway.web.page import Page
from services.gateway.web.results_charts import town_results_charts


def support_share(tally: dict[str, Any]) -> float | None:
    """(yes + rather yes) / support answers; None without support answers."""
    support = tally.get("support") or {}
    answered = sum(int(v) for v in support.values())
    if not answered:
        return None
    return (int(support.get("yes", 0)) + int(support.get("rather_yes", 0))) / answered


def figures(tally: dict[str, Any] | None, lang: str) -> dict[str, str]:
    """Answers, mean effectiveness and support share of a tally as written on the page."""
    if not tally:
        return {"answers": "–", "effectiveness": "–", "support": "–"}
    return {"answers": number(tally.get("answers", 0), lang),
            "effectiveness": number(tally.get("effectiveness_mean"), lang, 1),
            "support": percent(support_share(tally), lang)}


def _regional(backend: Backend) -> dict[str, dict[str, Any]] | None:
    """The region's totals per measure code; None while the measures service is away."""
    try:
        text = backend.call("measures", "regional_results_json")
    except ApiError as exc:
        if exc.code == "SERVICE_UNAVAILABLE":
            return None
        raise
    return {m["code"]: m["total"] for m in json.loads(text)["measures"]}


def published_results_page(page: Page, backend: Backend, town: str, cid: str) -> Response:
    t = town_or_404(town)
    consultation = backend.call(t.service_name, "get_consultation", consultation_id=cid)
    if consultation["status"] != "results_published":
        # Before publication the results belong to the town's staff (their own pages).
        raise ApiError("CONSULTATION_NOT_FOUND", page.t("results_not_published"))
    results = backend.call(t.service_name, "town_results", consultation_id=cid)
    region = _regional(backend)
    rows = [{"code": m["code"], "title": m["title"],
             "town": figures(m["tally"], page.lang),
             "region": figures((region or {}).get(m["code"]), page.lang) if region is not None
             else None}
            for m in results["measures"]]
    return page.render("results.html", town=t, current_town=t, consultation=consultation,
                       results=results, rows=rows, region_down=region is None,
                       charts=town_results_charts(page, results))
