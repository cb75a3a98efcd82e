"""The server-side charts: named for assistive technology, figures in a table, never colour alone."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from services.gateway.web import charts
from services.gateway.web.charts import Bar, Series, StackedBar

SVG = "{http://www.w3.org/2000/svg}"


def _parse(chart: charts.Chart) -> ET.Element:
    return ET.fromstring(str(chart.svg))


def _percent(value: float | None) -> str:
    return charts.percent(value)


def test_every_colour_of_the_palette_has_at_least_3_to_1_against_the_page() -> None:
    for style in charts.PALETTE:
        assert charts.contrast_ratio(style.colour, charts.BACKGROUND) >= 3.0, style.colour


def test_no_two_styles_differ_by_colour_alone() -> None:
    for cue in ("dash", "hatch"):
        values = [getattr(s, cue) for s in charts.PALETTE]
        assert len(set(values)) == len(values), f"{cue} repeats"
    # markers repeat only after the fifth series, where dash and hatch still differ
    assert len({s.marker for s in charts.PALETTE[:5]}) == 5


def test_a_bar_chart_is_an_image_named_by_its_title_and_description() -> None:
    chart = charts.bar_chart("top", "Die meiste Zustimmung", "Drei Maßnahmen, vorn VEP-RAD-01.",
                             [Bar("VEP-RAD-01", 0.8), Bar("VEP-FUSS-01", 0.55), Bar("X", None)],
                             columns=("Maßnahme", "Zustimmung"), value_text=_percent, maximum=1)
    svg = _parse(chart)
    assert svg.get("role") == "img"
    assert svg.get("aria-labelledby") == "top-title top-desc"
    assert svg.find(f"{SVG}title").text == "Die meiste Zustimmung"
    assert svg.find(f"{SVG}title").get("id") == "top-title"
    assert svg.find(f"{SVG}desc").text == "Drei Maßnahmen, vorn VEP-RAD-01."
    texts = [t.text for t in svg.iter(f"{SVG}text")]
    assert "80 %" in texts and "55 %" in texts and "–" in texts  # values written, not only drawn


def test_a_bar_chart_gives_the_same_figures_as_a_table() -> None:
    chart = charts.bar_chart("b", "T", "S", [Bar("A", 0.5, ("12",)), Bar("B", 0.25, ("4",))],
                             columns=("Maßnahme", "Zustimmung", "Antworten"),
                             value_text=_percent, maximum=1)
    assert chart.table.columns == ("Maßnahme", "Zustimmung", "Antworten")
    assert chart.table.rows == (("A", "50 %", "12"), ("B", "25 %", "4"))
    assert not chart.empty


def test_bars_are_as_long_as_their_share_of_the_axis() -> None:
    chart = charts.bar_chart("b", "T", "S", [Bar("A", 1.0), Bar("B", 0.5)], columns=("a", "b"),
                             value_text=_percent, maximum=1)
    widths = [float(r.get("width")) for r in _parse(chart).iter(f"{SVG}rect")
              if r.get("fill") == charts.PALETTE[0].colour]
    assert widths[0] == pytest.approx(2 * widths[1])


def test_text_in_a_chart_is_escaped() -> None:
    chart = charts.bar_chart("b", "<script>", "a & b", [Bar("<b>x</b>", 1)], columns=("a", "b"),
                             value_text=_percent)
    assert "<script>" not in str(chart.svg)
    assert _parse(chart).find(f"{SVG}title").text == "<script>"


def test_a_line_chart_draws_one_line_per_series_with_its_own_dash_and_a_legend() -> None:
    chart = charts.line_chart(
        "p", "Beteiligung je Tag", "Zwei Städte über drei Tage.", ["01.05.", "02.05.", "03.05."],
        [Series("Soest", [1, 5, 2]), Series("Olpe", [0, 2, 7])], x_column="Tag")
    svg = _parse(chart)
    lines = list(svg.iter(f"{SVG}polyline"))
    assert len(lines) == 2
    assert lines[0].get("stroke-dasharray") is None and lines[1].get("stroke-dasharray") == "8 4"
    texts = [t.text for t in svg.iter(f"{SVG}text")]
    assert "Soest" in texts and "Olpe" in texts
    assert chart.table.columns == ("Tag", "Soest", "Olpe")
    assert chart.table.rows[2] == ("03.05.", "2", "7")


def test_a_line_chart_of_one_day_draws_markers_and_no_line() -> None:
    chart = charts.line_chart("p", "T", "S", ["01.05."], [Series("Soest", [3])], x_column="Tag")
    svg = _parse(chart)
    assert not list(svg.iter(f"{SVG}polyline"))
    assert list(svg.iter(f"{SVG}circle"))


def test_an_empty_chart_says_so() -> None:
    assert charts.line_chart("p", "T", "S", [], [], x_column="Tag").empty
    assert charts.bar_chart("b", "T", "S", [], columns=("a", "b"), value_text=_percent).empty


def test_stacked_bars_hatch_each_segment_and_write_shares_in_the_table() -> None:
    chart = charts.stacked_bar_chart(
        "s", "Zustimmung", "S", ["Ja", "Eher ja", "Eher nein", "Nein"],
        [StackedBar("VEP-RAD-01", [6, 2, 1, 1]), StackedBar("VEP-RAD-02", [0, 0, 0, 0])],
        label_column="Maßnahme")
    svg = _parse(chart)
    patterns = [p.get("id") for p in svg.iter(f"{SVG}pattern")]
    assert patterns == ["s-p0", "s-p1", "s-p2", "s-p3"]  # ids carry the chart id: unique per page
    assert "60 %" in [t.text for t in svg.iter(f"{SVG}text")]
    assert chart.table.columns == ("Maßnahme", "Ja", "Eher ja", "Eher nein", "Nein")
    assert chart.table.rows[0] == ("VEP-RAD-01", "6 (60 %)", "2 (20 %)", "1 (10 %)", "1 (10 %)")
    assert chart.table.rows[1][1] == "0 (–)"


@pytest.mark.parametrize(("value", "expected"), [
    (0, 1), (0.7, 1), (1, 1), (1.2, 2), (3, 5), (7, 10), (11, 20), (240, 250), (2600, 5000)])
def test_axes_end_at_a_round_number(value: float, expected: float) -> None:
    assert charts.nice_ceiling(value) == pytest.approx(expected)


def test_numbers_read_as_german_or_english() -> None:
    assert charts.number(1234.5, "de", 1) == "1.234,5"
    assert charts.number(1234.5, "en", 1) == "1,234.5"
    assert charts.number(None) == "–"
    assert charts.percent(0.6, "de") == "60 %"
    assert charts.percent(None) == "–"


@pytest.mark.parametrize(("peak", "labels"), [
    (8.4, ["0", "2", "4", "6", "8", "10"]), (4, ["0", "1", "2", "3", "4", "5"]),
    (2.5, ["0", "0,5", "1", "1,5", "2", "2,5"]), (0, ["0", "0,2", "0,4", "0,6", "0,8", "1"])])
def test_the_axis_of_a_line_chart_is_labelled_without_rounding(peak: float, labels: list[str]) -> None:
    chart = charts.line_chart("p", "T", "S", ["a", "b"], [Series("Soest", [0, peak])], x_column="Tag")
    texts = [t.text for t in _parse(chart).iter(f"{SVG}text")]
    assert texts[: len(labels)] == labels
