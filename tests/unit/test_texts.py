"""Page texts: both languages for every key, and the singular when there is one of a thing."""

from __future__ import annotations

from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from services.gateway.web.page import Page
from soesmart.config import Settings


def _page(lang: str) -> Page:
    return Page(Request(EnvironBuilder(path="/", query_string=f"lang={lang}").get_environ()),
                Settings())


def test_one_flag_is_one_meldung_and_two_are_meldungen() -> None:
    de, en = _page("de"), _page("en")
    assert de.t("adm_n_flags", n=1) == "1 Meldung"
    assert de.t("adm_n_flags", n=2) == "2 Meldungen"
    assert en.t("adm_n_flags", n=1) == "1 flag"
    assert de.t("adm_import_report_caption", n=1).startswith("1 Problem;")
    assert "mindestens einer Antwort" in de.t("adm_disagree_hint", n=1)
