"""Routes for everyone: health, towns, the catalogue, combined results, mail subscriptions, pages.

Mixed into GatewayService, which provides `self.backend`, `self.rpc` and `self.app`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nameko.web.handlers import http
from werkzeug.wrappers import Request, Response

from services.gateway.public import api
from services.gateway.public import pages as public_pages
from services.gateway.web import bot_guard
from services.gateway.web.backend import Backend
from services.gateway.web.errors import ApiError, json_response
from services.gateway.web.openapi import PAGING, STR, TOWN_Q, Param, StatusOut, document, items_of
from services.gateway.web.page import Page
from services.gateway.web.routing import api as route
from services.gateway.web.routing import json_only, page, secure
from soesmart import contracts as c

STATIC = Path(__file__).resolve().parent.parent / "static"
STATIC_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8",
                ".png": "image/png", ".svg": "image/svg+xml"}
MEASURE_FILTERS = (
    Param("programme", {"enum": [p.value for p in c.Programme]}),
    Param("field_of_action", {"enum": list(c.MOBILITY_FIELDS + c.CLIMATE_FIELDS)}),
    Param("status", {"enum": [s.value for s in c.MeasureStatus]}),
    TOWN_Q,
)


class PublicRoutes:
    app: Any
    backend: Any
    rpc: Any

    # ------------------------------------------------------------------ health
    @route("GET", "/healthz", "The process runs", "health", response=api.Health, errors=())
    def healthz(self, request: Request) -> Response:
        return json_response({"status": "ok"})

    @route("GET", "/readyz", "The broker and every service answer within a deadline", "health",
           response=api.Readiness, errors=(503,))
    def readyz(self, request: Request) -> Response:
        return api.readiness(Backend(self.rpc.with_timeout(2.0)))

    # ------------------------------------------------------------------ JSON API
    @route("GET", "/api/v1/towns", "The towns of the network", "towns",
           response=items_of(api.TownOut), errors=())
    def api_towns(self, request: Request) -> Response:
        return api.list_towns()

    @route("GET", "/api/v1/results", "Combined results of all towns", "results",
           response=c.RegionalResults, errors=())
    def api_results(self, request: Request) -> Response:
        return api.regional_results(self.backend)

    @route("GET", "/api/v1/measures", "The regional catalogue", "measures",
           response=items_of(c.MeasureDetail, "MeasurePage", paged=True),
           query=MEASURE_FILTERS + PAGING, errors=(422,))
    def api_measures(self, request: Request) -> Response:
        return api.list_measures(self.backend, request)

    @route("GET", "/api/v1/measures/<string:code>", "One measure with its status history",
           "measures", response=c.MeasureDetail, errors=(404,))
    def api_measure(self, request: Request, code: str) -> Response:
        return api.get_measure(self.backend, code)

    @route("GET", "/api/v1/measures/export", "Export the catalogue", "measures", response=None,
           response_type="text/csv", query=(Param("format", {"enum": ["csv", "json"]}),),
           errors=(422,))
    def api_export_catalogue(self, request: Request) -> Response:
        return api.export_catalogue(self.backend, request)

    @route("POST", "/api/v1/subscriptions",
           "Subscribe to mail about a measure, field of action, town or the region", "mail",
           body=api.SubscriptionBody, response=c.SubscriptionAccepted, status=202, errors=(404, 422))
    def api_subscribe(self, request: Request) -> Response:
        return api.subscribe(self.backend, self.app.settings, request)

    @route("POST", "/api/v1/subscriptions/confirm", "Confirm a subscription with the mailed token",
           "mail", body=api.TokenBody, response=None, errors=(400, 422))
    def api_confirm(self, request: Request) -> Response:
        return api.confirm_subscription(self.backend, self.app.settings, request)

    @route("POST", "/api/v1/subscriptions/unsubscribe",
           "End a subscription with the signed token of a mail", "mail", body=api.TokenBody,
           response=None, errors=(400, 422))
    def api_unsubscribe(self, request: Request) -> Response:
        return api.unsubscribe(self.backend, self.app.settings, request)

    @route("POST", "/abo/abmelden/one-click",
           "One-click unsubscribe (RFC 8058) from a mail's List-Unsubscribe-Post", "mail",
           response=StatusOut, query=(Param("token", STR, required=True),), errors=(400,))
    def unsubscribe_one_click(self, request: Request) -> Response:
        # RFC 8058: the mail provider POSTs "List-Unsubscribe=One-Click" from its servers,
        # with no cookie, so the page's double-submit CSRF check cannot apply; none is
        # needed: the signed token in the URL is the capability, and a forged request
        # without it changes nothing. A GET (the page above) never unsubscribes.
        self.backend.call("notifications", "unsubscribe", token=request.args.get("token", ""))
        return json_response({"status": "unsubscribed"})

    @route("GET", "/api/v1/pow-challenge",
           "A proof-of-work challenge for the citizens' forms (solved by /static/pow.js)",
           "health", response=None, errors=())
    def pow_challenge(self, request: Request) -> Response:
        return json_response(bot_guard.challenge(self.app.settings),
                             headers={"Cache-Control": "no-store"})

    @json_only("GET", "/api/openapi.json")
    def api_openapi(self, request: Request) -> Response:
        return json_response(document(type(self)))

    @json_only("GET,POST,PUT,PATCH,DELETE", "/api/<path:rest>")
    def api_not_found(self, request: Request, rest: str) -> Response:
        raise ApiError("NOT_FOUND", f"Unbekannter Pfad /api/{rest}.")

    # ------------------------------------------------------------------ pages
    @page("GET", "/")
    def home(self, page: Page) -> Response:
        return public_pages.home(page)

    @page("GET", "/massnahmen/<string:code>")
    def measure(self, page: Page, code: str) -> Response:
        return public_pages.measure_page(page, self.backend, code)

    @page("POST", "/abo")
    def subscribe(self, page: Page) -> Response:
        return public_pages.subscribe_form(page, self.backend)

    @page("GET", "/abo/bestaetigen")
    def confirm_page(self, page: Page) -> Response:
        return public_pages.confirm_page(page)

    @page("POST", "/abo/bestaetigen")
    def confirm(self, page: Page) -> Response:
        return public_pages.confirm_form(page, self.backend)

    @page("GET", "/abo/abmelden")
    def unsubscribe_page(self, page: Page) -> Response:
        return public_pages.unsubscribe_page(page)

    @page("GET", "/abo/abmelden/one-click")
    def unsubscribe_one_click_page(self, page: Page) -> Response:
        # A mail client without RFC 8058 opens the List-Unsubscribe address: ask first,
        # because link scanners and previews GET every URL in a mail.
        return public_pages.unsubscribe_page(page)

    @page("POST", "/abo/abmelden")
    def unsubscribe(self, page: Page) -> Response:
        return public_pages.unsubscribe_form(page, self.backend)

    @page("GET", "/abo/einstellungen")
    def preferences_page(self, page: Page) -> Response:
        return public_pages.preferences_page(page, self.backend)

    @page("POST", "/abo/einstellungen")
    def preferences(self, page: Page) -> Response:
        return public_pages.preferences_form(page, self.backend)

    @http("GET", "/static/<path:name>")
    def static(self, request: Request, name: str) -> Response:
        path = (STATIC / name).resolve()
        if STATIC not in path.parents or not path.is_file():
            return secure(Response("Not found", status=404))
        content_type = STATIC_TYPES.get(path.suffix, "application/octet-stream")
        return secure(Response(path.read_bytes(), content_type=content_type,
                                headers={"Cache-Control": "public, max-age=3600"}))

    @page("GET", "/<path:rest>")
    def not_found(self, page: Page, rest: str) -> Response:
        raise ApiError("NOT_FOUND", page.t("not_found"))
