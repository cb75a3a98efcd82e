"""The printed questionnaire of a consultation: one sheet per respondent, each with its number.

A PDF made with fpdf2 and an embedded DejaVu Sans (subset shipped in `../fonts`, so
umlauts print on any machine). Each sheet lists the consultation's measures with the
two questions and the scales of the online form; the support boxes are numbered
(1 ja … 4 nein) as the entry form takes them. For assistive technology the document
has its language, title and subject, an outline and a structure tree of the headings
(sheets and measures): what fpdf2 can tag; body text is not tagged by it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fpdf import FPDF

FONTS = Path(__file__).resolve().parent.parent / "fonts"
MAX_SHEETS = 500
BOX = "\u25a1"  # an empty box to tick


def questionnaire_pdf(consultation: dict[str, Any], town_name: str, numbers: Sequence[int],
                      t: Callable[..., str], support_labels: Sequence[str]) -> bytes:
    """The sheets `numbers` of the consultation as one PDF."""
    from fpdf import FPDF  # imported when needed: it costs the gateway's start-up ~1 s of CPU
    from fpdf.fonts import TextStyle

    pdf = FPDF(format="A4")
    pdf.set_lang("de")
    pdf.set_title(f"{t('paper_pdf_title')}: {consultation['title']}")
    pdf.set_subject(f"{town_name} – {t('paper_pdf_subject')}")
    pdf.set_author(f"{town_name} – Bürgerbeteiligung")
    pdf.set_creator("soesmart")
    pdf.add_font("DejaVu", "", str(FONTS / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(FONTS / "DejaVuSans-Bold.ttf"))
    pdf.set_section_title_styles(
        TextStyle("DejaVu", "B", 15, t_margin=0, b_margin=2),
        TextStyle("DejaVu", "B", 11, t_margin=3, b_margin=1))
    pdf.set_auto_page_break(True, margin=18)
    for number in numbers:
        _sheet(pdf, consultation, town_name, number, t, support_labels)
    return bytes(pdf.output())


def _sheet(pdf: FPDF, consultation: dict[str, Any], town_name: str, number: int,
           t: Callable[..., str], support_labels: Sequence[str]) -> None:
    pdf.add_page()
    pdf.set_font("DejaVu", "B", 12)
    pdf.cell(0, 8, t("paper_pdf_sheet_number", number=number), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.start_section(f"{t('paper_pdf_sheet', number=number)}: {consultation['title']}", level=0)
    pdf.set_font("DejaVu", "", 9.5)
    pdf.multi_cell(0, 5, t("paper_pdf_intro", town=town_name, ends_on=consultation["ends_on_text"]),
                   new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1)
    for m in consultation["measures"]:
        if pdf.will_page_break(34):
            pdf.add_page()
            pdf.set_font("DejaVu", "B", 10)
            pdf.cell(0, 6, t("paper_pdf_sheet_number", number=number), align="R", new_x="LMARGIN",
                     new_y="NEXT")
        pdf.start_section(f"{m['code']} {m['title']}", level=1)
        pdf.set_font("DejaVu", "", 9)
        if m.get("summary"):
            pdf.multi_cell(0, 4.5, m["summary"], new_x="LMARGIN", new_y="NEXT")
        _question(pdf, t("q_effective"), [f"{BOX} {i}" for i in range(1, 6)], t("q_effective_hint"))
        _question(pdf, t("q_support"),
                  [f"{BOX} {i} {label}" for i, label in enumerate(support_labels, start=1)], "")
        pdf.set_draw_color(180, 180, 180)
        pdf.line(pdf.l_margin, pdf.get_y() + 1, pdf.w - pdf.r_margin, pdf.get_y() + 1)
        pdf.ln(2)
    pdf.set_font("DejaVu", "", 8)
    pdf.multi_cell(0, 4, t("paper_pdf_footer", number=number), new_x="LMARGIN", new_y="NEXT")


def _question(pdf: FPDF, text: str, choices: list[str], hint: str) -> None:
    pdf.set_font("DejaVu", "B", 9)
    pdf.cell(0, 5.5, text + (f"  ({hint})" if hint else ""), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 11)
    width = (pdf.w - pdf.l_margin - pdf.r_margin) / max(len(choices), 5)
    for choice in choices:
        pdf.cell(width, 6.5, choice)
    pdf.ln(7)
