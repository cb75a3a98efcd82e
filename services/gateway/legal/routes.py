"""Routes of the legal pages: the region's at /impressum, …; a town's at /stadt/<town>/impressum, ….

Mixed into GatewayService, which provides `self.backend`.
"""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Response

from services.gateway.legal import pages as legal
from services.gateway.web.page import Page
from services.gateway.web.routing import page

TOWN = "/stadt/<string:town>"


class LegalRoutes:
    backend: Any

    @page("GET", "/impressum")
    def imprint(self, page: Page) -> Response:
        return legal.legal_page(page, "impressum", None)

    @page("GET", "/datenschutz")
    def privacy(self, page: Page) -> Response:
        return legal.legal_page(page, "datenschutz", None)

    @page("GET", "/barrierefreiheit")
    def accessibility(self, page: Page) -> Response:
        return legal.legal_page(page, "barrierefreiheit", None)

    @page("POST", "/barrierefreiheit")
    def accessibility_feedback(self, page: Page) -> Response:
        return legal.feedback_form(page, self.backend, None)

    @page("GET", TOWN + "/impressum")
    def town_imprint(self, page: Page, town: str) -> Response:
        return legal.legal_page(page, "impressum", town)

    @page("GET", TOWN + "/datenschutz")
    def town_privacy(self, page: Page, town: str) -> Response:
        return legal.legal_page(page, "datenschutz", town)

    @page("GET", TOWN + "/barrierefreiheit")
    def town_accessibility(self, page: Page, town: str) -> Response:
        return legal.legal_page(page, "barrierefreiheit", town)

    @page("POST", TOWN + "/barrierefreiheit")
    def town_accessibility_feedback(self, page: Page, town: str) -> Response:
        return legal.feedback_form(page, self.backend, town)
