"""The gettext catalogues: every message in German and English, and every message the code asks for."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from soesmart.i18n import LANGUAGES, LOCALES, po_path, text, translations

ROOT = Path(__file__).resolve().parents[2]
# Every package with texts for people, and where its messages are asked for.
COMPONENTS = {
    "soesmart": ROOT / "soesmart",
    "gateway": ROOT / "services" / "gateway",
    "notifications": ROOT / "services" / "notifications",
}
EXTRACT = [
    ("**/templates/**.html", "jinja2"),
    ("**/templates/**.txt", "jinja2"),
    ("**.py", "python"),
]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "pgettext": ((1, "c"), 2), "t": None}
PLACEHOLDER = re.compile(r"%\((\w+)\)")


def _catalogue(component: str, lang: str) -> Catalog:
    with po_path(COMPONENTS[component] / "locale", lang).open("rb") as po:
        return read_po(po, locale=LOCALES[lang])


def _messages(catalogue: Catalog) -> dict[tuple[str, str | None], Message]:
    return {(m.id if isinstance(m.id, str) else m.id[0], m.context): m for m in catalogue if m.id}


def _forms(message: Message) -> list[str]:
    return list(message.string) if isinstance(message.string, tuple) else [message.string]


class _Any(dict[str, object]):
    def __missing__(self, key: str) -> object:
        return 3


@pytest.mark.parametrize("component", COMPONENTS)
def test_every_message_has_a_german_and_an_english_translation(component: str) -> None:
    de, en = (_messages(_catalogue(component, lang)) for lang in LANGUAGES)
    assert de, f"{component}: empty catalogue"
    assert sorted(set(de) - set(en), key=str) == [], "only in German"
    assert sorted(set(en) - set(de), key=str) == [], "only in English"
    untranslated = [(key, lang) for lang, messages in (("de", de), ("en", en))
                    for key, message in messages.items() if not all(_forms(message))]
    assert untranslated == []
    fuzzy = [key for messages in (de, en) for key, message in messages.items() if message.fuzzy]
    assert fuzzy == []


@pytest.mark.parametrize("component", COMPONENTS)
def test_both_languages_fill_in_the_same_values(component: str) -> None:
    de, en = (_messages(_catalogue(component, lang)) for lang in LANGUAGES)
    differing = {key: (sorted(set(PLACEHOLDER.findall(" ".join(_forms(message))))),
                       sorted(set(PLACEHOLDER.findall(" ".join(_forms(en[key]))))))
                 for key, message in de.items() if key in en}
    assert {key: names for key, names in differing.items() if names[0] != names[1]} == {}


@pytest.mark.parametrize("component", COMPONENTS)
@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_message_can_be_filled_in(component: str, lang: str) -> None:
    # A lone "%" (say "100 %" instead of "100 %%") would fail only when the page is shown.
    for message in _catalogue(component, lang):
        for form in _forms(message) if message.id else []:
            form % _Any()


@pytest.mark.parametrize("component", ["gateway", "notifications"])
def test_every_message_the_code_and_templates_ask_for_is_in_the_catalogue(component: str) -> None:
    known = {key for key, _ in _messages(_catalogue(component, "de"))}
    asked = {
        (msgid if isinstance(msgid, str) else msgid[0], path, line)
        for path, line, msgid, _comments, _context in extract_from_dir(
            str(COMPONENTS[component]), EXTRACT, keywords=KEYWORDS, comment_tags=())
    }
    assert len(asked) > 20
    missing = sorted(f"{path}:{line}: {msgid}" for msgid, path, line in asked
                     if msgid not in known and not _glued(msgid, known))
    assert missing == []


def _glued(msgid: str, known: set[str]) -> bool:
    """Babel reads `t("a" if x else "b")` as the one message "ab": both must be known."""
    return any(msgid[:i] in known and (msgid[i:] in known or _glued(msgid[i:], known))
               for i in range(1, len(msgid)))


def test_a_message_is_found_in_the_towns_language_and_its_plural_by_count() -> None:
    pages = translations(COMPONENTS["gateway"] / "locale", "de")
    assert text(pages, "adm_n_flags", n=1) == "1 Meldung"
    assert text(pages, "adm_n_flags", n=2) == "2 Meldungen"
    # the shared vocabulary stands behind every service's catalogue
    assert pages.pgettext("field_of_action", "cycling") == "Radverkehr"
