"""The charts of a town's consultation results, the same on the staff and the public pages."""

from __future__ import annotations

from typing import Any

from services.gateway.web import charts
from services.gateway.web.page import Page
from services.gateway.web.staff_pages import short_day
from soesmart.i18n import label

SUPPORT_KEYS = ("yes", "rather_yes", "rather_no", "no")


def town_results_charts(page: Page, results: dict[str, Any]) -> list[charts.Chart]:
    """Support per measure, mean effectiveness per measure, participation per day."""
    lang, t = page.lang, page.t
    measures = results["measures"]
    support = charts.stacked_bar_chart(
        "support", t("adm_chart_support"), t("adm_chart_support_desc", n=len(measures)),
        [label("support", k, lang) for k in SUPPORT_KEYS],
        [charts.StackedBar(f"{m['code']} {m['title']}",
                           [int(m["tally"]["support"].get(k, 0)) for k in SUPPORT_KEYS])
         for m in measures],
        label_column=t("adm_measure"), lang=lang)
    effectiveness = charts.bar_chart(
        "effectiveness", t("adm_chart_effectiveness"), t("adm_chart_effectiveness_desc"),
        [charts.Bar(f"{m['code']} {m['title']}", m["tally"]["effectiveness_mean"],
                    (charts.number(m["tally"]["effectiveness_count"], lang),
                     charts.number(m["tally"].get("paper_answers", 0), lang),
                     charts.number(m["comments"], lang)))
         for m in measures],
        columns=(t("adm_measure"), t("adm_mean"), t("adm_answers"), t("adm_paper_answers"),
                 t("adm_comments")),
        value_text=lambda v: charts.number(v, lang, 1), maximum=5)
    days = results["days"]
    kinds = ("ratings", "citizens", "comments", "ideas")
    over_time = charts.line_chart(
        "days", t("adm_chart_days"), t("adm_chart_days_desc", n=len(days)),
        [short_day(d["day"], lang) for d in days],
        [charts.Series(t(f"adm_{k}"), [d.get(k, 0) for d in days]) for k in kinds],
        x_column=t("adm_day"), lang=lang)
    return [support, effectiveness, over_time]
