"""Page texts from the gateway's gettext catalogues (`locale/<lang>/LC_MESSAGES/messages.po`).

A text is named by its message id (`q_effective`); German is the first language,
English the second. Templates use them through jinja2.ext.i18n (`_("key", name=...)`,
`ngettext("key", "key", count)`), Python code through `text` or `Page.t`.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from soesmart import i18n
from soesmart.i18n import label

HERE = Path(__file__).resolve().parent
LOCALE_DIR = HERE / "locale"


def text(key: str, lang: str, n: int | None = None, **values: Any) -> str:
    """The text `key` in `lang` with its values filled in; with `n` the form for that count."""
    return i18n.text(i18n.translations(LOCALE_DIR, lang), key, n, **values)


@lru_cache(maxsize=len(i18n.LANGUAGES))
def environment(lang: str) -> Environment:
    """The page templates with the texts, dates and numbers of one language."""
    env = Environment(
        loader=FileSystemLoader(str(HERE / "templates")),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["label"] = label
    return i18n.install(env, LOCALE_DIR, lang)
