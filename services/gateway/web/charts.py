"""Charts as inline SVG built on the server: named for assistive technology, backed by a table.

Pure functions from figures to a `Chart`: the SVG (role="img", named by its <title> and
<desc>), and the same figures as a table for a <details> beside it. Every mark has a
colour with at least 3:1 contrast against the white page and a second cue (dash pattern,
marker shape or hatching, plus written values), so no figure is told by colour alone.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from markupsafe import Markup, escape

from soesmart.i18n import format_number

BACKGROUND = "#ffffff"
INK = "#1a1a1a"
GRID = "#767676"


@dataclass(frozen=True)
class Style:
    colour: str
    dash: str  # stroke-dasharray of lines ("" = solid)
    marker: str  # circle, square, triangle, diamond, cross
    hatch: str  # solid, diagonal, dots, cross, horizontal, vertical


# Each colour has >= 3:1 contrast against white (tested); the second cue differs too.
PALETTE: tuple[Style, ...] = (
    Style("#0b5a2a", "", "circle", "solid"),
    Style("#0a4f8a", "8 4", "square", "diagonal"),
    Style("#b35900", "2 3", "triangle", "dots"),
    Style("#6a3d9a", "10 3 2 3", "diamond", "cross"),
    Style("#a1191c", "4 2", "cross", "horizontal"),
    Style("#4a4a4a", "1 2", "circle", "vertical"),
)


@dataclass(frozen=True)
class Table:
    caption: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    summary: str
    svg: Markup
    table: Table
    empty: bool = False


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None
    extra: tuple[str, ...] = ()  # more cells for the table row


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float]


@dataclass(frozen=True)
class StackedBar:
    label: str
    counts: Sequence[int]
    extra: tuple[str, ...] = field(default=())


# ------------------------------------------------------------------------------ helpers


def number(value: float | None, lang: str = "de", digits: int = 0) -> str:
    """A figure as people read it: "1.234,5" in German, "1,234.5" in English; "–" for none."""
    return "–" if value is None else format_number(value, lang, places=digits)


def percent(share: float | None, lang: str = "de") -> str:
    return "–" if share is None else f"{number(share * 100, lang)} %"


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 times a power of ten that is >= value (axis ends)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power + 1e-9:
            return step * power
    return 10 * power  # pragma: no cover - the loop always returns


def decimals(value: float) -> int:
    """How many decimals show `value` exactly (at most 3): axis labels never round."""
    for digits in range(3):
        if abs(round(value, digits) - value) < 1e-9:
            return digits
    return 3


def relative_luminance(colour: str) -> float:
    channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_ratio(a: str, b: str) -> float:
    la, lb = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


# Advance widths (em) of DejaVu Sans, the widest of the fonts the pages' stack ends in on
# Linux (Segoe UI, Roboto, Arial and Liberation Sans are narrower): a label measured with
# them fits in the others too. Characters not listed count as wide as the widest here.
_WIDTHS: dict[str, float] = {}
for _chars, _em in (
    ("'", 0.275), ("ijl", 0.278), ("IJ", 0.295), (" ,.‘’·", 0.318), ("/:;\\|", 0.337),
    ("f", 0.352), ("-", 0.361), ("()[]", 0.39), ("t", 0.392), ("!²³", 0.401), ("r", 0.411),
    ('"', 0.46), ("*_`–°", 0.5), ("„“”", 0.518), ("s", 0.521), ("z", 0.525), ("?", 0.531),
    ("cç", 0.55), ("L", 0.557), ("F", 0.575), ("k", 0.579), ("vxy", 0.592), ("P", 0.603),
    ("TY", 0.611), ("oöó", 0.612), ("aäàá", 0.613), ("eéè", 0.615), ("ß", 0.63), ("E", 0.632),
    ("hnuüñ", 0.634), ("Sbdgpq", 0.635), ("$0123456789{}€", 0.636), ("K", 0.656),
    ("AVÄ", 0.684), ("XZ", 0.685), ("B", 0.686), ("R", 0.695), ("C", 0.698), ("UÜ", 0.732),
    ("N", 0.748), ("H", 0.752), ("D", 0.77), ("G", 0.775), ("&", 0.78), ("OQÖ", 0.787),
    ("w", 0.818), ("#+<=>^~×", 0.838), ("M", 0.863), ("%", 0.95), ("m", 0.974), ("W", 0.989),
    ("@—…", 1.0),
):
    _WIDTHS.update(dict.fromkeys(_chars, _em))
BOLD = 1.1  # bold glyphs are about a tenth wider


def text_width(text: str, size: float, weight: str = "normal") -> float:
    """How wide `text` is drawn at `size` px (a little more, never less, in the page's fonts)."""
    em = sum(_WIDTHS.get(c, 1.0) for c in text)
    return em * size * (BOLD if weight == "bold" else 1.0)


def fit(text: str, width: float, size: float) -> str:
    """`text`, cut at a word or letter and ended with "…" where it would not fit in `width` px."""
    if text_width(text, size) <= width:
        return text
    cut = text
    while cut and text_width(cut.rstrip(" ,;:-–") + "…", size) > width:
        cut = cut[:-1]
    return cut.rstrip(" ,;:-–") + "…"


def _open_svg(chart_id: str, title: str, summary: str, width: int, height: int) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" viewBox="0 0 {width} {height}" '
        f'width="100%" preserveAspectRatio="xMinYMin meet" focusable="false">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(summary)}</desc>',
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="{BACKGROUND}"/>',
    ]


