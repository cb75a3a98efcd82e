"""The gateway: the only door from outside. Stateless; several can run side by side.

Routes are thin: each builds a Backend over the timed RPC client and hands the
request to `api` (JSON) or `pages` (HTML). Every error leaves through one place.
"""

from __future__ import annotations

import logging
from pathlib import Path

from nameko.web.handlers import http
from werkzeug.wrappers import Request, Response

from services.gateway.citizen.routes import CitizenRoutes
from services.gateway.public import api
from services.gateway.service_layer.staff import staff_accounts_for
from services.gateway.staff.routes import AuthRoutes
from services.gateway.town_admin import api as admin_api
from services.gateway.town_admin.routes import AdminRoutes
from services.gateway.web import page as pages
from services.gateway.web.backend import Backend
from services.gateway.web.errors import ApiError, json_response
from services.gateway.web.routing import json_route, page_route, secure
from soesmart.config import Settings
from soesmart.messaging.nameko_ext import TimedRpc
from soesmart.runtime import AppProvider
from soesmart.towns import towns

log = logging.getLogger(__name__)
STATIC = Path(__file__).resolve().parent.parent / "static"


class GatewayApp:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        # Staff accounts live in the gateway's database, shared by every gateway process.
        self.staff = staff_accounts_for(settings)
        if settings.demo:
            self.staff.ensure_demo_accounts(towns())
        else:
            self.staff.disable_demo_accounts()

    def background_loops(self) -> list:
        return []

    def stop(self) -> None:
        pass


