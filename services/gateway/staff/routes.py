"""Routes of staff sign-in, the staff landing pages and "who am I"; mixed into GatewayService."""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Request, Response

from services.gateway.staff import api as staff_api
from services.gateway.staff import oidc_pages
from services.gateway.staff import pages as staff_pages
from services.gateway.web.openapi import StatusOut
from services.gateway.web.page import Page
from services.gateway.web.routing import api as route
from services.gateway.web.routing import page


class StaffRoutes:
    app: Any  # provided by GatewayService

    # --- JSON API: bearer tokens for scripts and API clients
    @route("POST", "/api/v1/auth/token", "Staff sign-in: a bearer token for the API", "staff",
           body=staff_api.SignInBody, response=staff_api.TokenOut, errors=(401, 422, 429))
    def api_auth_token(self, request: Request) -> Response:
        return staff_api.issue_token(self.app.settings, request)

    @route("POST", "/api/v1/auth/logout", "Revoke the bearer token", "staff", auth="staff",
           response=StatusOut, errors=(401,))
    def api_auth_logout(self, request: Request) -> Response:
        return staff_api.revoke_token(self.app.settings, request)

    @route("GET", "/api/v1/auth/me", "Who this credential belongs to", "staff", auth="any",
           response=staff_api.Whoami, errors=(401,))
    def api_auth_me(self, request: Request) -> Response:
        return staff_api.whoami(self.app.settings, request)

    @route("GET", "/api/v1/auth/providers", "The OpenID providers to sign in with", "staff",
           response=staff_api.ProvidersOut,
           description="Staff providers (a town's directory or the region's) and citizens' "
                       "providers (ServiceKonto style) with the towns that offer them.")
    def api_auth_providers(self, request: Request) -> Response:
        return staff_api.providers(self.app.settings)

    # --- pages of the staff
    @page("GET", "/verwaltung/anmelden")
    def staff_sign_in_page(self, page: Page) -> Response:
        return staff_pages.sign_in_page(page)

    @page("POST", "/verwaltung/anmelden")
    def staff_sign_in(self, page: Page) -> Response:
        return staff_pages.sign_in_form(page)

    @page("POST", "/verwaltung/abmelden")
    def staff_sign_out(self, page: Page) -> Response:
        return oidc_pages.sign_out(page)

    @page("GET", "/verwaltung/anmelden/idp/<string:provider>")
    def staff_idp_start(self, page: Page, provider: str) -> Response:
        return oidc_pages.start(page, provider)

    @page("GET", "/verwaltung/anmelden/idp/<string:provider>/rueckkehr")
    def staff_idp_callback(self, page: Page, provider: str) -> Response:
        return oidc_pages.callback(page, provider)

    @page("GET", "/verwaltung")
    def staff_home(self, page: Page) -> Response:
        return staff_pages.staff_home(page)

    @page("GET", "/verwaltung/stadt/<string:town>")
    def staff_town(self, page: Page, town: str) -> Response:
        return staff_pages.staff_town(page, town)