def _text(x: float, y: float, content: str, anchor: str = "start", size: int = 13,
          weight: str = "normal") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" '
            f'font-weight="{weight}" fill="{INK}">{escape(content)}</text>')


EDGE = 4  # px kept free at the edges of the drawing


def _label(right: float, y: float, label: str, size: int = 13) -> str:
    """A row's label, right-aligned before its bar; cut with "…" so it stays inside the
    drawing (the full text is in its tooltip and in the table beside the chart)."""
    shown = fit(label, right - EDGE, size)
    text = _text(right, y, shown, anchor="end", size=size)
    if shown == label:
        return text
    return f'<g><title>{escape(label)}</title>{text}</g>'


def _marker(style: Style, x: float, y: float, r: float = 4.5) -> str:
    c = style.colour
    if style.marker == "square":
        return f'<rect x="{x - r:.1f}" y="{y - r:.1f}" width="{2 * r:.1f}" height="{2 * r:.1f}" fill="{c}"/>'
    if style.marker == "triangle":
        pts = f"{x:.1f},{y - r - 1:.1f} {x - r - 1:.1f},{y + r:.1f} {x + r + 1:.1f},{y + r:.1f}"
        return f'<polygon points="{pts}" fill="{c}"/>'
    if style.marker == "diamond":
        d = r + 1
        pts = f"{x:.1f},{y - d:.1f} {x + d:.1f},{y:.1f} {x:.1f},{y + d:.1f} {x - d:.1f},{y:.1f}"
        return f'<polygon points="{pts}" fill="{c}"/>'
    if style.marker == "cross":
        return (f'<path d="M{x - r:.1f} {y - r:.1f}L{x + r:.1f} {y + r:.1f}M{x - r:.1f} {y + r:.1f}'
                f'L{x + r:.1f} {y - r:.1f}" stroke="{c}" stroke-width="2.5"/>')
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}" fill="{c}"/>'


def _hatch_pattern(pattern_id: str, style: Style) -> str:
    """A fill of the style's colour with white texture (keeps >= 3:1 against the page)."""
    c = style.colour
    texture = {
        "solid": "",
        "diagonal": '<path d="M-2 2L2 -2M0 8L8 0M6 10L10 6" stroke="#fff" stroke-width="1.6"/>',
        "dots": '<circle cx="4" cy="4" r="1.6" fill="#fff"/>',
        "cross": '<path d="M0 4H8M4 0V8" stroke="#fff" stroke-width="1.4"/>',
        "horizontal": '<path d="M0 4H8" stroke="#fff" stroke-width="1.6"/>',
        "vertical": '<path d="M4 0V8" stroke="#fff" stroke-width="1.6"/>',
    }[style.hatch]
    return (f'<pattern id="{pattern_id}" width="8" height="8" patternUnits="userSpaceOnUse">'
            f'<rect width="8" height="8" fill="{c}"/>{texture}</pattern>')


