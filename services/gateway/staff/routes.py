"""Routes of staff sign-in, the staff landing pages and "who am I"; mixed into GatewayService."""

from __future__ import annotations

from typing import Any

from nameko.web.handlers import http
from werkzeug.wrappers import Request, Response

from services.gateway.staff import auth as staff_auth
from services.gateway.web.page import Page
from services.gateway.web.routing import json_route, page_route


class AuthRoutes:
    app: Any  # provided by GatewayService

    # --- JSON API: bearer tokens for scripts and API clients
    @http("POST", "/api/v1/auth/token")
    @json_route
    def api_auth_token(self, request: Request) -> Response:
        return staff_auth.issue_token(self.app.settings, request)

    @http("POST", "/api/v1/auth/logout")
    @json_route
    def api_auth_logout(self, request: Request) -> Response:
        return staff_auth.revoke_token(self.app.settings, request)

    @http("GET", "/api/v1/auth/me")
    @json_route
    def api_auth_me(self, request: Request) -> Response:
        return staff_auth.whoami(self.app.settings, request)

    # --- pages of the staff
    @http("GET", "/verwaltung/anmelden")
    @page_route
    def staff_sign_in_page(self, page: Page) -> Response:
        return staff_auth.sign_in_page(page)

    @http("POST", "/verwaltung/anmelden")
    @page_route
    def staff_sign_in(self, page: Page) -> Response:
        return staff_auth.sign_in_form(page)

    @http("POST", "/verwaltung/abmelden")
    @page_route
    def staff_sign_out(self, page: Page) -> Response:
        return staff_auth.sign_out_form(page)

    @http("GET", "/verwaltung")
    @page_route
    def staff_home(self, page: Page) -> Response:
        return staff_auth.staff_home(page)

    @http("GET", "/verwaltung/stadt/<string:town>")
    @page_route
    def staff_town(self, page: Page, town: str) -> Response:
        return staff_auth.staff_town(page, town)
