"""The footer of every mail: who is responsible for it, and the links to the legal pages.

A mail caused by a town's participation names the town as controller and links its
Impressum, privacy notice and accessibility statement; every other mail those of the
region. Written in the recipient's language, after the mail's own text.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from markupsafe import Markup, escape

from services.notifications.adapters.mails import ComposedMail
from soesmart import i18n
from soesmart.legal import REGION, legal_info

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
# The legal pages' paths below a controller's base (/stadt/<slug> or the region's /).
PAGES = (("footer_imprint", "/impressum"), ("footer_privacy", "/datenschutz"),
         ("footer_accessibility", "/barrierefreiheit"))


def footer_lines(public_url: str, town: str | None, lang: str) -> list[str]:
    """The footer as lines of text: the controller, then one line per legal page."""
    info = legal_info(town or REGION)
    translation = i18n.translations(LOCALE_DIR, lang)
    base = public_url.rstrip("/") + info.base_path
    return [i18n.text(translation, "footer_controller", body=info.body)] + [
        i18n.text(translation, key, url=base + path) for key, path in PAGES
    ]


def with_legal_footer(mail: ComposedMail, public_url: str, town: str | None) -> ComposedMail:
    """The mail with the legal footer after its text (plain text after "-- ", HTML at the end)."""
    lines = footer_lines(public_url, town, mail.lang)
    text = mail.text.rstrip("\n") + "\n\n-- \n" + "\n".join(lines) + "\n"
    links = Markup("<br>\n").join(_linked(line) for line in lines)
    block = Markup('<p style="margin: 2em 0 0 0; font-size: 14px; color: #4a4a4a;">{}</p>\n'
                   ).format(links)
    html = mail.html.replace("</body>", block + "</body>", 1) if "</body>" in mail.html \
        else mail.html + block
    return replace(mail, text=text, html=html)


def _linked(line: str) -> Markup:
    label, sep, url = line.rpartition(": ")
    if sep and url.startswith(("http://", "https://")):
        return Markup('{}: <a href="{}">{}</a>').format(label, url, url)
    return escape(line)
