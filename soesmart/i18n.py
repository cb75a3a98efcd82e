"""Texts and formats for people: gettext catalogues (German first, English) and Babel's dates and numbers.

Every service keeps its texts in `<package>/locale/<lang>/LC_MESSAGES/messages.po`; the
labels of the shared vocabulary (status, support, programme, ...) are in the kernel's
own catalogue under `soesmart/locale/`, with the vocabulary's kind as message context.
Catalogues are read from the .po files when first used and compiled in memory, so no
compiled file has to be built or shipped. Dates and times are shown in the towns'
time zone (Europe/Berlin), whatever the server's.
"""

from __future__ import annotations

import gettext
import io
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from babel import dates as babel_dates
from babel import numbers as babel_numbers
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LANGUAGES = ("de", "en")
TIMEZONE = ZoneInfo("Europe/Berlin")
# British English writes the day first ("26 January 2027"), as the towns' English pages did.
LOCALES = {"de": "de_DE", "en": "en_GB"}
KERNEL_LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "messages"
# A moment to the minute: "01.12.2026 14:05", "1 Dec 2026, 14:05".
DATETIME_PATTERN = {"de": "dd.MM.yyyy HH:mm", "en": "d MMM yyyy, HH:mm"}

Day = date | datetime | str


def _locale(lang: str) -> Locale:
    return Locale.parse(LOCALES.get(lang, LOCALES["de"]))


def po_path(locale_dir: Path | str, lang: str) -> Path:
    return Path(locale_dir) / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


@lru_cache(maxsize=32)
def translations(locale_dir: Path | str = KERNEL_LOCALE_DIR, lang: str = "de") -> gettext.GNUTranslations:
    """The catalogue of `lang` in `locale_dir`, with the kernel's vocabulary behind it."""
    if lang not in LANGUAGES:
        lang = "de"
    with po_path(locale_dir, lang).open("rb") as po:
        catalogue = read_po(po, locale=LOCALES[lang])
    compiled = io.BytesIO()
    write_mo(compiled, catalogue)
    compiled.seek(0)
    result = gettext.GNUTranslations(compiled)
    if Path(locale_dir).resolve() != KERNEL_LOCALE_DIR:
        result.add_fallback(translations(KERNEL_LOCALE_DIR, lang))
    return result


def text(translation: gettext.NullTranslations, key: str, n: int | None = None,
         **values: Any) -> str:
    """The message `key` with its placeholders (`%(name)s`) filled; with `n` its plural form.

    A message without plural forms is the same for every `n`; the count is then
    available to it as `%(n)s` like any other value, and to plural forms also as `%(num)d`.
    """
    if not key:  # gettext's "" is the catalogue's header
        return ""
    if n is None:
        message = translation.gettext(key)
    else:
        message = translation.ngettext(key, key, n)
        if message == key:  # no plural forms: the plain message
            message = translation.gettext(key)
        values = {"n": n, "num": n, **values}
    return message % values


def label(kind: str, key: str | None, lang: str = "de") -> str:
    """A value of the shared vocabulary as people read it ("cycling" -> "Radverkehr")."""
    if key is None or key == "":  # gettext's "" is the catalogue's header
        return ""
    return translations(KERNEL_LOCALE_DIR, lang).pgettext(kind, str(key))


def _moment(value: datetime | str) -> datetime:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    # Everything stored and sent is UTC; SQLite and some payloads lose the zone.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def local_day(value: Day) -> date:
    """The calendar day in the towns of a day or a moment (a moment in UTC may be the day before)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if "T" in value or " " in value else date.fromisoformat(value)
    if isinstance(value, datetime):
        return _moment(value).astimezone(TIMEZONE).date()
    return value


def _read_then(value: Any, read: Callable[[Any], Any], render: Callable[[Any], str]) -> str:
    """"" for no value, the text as it is when `read` cannot make sense of it, else its rendering."""
    if value is None or value == "":
        return ""
    try:
        parsed = read(value)
    except ValueError:
        return str(value)
    return render(parsed)


def format_date(value: Day | None, lang: str = "de", style: str = "long") -> str:
    """A day: "26. Januar 2027" / "26 January 2027" (long), "26.01.2027" / "26 Jan 2027" (medium).

    `style` "day_month" gives the short form of a chart's axis: "26.01." / "26/01". An empty
    value gives ""; a text that is not a date is shown as it is.
    """
    if style == "day_month":
        return _read_then(value, local_day, lambda day: babel_dates.format_skeleton(
            "ddMM", day, locale=_locale(lang)))
    return _read_then(value, local_day, lambda day: babel_dates.format_date(
        day, style, locale=_locale(lang)))


def format_datetime(value: datetime | str | None, lang: str = "de") -> str:
    """A moment in the towns' time: "01.12.2026 14:05" / "1 Dec 2026, 14:05"."""
    return _read_then(value, _moment, lambda moment: babel_dates.format_datetime(
        moment, DATETIME_PATTERN.get(lang, DATETIME_PATTERN["de"]), tzinfo=TIMEZONE,
        locale=_locale(lang)))


def format_time(value: datetime | str | None, lang: str = "de") -> str:
    """The time of day of a moment in the towns' time: "14:05"."""
    return _read_then(value, _moment, lambda moment: babel_dates.format_time(
        moment, "HH:mm", tzinfo=TIMEZONE, locale=_locale(lang)))


def format_number(value: float | int | Decimal | None, lang: str = "de", places: int | None = None,
                  grouping: bool = True, max_places: int = 3) -> str:
    """A number: "12.345,5" / "12,345.5"; `places` fixes the decimals, else up to `max_places`.

    None gives "". Without grouping ("12345,5") for files that spreadsheets read.
    """
    if value is None:
        return ""
    if places is None:
        pattern = "#,##0" + ("." + "#" * max_places if max_places else "")
    else:
        pattern = "#,##0" + ("." + "0" * places if places else "")
    if not grouping:
        pattern = pattern.replace("#,##", "")
    return babel_numbers.format_decimal(value, format=pattern, locale=_locale(lang),
                                        group_separator=grouping)


def formatters(lang: str) -> Mapping[str, Callable[..., str]]:
    """The formats above bound to one language: the filters of the pages' and mails' templates."""
    return {
        "date": lambda value, style="long": format_date(value, lang, style),
        "datetime": lambda value: format_datetime(value, lang),
        "time": lambda value: format_time(value, lang),
        "number": lambda value, places=None: format_number(value, lang, places),
    }


def install(env: Any, locale_dir: Path | str, lang: str) -> Any:
    """Give a Jinja environment the catalogue of `lang` (jinja2.ext.i18n) and the formats.

    Templates then write `_("key", name=value)`, `ngettext("key", "key", count)` and
    `value | date`, `| datetime`, `| number`. The texts come back as plain strings, so
    an HTML environment escapes them and their values like any other output.
    """
    translation = translations(locale_dir, lang)
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(
        gettext=lambda key, **values: text(translation, key, **values),
        ngettext=lambda key, plural, n, **values: text(translation, key, n, **values),
        pgettext=lambda kind, key: translation.pgettext(kind, key),
        newstyle=False,
    )
    env.filters.update(formatters(lang))
    env.globals["lang"] = lang
    return env