# ------------------------------------------------------------------------------ bar chart


def bar_chart(chart_id: str, title: str, summary: str, bars: Sequence[Bar], *,
              columns: Sequence[str], value_text: Callable[[float | None], str],
              maximum: float | None = None, caption: str | None = None) -> Chart:
    """Horizontal bars, one per row, each with its written value at its end."""
    width, label_w, value_w, row_h, top = 680, 250, 90, 30, 8
    bar_area = width - label_w - value_w
    top_value = maximum if maximum is not None else nice_ceiling(
        max((b.value or 0 for b in bars), default=0))
    height = top + row_h * max(len(bars), 1) + 8
    parts = _open_svg(chart_id, title, summary, width, height)
    style = PALETTE[0]
    for i, bar in enumerate(bars):
        y = top + i * row_h
        parts.append(_label(label_w - 8, y + 19, bar.label))
        length = 0.0 if not bar.value or top_value <= 0 else bar_area * min(bar.value / top_value, 1)
        if length > 0:
            parts.append(f'<rect x="{label_w}" y="{y + 5}" width="{length:.1f}" height="{row_h - 10}" '
                         f'fill="{style.colour}"/>')
        parts.append(_text(label_w + length + 6, y + 19, value_text(bar.value)))
    parts.append(f'<line x1="{label_w}" y1="{top}" x2="{label_w}" y2="{height - 8}" '
                 f'stroke="{GRID}" stroke-width="1"/>')
    parts.append("</svg>")
    rows = tuple((b.label, value_text(b.value), *b.extra) for b in bars)
    return Chart(chart_id, title, summary, Markup("".join(parts)),
                 Table(caption or title, tuple(columns), rows), empty=not bars)


# ------------------------------------------------------------------------------ line chart


def line_chart(chart_id: str, title: str, summary: str, x_labels: Sequence[str],
               series: Sequence[Series], *, x_column: str, lang: str = "de",
               caption: str | None = None) -> Chart:
    """Lines over time, one per series: colour, dash pattern and marker shape differ."""
    width, height = 700, 300
    left, right, top, bottom = 52, 175, 14, 44
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max((v for s in series for v in s.values), default=0)
    top_value = nice_ceiling(peak)
    n = len(x_labels)

    def x_of(i: int) -> float:
        return left + (plot_w / 2 if n == 1 else plot_w * i / (n - 1))

    def y_of(v: float) -> float:
        return top + plot_h * (1 - v / top_value)

    parts = _open_svg(chart_id, title, summary, width, height)
    intervals = min((5, 4), key=lambda n: decimals(top_value / n))
    for k in range(intervals + 1):  # grid lines with their values
        v = top_value * k / intervals
        y = y_of(v)
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" '
                     f'stroke="{GRID}" stroke-width="{1 if k == 0 else 0.5}"/>')
        parts.append(_text(left - 6, y + 4, number(v, lang, decimals(v)), "end", 12))
    step = max(1, math.ceil(n / 6))
    for i in range(0, n, step):
        parts.append(_text(x_of(i), top + plot_h + 18, x_labels[i], "middle", 12))
    for idx, s in enumerate(series):
        style = PALETTE[idx % len(PALETTE)]
        points = [(x_of(i), y_of(v)) for i, v in enumerate(s.values)]
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
            dash = f' stroke-dasharray="{style.dash}"' if style.dash else ""
            parts.append(f'<polyline points="{path}" fill="none" stroke="{style.colour}" '
                         f'stroke-width="2.5"{dash}/>')
        parts.extend(_marker(style, x, y) for x, y in points)
        # legend on the right: the line's look and its name
        ly = top + 12 + idx * 24
        lx = left + plot_w + 14
        dash = f' stroke-dasharray="{style.dash}"' if style.dash else ""
        parts.append(f'<line x1="{lx}" y1="{ly}" x2="{lx + 28}" y2="{ly}" stroke="{style.colour}" '
                     f'stroke-width="2.5"{dash}/>')
        parts.append(_marker(style, lx + 14, ly))
        parts.append(_text(lx + 34, ly + 4, fit(s.name, width - lx - 34 - EDGE, 12), size=12))
    parts.append("</svg>")
    rows = tuple((label, *(number(s.values[i], lang) for s in series))
                 for i, label in enumerate(x_labels))
    return Chart(chart_id, title, summary, Markup("".join(parts)),
                 Table(caption or title, (x_column, *(s.name for s in series)), rows),
                 empty=n == 0 or not series)