class GatewayService(CitizenRoutes, AuthRoutes, AdminRoutes):
    name = "gateway"

    app: GatewayApp = AppProvider(GatewayApp)  # type: ignore[assignment]
    rpc = TimedRpc()

    @property
    def backend(self) -> Backend:
        return Backend(self.rpc)

    # ------------------------------------------------------------------ health
    @http("GET", "/healthz")
    @json_route
    def healthz(self, request: Request) -> Response:
        return json_response({"status": "ok"})

    @http("GET", "/readyz")
    @json_route
    def readyz(self, request: Request) -> Response:
        return api.readiness(Backend(self.rpc.with_timeout(2.0)))

    # ------------------------------------------------------------------ JSON API
    @http("GET", "/api/v1/towns")
    @json_route
    def api_towns(self, request: Request) -> Response:
        return api.list_towns()

    @http("GET", "/api/v1/towns/<string:town>/consultations")
    @json_route
    def api_consultations(self, request: Request, town: str) -> Response:
        return admin_api.town_consultations(self.backend, self.app.settings, request, town)

    @http("GET", "/api/v1/results")
    @json_route
    def api_results(self, request: Request) -> Response:
        return api.regional_results(self.backend)

    @http("GET", "/api/v1/measures")
    @json_route
    def api_measures(self, request: Request) -> Response:
        return admin_api.list_measures(self.backend, request)

    @http("GET", "/api/v1/measures/<string:code>")
    @json_route
    def api_measure(self, request: Request, code: str) -> Response:
        return api.get_measure(self.backend, code)

    @http("POST", "/api/v1/measures/<string:code>/status")
    @json_route
    def api_change_status(self, request: Request, code: str) -> Response:
        return api.change_status(self.backend, self.app.settings, request, code)

    @http("POST", "/api/v1/subscriptions")
    @json_route
    def api_subscribe(self, request: Request) -> Response:
        return api.subscribe(self.backend, self.app.settings, request)

    @http("POST", "/api/v1/subscriptions/confirm")
    @json_route
    def api_confirm(self, request: Request) -> Response:
        return api.confirm_subscription(self.backend, self.app.settings, request)

    @http("POST", "/api/v1/subscriptions/unsubscribe")
    @json_route
    def api_unsubscribe(self, request: Request) -> Response:
        return api.unsubscribe(self.backend, self.app.settings, request)

    # --- catalogue and combined results (measures)
    @http("POST", "/api/v1/measures/import")
    @json_route
    def api_import_catalogue(self, request: Request) -> Response:
        return api.import_catalogue(self.backend, self.app.settings, request)

    @http("GET", "/api/v1/measures/export")
    @json_route
    def api_export_catalogue(self, request: Request) -> Response:
        return api.export_catalogue(self.backend, request)

    @http("GET", "/api/v1/results/top")
    @json_route
    def api_results_top(self, request: Request) -> Response:
        return api.results_top(self.backend, self.app.settings, request)

    @http("GET", "/api/v1/results/measures/<string:code>/towns")
    @json_route
    def api_results_compare_towns(self, request: Request, code: str) -> Response:
        return api.results_compare_towns(self.backend, self.app.settings, request, code)

    @http("GET", "/api/v1/results/disagreements")
    @json_route
    def api_results_disagreements(self, request: Request) -> Response:
        return api.results_disagreements(self.backend, self.app.settings, request)

    @http("GET", "/api/v1/results/participation")
    @json_route
    def api_results_participation(self, request: Request) -> Response:
        return api.results_participation(self.backend, self.app.settings, request)

    @http("GET", "/api/v1/results/export")
    @json_route
    def api_results_export(self, request: Request) -> Response:
        return api.results_export(self.backend, self.app.settings, request)
    # --- end of catalogue and combined results

    @http("GET", "/api/openapi.json")
    @json_route
    def api_openapi(self, request: Request) -> Response:
        from services.gateway.web.openapi import document

        return json_response(document())

    @http("GET,POST,PUT,PATCH,DELETE", "/api/<path:rest>")
    @json_route
    def api_not_found(self, request: Request, rest: str) -> Response:
        raise ApiError("NOT_FOUND", f"Unbekannter Pfad /api/{rest}.")

    # ------------------------------------------------------------------ pages
    @http("GET", "/")
    @page_route
    def home(self, page: pages.Page) -> Response:
        return pages.home(page)

    @http("GET", "/massnahmen/<string:code>")
    @page_route
    def measure(self, page: pages.Page, code: str) -> Response:
        return pages.measure_page(page, self.backend, code)

    @http("POST", "/abo")
    @page_route
    def subscribe(self, page: pages.Page) -> Response:
        return pages.subscribe_form(page, self.backend)

    @http("GET", "/abo/bestaetigen")
    @page_route
    def confirm_page(self, page: pages.Page) -> Response:
        return pages.confirm_page(page)

    @http("POST", "/abo/bestaetigen")
    @page_route
    def confirm(self, page: pages.Page) -> Response:
        return pages.confirm_form(page, self.backend)

    @http("GET", "/abo/abmelden")
    @page_route
    def unsubscribe_page(self, page: pages.Page) -> Response:
        return pages.unsubscribe_page(page)

    @http("POST", "/abo/abmelden")
    @page_route
    def unsubscribe(self, page: pages.Page) -> Response:
        return pages.unsubscribe_form(page, self.backend)

    @http("POST", "/abo/abmelden/one-click")
    @json_route
    def unsubscribe_one_click(self, request: Request) -> Response:
        # RFC 8058: the mail client POSTs "List-Unsubscribe=One-Click"; no session, no CSRF.
        self.backend.call("notifications", "unsubscribe", token=request.args.get("token", ""))
        return json_response({"status": "unsubscribed"})

    # --- subscriptions and mail (notifications)
    @http("GET", "/abo/einstellungen")
    @page_route
    def preferences_page(self, page: pages.Page) -> Response:
        return pages.preferences_page(page, self.backend)

    @http("POST", "/abo/einstellungen")
    @page_route
    def preferences(self, page: pages.Page) -> Response:
        return pages.preferences_form(page, self.backend)

    @http("GET", "/api/v1/admin/deliveries")
    @json_route
    def api_delivery_log(self, request: Request) -> Response:
        return api.delivery_log(self.backend, self.app.settings, request)

    @http("GET", "/static/<path:name>")
    def static(self, request: Request, name: str) -> Response:
        path = (STATIC / name).resolve()
        if STATIC not in path.parents or not path.is_file():
            return secure(Response("Not found", status=404))
        content_type = "text/css; charset=utf-8" if path.suffix == ".css" else "application/octet-stream"
        return secure(Response(path.read_bytes(), content_type=content_type,
                                headers={"Cache-Control": "public, max-age=3600"}))

    @http("GET", "/<path:rest>")
    @page_route
    def not_found(self, page: pages.Page, rest: str) -> Response:
        raise ApiError("NOT_FOUND", page.t("not_found"))
