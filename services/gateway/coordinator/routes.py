"""Routes of the regional coordinators: catalogue, status changes, combined results, mail log.

Thin: each route hands the request to `api` (JSON, with its OpenAPI metadata) or
`pages` (HTML under /verwaltung/region).
"""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Request, Response

from services.gateway.coordinator import api as coordinator_api
from services.gateway.coordinator import pages as coordinator_pages
from services.gateway.web.openapi import LIMIT, MIN_ANSWERS, TOWN_Q, Param
from services.gateway.web.page import Page
from services.gateway.web.routing import api as route
from services.gateway.web.routing import staff_page
from soesmart import contracts as c

REGION = "/verwaltung/region"


class CoordinatorRoutes:
    app: Any  # provided by GatewayService
    backend: Any

    # ------------------------------------------------------------------ JSON: catalogue
    @route("POST", "/api/v1/measures/<string:code>/status",
           "Change a measure's status (with note and progress)", "measures", auth="coordinator",
           body=coordinator_api.StatusBody, response=c.MeasureDetail,
           errors=(401, 403, 404, 409, 422))
    def api_change_status(self, request: Request, code: str) -> Response:
        return coordinator_api.change_status(self.backend, self.app.settings, request, code)

    @route("POST", "/api/v1/measures/import",
           "Import a catalogue file (CSV or JSON); all rows or none", "measures",
           auth="coordinator", body=None, body_type="text/csv", response=c.ImportReport,
           errors=(401, 403, 413, 415, 422))
    def api_import_catalogue(self, request: Request) -> Response:
        return coordinator_api.import_catalogue(self.backend, self.app.settings, request)

    # ------------------------------------------------------------------ JSON: combined results
    @route("GET", "/api/v1/results/top", "The region's top measures by support", "results",
           auth="coordinator", response=c.TopMeasures, query=(LIMIT, MIN_ANSWERS, TOWN_Q),
           errors=(401, 403, 404, 422))
    def api_results_top(self, request: Request) -> Response:
        return coordinator_api.results_top(self.backend, self.app.settings, request)

    @route("GET", "/api/v1/results/measures/<string:code>/towns",
           "Town against town for one measure", "results", auth="coordinator",
           response=c.TownComparison, errors=(401, 403, 404))
    def api_results_compare_towns(self, request: Request, code: str) -> Response:
        return coordinator_api.results_compare_towns(self.backend, self.app.settings, request, code)

    @route("GET", "/api/v1/results/disagreements", "Measures where towns disagree most",
           "results", auth="coordinator", response=c.Disagreements, query=(LIMIT, MIN_ANSWERS),
           errors=(401, 403, 422))
    def api_results_disagreements(self, request: Request) -> Response:
        return coordinator_api.results_disagreements(self.backend, self.app.settings, request)

    @route("GET", "/api/v1/results/participation", "Participation per town and day", "results",
           auth="coordinator", response=c.ParticipationPerDay,
           query=(Param("since", {"type": "string", "format": "date"}), TOWN_Q),
           errors=(401, 403, 404, 422))
    def api_results_participation(self, request: Request) -> Response:
        return coordinator_api.results_participation(self.backend, self.app.settings, request)

    @route("GET", "/api/v1/results/export", "Combined results as CSV for German spreadsheets",
           "results", auth="coordinator", response=None, response_type="text/csv",
           errors=(401, 403))
    def api_results_export(self, request: Request) -> Response:
        return coordinator_api.results_export(self.backend, self.app.settings, request)

    # ------------------------------------------------------------------ JSON: mail
    @route("GET", "/api/v1/admin/deliveries", "Delivery log of the mails", "mail",
           auth="coordinator", response=c.DeliveryLog, query=(LIMIT,), errors=(401, 403, 422))
    def api_delivery_log(self, request: Request) -> Response:
        return coordinator_api.delivery_log(self.backend, self.app.settings, request)

    # ------------------------------------------------------------------ pages
    @staff_page("GET", REGION)
    def admin_region(self, page: Page) -> Response:
        return page.redirect(REGION + "/ergebnisse")

    @staff_page("GET", REGION + "/ergebnisse")
    def admin_region_results(self, page: Page) -> Response:
        return coordinator_pages.region_home(page, self.backend)

    @staff_page("GET", REGION + "/ergebnisse.csv")
    def admin_region_results_csv(self, page: Page) -> Response:
        return coordinator_pages.regional_results_csv(page, self.backend)

    @staff_page("GET", REGION + "/katalog")
    def admin_catalogue(self, page: Page) -> Response:
        return coordinator_pages.catalogue_page(page, self.backend)

    @staff_page("POST", REGION + "/katalog/import")
    def admin_catalogue_import(self, page: Page) -> Response:
        return coordinator_pages.catalogue_import(page, self.backend)

    @staff_page("GET", REGION + "/katalog/export.<string:fmt>")
    def admin_catalogue_export(self, page: Page, fmt: str) -> Response:
        return coordinator_pages.catalogue_export(page, self.backend, fmt)

    @staff_page("GET", REGION + "/massnahmen/<string:code>")
    def admin_measure(self, page: Page, code: str) -> Response:
        return coordinator_pages.measure_page(page, self.backend, code)

    @staff_page("POST", REGION + "/massnahmen/<string:code>/status")
    def admin_measure_status(self, page: Page, code: str) -> Response:
        return coordinator_pages.measure_status(page, self.backend, code)

    @staff_page("GET", REGION + "/zustellungen")
    def admin_deliveries(self, page: Page) -> Response:
        return coordinator_pages.deliveries_page(page, self.backend)

    @staff_page("GET", REGION + "/exporte")
    def admin_exports(self, page: Page) -> Response:
        return coordinator_pages.exports_page(page)