# ------------------------------------------------------------------------------ stacked bars


def stacked_bar_chart(chart_id: str, title: str, summary: str, categories: Sequence[str],
                      bars: Sequence[StackedBar], *, label_column: str, lang: str = "de",
                      caption: str | None = None, extra_columns: Sequence[str] = ()) -> Chart:
    """100 % bars split by category (e.g. yes / rather yes / rather no / no).

    Each segment has its own hatching besides its colour, white gaps between segments,
    and its share written inside when there is room; the legend names them in order.
    """
    width, label_w, right, row_h, legend_h = 680, 250, 16, 32, 30
    bar_area = width - label_w - right
    height = legend_h + row_h * max(len(bars), 1) + 8
    parts = _open_svg(chart_id, title, summary, width, height)
    styles = [PALETTE[i % len(PALETTE)] for i in range(len(categories))]
    parts.append("<defs>" + "".join(_hatch_pattern(f"{chart_id}-p{i}", s)
                                    for i, s in enumerate(styles)) + "</defs>")
    lx = float(label_w)
    for i, name in enumerate(categories):  # legend
        parts.append(f'<rect x="{lx:.1f}" y="6" width="16" height="16" fill="url(#{chart_id}-p{i})"/>')
        shown = fit(name, width - lx - 21 - EDGE, 12)
        parts.append(_text(lx + 21, 19, shown, size=12))
        lx += 30 + text_width(shown, 12)
    for row, bar in enumerate(bars):
        y = legend_h + row * row_h
        parts.append(_label(label_w - 8, y + 20, bar.label))
        total = sum(bar.counts)
        x = float(label_w)
        for i, count in enumerate(bar.counts):
            if total <= 0 or count <= 0:
                continue
            w = bar_area * count / total
            parts.append(f'<rect x="{x:.1f}" y="{y + 5}" width="{w:.1f}" height="{row_h - 10}" '
                         f'fill="url(#{chart_id}-p{i})" stroke="{BACKGROUND}" stroke-width="1.5"/>')
            if w >= 42:  # the share inside, on a white plate so it reads on any hatching
                cx, cy = x + w / 2, y + row_h / 2
                parts.append(f'<rect x="{cx - 19:.1f}" y="{cy - 8:.1f}" width="38" height="16" '
                             f'rx="3" fill="{BACKGROUND}"/>')
                parts.append(_text(cx, cy + 4.5, percent(count / total, lang), "middle", 11))
            x += w
        if total <= 0:
            parts.append(_text(label_w + 4, y + 20, "–"))
    parts.append("</svg>")
    rows = []
    for bar in bars:
        total = sum(bar.counts)
        cells = [f"{number(c, lang)} ({percent(c / total if total else None, lang)})"
                 for c in bar.counts]
        rows.append((bar.label, *cells, *bar.extra))
    return Chart(chart_id, title, summary, Markup("".join(parts)),
                 Table(caption or title, (label_column, *categories, *extra_columns), tuple(rows)),
                 empty=not bars)
