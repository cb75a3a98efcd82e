"""Routes of town admins and coordinators (JSON API and pages); mixed into GatewayService.

Thin: each route hands the request to `admin_api` (JSON) or `admin_pages` (HTML).
Staff pages answer anonymous visitors with 401 and a link to the staff sign-in.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from nameko.web.handlers import http
from werkzeug.wrappers import Request, Response

from services.gateway.town_admin import api as admin_api
from services.gateway.town_admin import pages as admin_pages
from services.gateway.town_admin.pages import SignInRequired
from services.gateway.web.page import Page
from services.gateway.web.routing import json_route, page_route

TOWN = "/api/v1/towns/<string:town>"
CONSULTATION = TOWN + "/consultations/<string:cid>"
STAFF_TOWN = "/verwaltung/stadt/<string:town>"
STAFF_CONSULTATION = STAFF_TOWN + "/beteiligungen/<string:cid>"
REGION = "/verwaltung/region"


def staff_page(fn: Callable[..., Response]) -> Callable[..., Response]:
    """Between `page_route` and the route: nobody signed in gets 401 and the way to sign in."""
    @wraps(fn)
    def wrapper(self: Any, page: Page, *args: Any, **kwargs: Any) -> Response:
        try:
            response = fn(self, page, *args, **kwargs)
        except SignInRequired:
            response = admin_pages.sign_in_needed(page)
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    return wrapper


class AdminRoutes:
    app: Any  # provided by GatewayService
    backend: Any

    # ------------------------------------------------------------------ JSON: consultations
    @http("POST", TOWN + "/consultations")
    @json_route
    def api_create_consultation(self, request: Request, town: str) -> Response:
        return admin_api.create_consultation(self.backend, self.app.settings, request, town)

    @http("GET", CONSULTATION)
    @json_route
    def api_consultation(self, request: Request, town: str, cid: str) -> Response:
        return admin_api.get_consultation(self.backend, self.app.settings, request, town, cid)

    @http("PATCH", CONSULTATION)
    @json_route
    def api_update_consultation(self, request: Request, town: str, cid: str) -> Response:
        return admin_api.update_consultation(self.backend, self.app.settings, request, town, cid)

    @http("POST", CONSULTATION + "/phase")
    @json_route
    def api_consultation_phase(self, request: Request, town: str, cid: str) -> Response:
        return admin_api.change_phase(self.backend, self.app.settings, request, town, cid)

    @http("GET", CONSULTATION + "/results")
    @json_route
    def api_town_results(self, request: Request, town: str, cid: str) -> Response:
        return admin_api.town_results(self.backend, self.app.settings, request, town, cid)

    @http("GET", CONSULTATION + "/results.csv")
    @json_route
    def api_town_results_csv(self, request: Request, town: str, cid: str) -> Response:
        return admin_api.town_results_csv(self.backend, self.app.settings, request, town, cid)

    # ------------------------------------------------------------------ JSON: moderation, ideas
    @http("GET", TOWN + "/moderation")
    @json_route
    def api_moderation_queue(self, request: Request, town: str) -> Response:
        return admin_api.moderation_queue(self.backend, self.app.settings, request, town)

    @http("POST", TOWN + "/moderation")
    @json_route
    def api_moderate(self, request: Request, town: str) -> Response:
        return admin_api.moderate(self.backend, self.app.settings, request, town)

    @http("GET", TOWN + "/moderation/log")
    @json_route
    def api_moderation_log(self, request: Request, town: str) -> Response:
        return admin_api.moderation_log(self.backend, self.app.settings, request, town)

    @http("POST", TOWN + "/ideas/<string:idea_id>/decision")
    @json_route
    def api_decide_idea(self, request: Request, town: str, idea_id: str) -> Response:
        return admin_api.decide_idea(self.backend, self.app.settings, request, town, idea_id)

    # ------------------------------------------------------------------ pages: town admins
    @http("GET", STAFF_TOWN + "/beteiligungen")
    @page_route
    @staff_page
    def admin_consultations(self, page: Page, town: str) -> Response:
        return admin_pages.town_home(page, self.backend, town)

    @http("POST", STAFF_TOWN + "/beteiligungen")
    @page_route
    @staff_page
    def admin_create_consultation(self, page: Page, town: str) -> Response:
        return admin_pages.consultation_create(page, self.backend, town)

    @http("GET", STAFF_TOWN + "/beteiligungen/neu")
    @page_route
    @staff_page
    def admin_new_consultation(self, page: Page, town: str) -> Response:
        return admin_pages.consultation_new(page, self.backend, town)

    @http("GET", STAFF_CONSULTATION)
    @page_route
    @staff_page
    def admin_consultation(self, page: Page, town: str, cid: str) -> Response:
        return admin_pages.consultation_detail(page, self.backend, town, cid)

    @http("POST", STAFF_CONSULTATION)
    @page_route
    @staff_page
    def admin_update_consultation(self, page: Page, town: str, cid: str) -> Response:
        return admin_pages.consultation_update(page, self.backend, town, cid)

    @http("GET", STAFF_CONSULTATION + "/bearbeiten")
    @page_route
    @staff_page
    def admin_edit_consultation(self, page: Page, town: str, cid: str) -> Response:
        return admin_pages.consultation_edit(page, self.backend, town, cid)

    @http("POST", STAFF_CONSULTATION + "/phase")
    @page_route
    @staff_page
    def admin_consultation_phase(self, page: Page, town: str, cid: str) -> Response:
        return admin_pages.consultation_phase(page, self.backend, town, cid)

    @http("GET", STAFF_CONSULTATION + "/ergebnisse")
    @page_route
    @staff_page
    def admin_consultation_results(self, page: Page, town: str, cid: str) -> Response:
        return admin_pages.results_page(page, self.backend, town, cid)

    @http("GET", STAFF_CONSULTATION + "/ergebnisse.csv")
    @page_route
    @staff_page
    def admin_consultation_results_csv(self, page: Page, town: str, cid: str) -> Response:
        return admin_pages.results_csv(page, self.backend, town, cid)

    @http("GET", STAFF_TOWN + "/ergebnisse")
    @page_route
    @staff_page
    def admin_town_results(self, page: Page, town: str) -> Response:
        return admin_pages.town_home(page, self.backend, town, results_only=True)

    @http("GET", STAFF_TOWN + "/moderation")
    @page_route
    @staff_page
    def admin_moderation(self, page: Page, town: str) -> Response:
        return admin_pages.moderation_page(page, self.backend, town)

    @http("POST", STAFF_TOWN + "/moderation")
    @page_route
    @staff_page
    def admin_moderate(self, page: Page, town: str) -> Response:
        return admin_pages.moderation_act(page, self.backend, town)

    @http("GET", STAFF_TOWN + "/ideen")
    @page_route
    @staff_page
    def admin_ideas(self, page: Page, town: str) -> Response:
        return admin_pages.ideas_page(page, self.backend, town)

    @http("POST", STAFF_TOWN + "/ideen/<string:idea_id>/entscheidung")
    @page_route
    @staff_page
    def admin_decide_idea(self, page: Page, town: str, idea_id: str) -> Response:
        return admin_pages.idea_decide(page, self.backend, town, idea_id)

    # ------------------------------------------------------------------ pages: coordinators
    @http("GET", REGION)
    @page_route
    @staff_page
    def admin_region(self, page: Page) -> Response:
        return page.redirect(REGION + "/ergebnisse")

    @http("GET", REGION + "/ergebnisse")
    @page_route
    @staff_page
    def admin_region_results(self, page: Page) -> Response:
        return admin_pages.region_home(page, self.backend)

    @http("GET", REGION + "/ergebnisse.csv")
    @page_route
    @staff_page
    def admin_region_results_csv(self, page: Page) -> Response:
        return admin_pages.regional_results_csv(page, self.backend)

    @http("GET", REGION + "/katalog")
    @page_route
    @staff_page
    def admin_catalogue(self, page: Page) -> Response:
        return admin_pages.catalogue_page(page, self.backend)

    @http("POST", REGION + "/katalog/import")
    @page_route
    @staff_page
    def admin_catalogue_import(self, page: Page) -> Response:
        return admin_pages.catalogue_import(page, self.backend)

    @http("GET", REGION + "/katalog/export.<string:fmt>")
    @page_route
    @staff_page
    def admin_catalogue_export(self, page: Page, fmt: str) -> Response:
        return admin_pages.catalogue_export(page, self.backend, fmt)

    @http("GET", REGION + "/massnahmen/<string:code>")
    @page_route
    @staff_page
    def admin_measure(self, page: Page, code: str) -> Response:
        return admin_pages.measure_page(page, self.backend, code)

    @http("POST", REGION + "/massnahmen/<string:code>/status")
    @page_route
    @staff_page
    def admin_measure_status(self, page: Page, code: str) -> Response:
        return admin_pages.measure_status(page, self.backend, code)

    @http("GET", REGION + "/zustellungen")
    @page_route
    @staff_page
    def admin_deliveries(self, page: Page) -> Response:
        return admin_pages.deliveries_page(page, self.backend)

    @http("GET", REGION + "/exporte")
    @page_route
    @staff_page
    def admin_exports(self, page: Page) -> Response:
        return admin_pages.exports_page(page)
