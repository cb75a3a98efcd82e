"""The legal pages of the region and of every town, and the legal footer of every mail.

Rendered without a network: a fake backend stands in for the notifications service.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from services.gateway.legal import pages as legal
from services.gateway.web.page import CSRF_COOKIE, Page
from services.notifications.adapters.legal_footer import with_legal_footer
from services.notifications.adapters.mails import compose
from soesmart.config import Settings
from soesmart.legal import TO_COMPLETE, controllers, legal_info
from soesmart.towns import towns

SETTINGS = Settings(retention_unconfirmed_days=7, retention_delivery_log_days=90)
DOCUMENTS = ("impressum", "datenschutz", "barrierefreiheit")


class FakeNotifications:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, dict[str, Any]]] = []

    def call(self, service: str, method: str, **kwargs: Any) -> Any:
        self.calls.append((service, method, kwargs))
        return {"status": "sent"}


def page_for(path: str, lang: str = "de", form: dict[str, str] | None = None) -> Page:
    builder = EnvironBuilder(path=path, method="POST" if form is not None else "GET",
                             query_string={"lang": lang},
                             data={"csrf": "t", **(form or {})} if form is not None else None,
                             headers={"Cookie": f"{CSRF_COOKIE}=t"})
    return Page(Request(builder.get_environ()), SETTINGS)


def html_of(response: Any) -> str:
    return response.get_data(as_text=True)


@pytest.mark.parametrize("lang", ["de", "en"])
@pytest.mark.parametrize("document", DOCUMENTS)
@pytest.mark.parametrize("town", [None, *towns().slugs])
def test_every_town_and_the_region_has_each_legal_page_in_both_languages(
        town: str | None, document: str, lang: str) -> None:
    base = f"/stadt/{town}" if town else ""
    response = legal.legal_page(page_for(f"{base}/{document}", lang), document, town)
    html = html_of(response)
    assert response.status_code == 200
    assert f'<html lang="{lang}">' in html
    info = legal_info(town or "region")
    assert info.body in html
    # The footer of the page links this controller's three legal pages
    for path in DOCUMENTS:
        assert f'href="{base}/{path}"' in html


def test_the_privacy_notice_names_the_configured_retention_and_the_nrw_authority() -> None:
    settings = Settings(retention_unconfirmed_days=3, retention_delivery_log_days=30)
    page = Page(Request(EnvironBuilder(path="/stadt/olpe/datenschutz").get_environ()), settings)
    html = html_of(legal.legal_page(page, "datenschutz", "olpe"))
    assert "nie bestätigt wurden: 3 Tage" in html
    assert "Zustellprotokoll: 30 Tage" in html
    assert "Landesbeauftragten für Datenschutz und Informationsfreiheit Nordrhein-Westfalen" in html
    assert "Art. 6 Abs. 1 lit. a" in html and "Art. 77 DSGVO" in html


def test_defaults_still_to_be_filled_in_are_marked_as_such() -> None:
    html = html_of(legal.legal_page(page_for("/stadt/soest/impressum"), "impressum", "soest"))
    assert TO_COMPLETE in html
    assert all(c.feedback_email for c in controllers())


def test_the_feedback_form_sends_the_message_to_the_town_without_an_account() -> None:
    backend = FakeNotifications()
    page = page_for("/stadt/menden/barrierefreiheit",
                    form={"message": "Der Kontrast der Karte ist zu gering.", "email": "",
                          "name": "", "page": "/stadt/menden"})
    response = legal.feedback_form(page, backend, "menden")  # type: ignore[arg-type]
    assert response.status_code == 200
    [(service, method, kwargs)] = backend.calls
    assert (service, method) == ("notifications", "send_accessibility_feedback")
    assert kwargs["command"]["town"] == "menden"
    assert kwargs["command"]["message"] == "Der Kontrast der Karte ist zu gering."


def test_an_empty_or_wrong_feedback_form_comes_back_with_the_fields_and_sends_nothing() -> None:
    backend = FakeNotifications()
    page = page_for("/barrierefreiheit", form={"message": "  ", "email": "kein-at"})
    response = legal.feedback_form(page, backend, None)  # type: ignore[arg-type]
    html = html_of(response)
    assert response.status_code == 422
    assert backend.calls == []
    assert 'href="#feedback-message"' in html and 'href="#feedback-email"' in html
    assert re.search(r'id="feedback-email"[^>]*aria-invalid="true"', html)


@pytest.mark.parametrize("lang,label", [("de", "Datenschutz"), ("en", "Privacy notice")])
def test_every_mail_names_the_controller_and_links_the_legal_pages(lang: str, label: str) -> None:
    mail = compose("citizen_link", lang, purpose="sign_in", display_name="", town_name="Olpe",
                   link_url="https://beteiligung.example.org/x", expires="2026-12-01T10:00:00+00:00")
    footed = with_legal_footer(mail, "https://beteiligung.example.org/", "olpe")
    assert "Stadt Olpe" in footed.text
    assert f"{label}: https://beteiligung.example.org/stadt/olpe/datenschutz" in footed.text
    assert 'href="https://beteiligung.example.org/stadt/olpe/barrierefreiheit"' in footed.html
    region = with_legal_footer(mail, "https://beteiligung.example.org", None)
    assert "https://beteiligung.example.org/impressum" in region.text
