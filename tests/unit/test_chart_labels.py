"""No label of a chart is cut: each fits in the drawing, measured with the widest of the fonts
the pages use (the browser test checks the drawn boxes too)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from services.gateway.web import charts
from services.gateway.web.charts import Bar, Series, StackedBar

SVG = "{http://www.w3.org/2000/svg}"
LONG = "VEP-RAD-02 Radweg auf der ehemaligen Bahntrasse zwischen Soest und Bad Sassendorf"


def _extents(chart: charts.Chart) -> list[tuple[str, float, float, float]]:
    """(text, left, right, drawing width) of every text element, as the browser draws it."""
    svg = ET.fromstring(str(chart.svg))
    width = float(svg.get("viewBox", "").split()[2])
    out = []
    for node in svg.iter(f"{SVG}text"):
        content, x = node.text or "", float(node.get("x", 0))
        w = charts.text_width(content, float(node.get("font-size", 13)), node.get("font-weight", ""))
        left = {"start": x, "middle": x - w / 2, "end": x - w}[node.get("text-anchor", "start")]
        out.append((content, left, left + w, width))
    return out


def test_the_label_of_the_issue_was_too_wide_for_its_column() -> None:
    # "EP-RAD-02 Radweg auf der ehemali…" was what showed: 34 characters at 13 px need more
    # than the 242 px the label column had.
    assert charts.text_width("VEP-RAD-02 Radweg auf der ehemali…", 13) > 242


def test_every_text_of_every_chart_lies_inside_its_drawing() -> None:
    bars = [Bar(LONG, 0.8), Bar("WWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWW", 0.5), Bar("MPK-EN-01 Solar", 0.2)]
    made = [
        charts.bar_chart("b", "T", "S", bars, columns=("a", "b"), value_text=charts.percent,
                         maximum=1),
        charts.stacked_bar_chart("s", "T", "S", ["ja", "eher ja", "eher nein", "nein"],
                                 [StackedBar(b.label, [5, 3, 2, 1]) for b in bars],
                                 label_column="Maßnahme"),
        charts.stacked_bar_chart("e", "T", "S", ["yes", "rather yes", "rather no", "no"],
                                 [StackedBar(LONG, [1, 1, 1, 1])], label_column="Measure",
                                 lang="en"),
        charts.line_chart("l", "T", "S", ["01.05.", "02.05."],
                          [Series("Bewertungen (Antworten auf beide Fragen)", [1, 2]),
                           Series("Bürgerinnen und Bürger", [0, 1])], x_column="Tag"),
    ]
    for chart in made:
        for content, left, right, width in _extents(chart):
            assert left >= 0 and right <= width, (chart.id, content, left, right)


def test_a_cut_label_ends_with_an_ellipsis_and_keeps_its_full_text_for_a_tooltip() -> None:
    chart = charts.bar_chart("b", "T", "S", [Bar(LONG, 1)], columns=("a", "b"),
                             value_text=charts.percent, maximum=1)
    svg = ET.fromstring(str(chart.svg))
    shown = [t.text or "" for t in svg.iter(f"{SVG}text")][0]
    assert shown.endswith("…") and shown.startswith("VEP-RAD-02 Radweg")  # cut at the end
    assert [t.text for t in svg.iter(f"{SVG}title")][1] == LONG
    assert chart.table.rows[0][0] == LONG  # the table beside the chart has all of it
