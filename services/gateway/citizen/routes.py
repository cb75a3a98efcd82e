"""Routes for citizens of a town (JSON API and pages); GatewayService inherits them."""

from __future__ import annotations

from typing import Any

from nameko.web.handlers import http
from werkzeug.wrappers import Request, Response

from services.gateway.citizen import api as citizen_api
from services.gateway.citizen import pages as citizen_pages
from services.gateway.web.page import Page
from services.gateway.web.permissions import principal_from_request
from services.gateway.web.routing import json_route, page_route


class CitizenRoutes:
    """Mixin: expects `self.backend` and `self.app.settings` from GatewayService."""

    backend: Any
    app: Any

    def _principal(self, request: Request) -> Any:
        return principal_from_request(request, self.app.settings)

    # ------------------------------------------------------------------ JSON API
    @http("POST", "/api/v1/towns/<string:town>/citizens")
    @json_route
    def api_register(self, request: Request, town: str) -> Response:
        return citizen_api.register(self.backend, self.app.settings, request, town)

    @http("POST", "/api/v1/towns/<string:town>/citizens/confirm")
    @json_route
    def api_confirm_citizen(self, request: Request, town: str) -> Response:
        return citizen_api.redeem(self.backend, self.app.settings, request, town, "confirm_citizen")

    @http("POST", "/api/v1/towns/<string:town>/sign-in")
    @json_route
    def api_sign_in(self, request: Request, town: str) -> Response:
        return citizen_api.request_sign_in(self.backend, self.app.settings, request, town)

    @http("POST", "/api/v1/towns/<string:town>/sign-in/redeem")
    @json_route
    def api_redeem_sign_in(self, request: Request, town: str) -> Response:
        return citizen_api.redeem(self.backend, self.app.settings, request, town, "redeem_sign_in")

    @http("GET", "/api/v1/towns/<string:town>/me")
    @json_route
    def api_me(self, request: Request, town: str) -> Response:
        return citizen_api.me(self.backend, self._principal(request), town)

    @http("PATCH", "/api/v1/towns/<string:town>/me")
    @json_route
    def api_update_me(self, request: Request, town: str) -> Response:
        return citizen_api.update_me(self.backend, self.app.settings, self._principal(request),
                                     request, town)

    @http("DELETE", "/api/v1/towns/<string:town>/me")
    @json_route
    def api_erase_me(self, request: Request, town: str) -> Response:
        return citizen_api.erase_me(self.backend, self._principal(request), town)

    @http("GET", "/api/v1/towns/<string:town>/me/ratings")
    @json_route
    def api_my_ratings(self, request: Request, town: str) -> Response:
        return citizen_api.my_ratings(self.backend, self._principal(request), town)

    @http("POST", "/api/v1/towns/<string:town>/ratings")
    @json_route
    def api_rate(self, request: Request, town: str) -> Response:
        return citizen_api.rate(self.backend, self.app.settings, self._principal(request),
                                request, town)

    @http("GET", "/api/v1/towns/<string:town>/measures/<string:code>/comments")
    @json_route
    def api_comments(self, request: Request, town: str, code: str) -> Response:
        return citizen_api.comments(self.backend, request, town, code)

    @http("POST", "/api/v1/towns/<string:town>/measures/<string:code>/comments")
    @json_route
    def api_post_comment(self, request: Request, town: str, code: str) -> Response:
        return citizen_api.post_comment(self.backend, self.app.settings,
                                        self._principal(request), request, town, code)

    @http("POST", "/api/v1/towns/<string:town>/comments/<string:comment_id>/flags")
    @json_route
    def api_flag_comment(self, request: Request, town: str, comment_id: str) -> Response:
        return citizen_api.flag_comment(self.backend, self.app.settings,
                                        self._principal(request), request, town, comment_id)

    @http("GET", "/api/v1/towns/<string:town>/ideas")
    @json_route
    def api_ideas(self, request: Request, town: str) -> Response:
        return citizen_api.ideas(self.backend, request, town)

    @http("POST", "/api/v1/towns/<string:town>/ideas")
    @json_route
    def api_propose_idea(self, request: Request, town: str) -> Response:
        return citizen_api.propose_idea(self.backend, self.app.settings,
                                        self._principal(request), request, town)

    # ------------------------------------------------------------------ pages
    @http("GET", "/stadt/<string:town>")
    @page_route
    def town(self, page: Page, town: str) -> Response:
        return citizen_pages.town_page(page, self.backend, town)

    @http("POST", "/stadt/<string:town>/bewertung")
    @page_route
    def town_rate(self, page: Page, town: str) -> Response:
        return citizen_pages.rate_form(page, self.backend, town)

    @http("GET", "/stadt/<string:town>/massnahmen/<string:code>")
    @page_route
    def town_measure(self, page: Page, town: str, code: str) -> Response:
        return citizen_pages.town_measure_page(page, self.backend, town, code)

    @http("POST", "/stadt/<string:town>/massnahmen/<string:code>/kommentare")
    @page_route
    def town_comment(self, page: Page, town: str, code: str) -> Response:
        return citizen_pages.comment_form(page, self.backend, town, code)

    @http("POST", "/stadt/<string:town>/kommentare/<string:comment_id>/melden")
    @page_route
    def town_flag(self, page: Page, town: str, comment_id: str) -> Response:
        return citizen_pages.flag_form(page, self.backend, town, comment_id)

    @http("GET", "/stadt/<string:town>/registrieren")
    @page_route
    def town_register_page(self, page: Page, town: str) -> Response:
        return citizen_pages.register_page(page, town)

    @http("POST", "/stadt/<string:town>/registrieren")
    @page_route
    def town_register(self, page: Page, town: str) -> Response:
        return citizen_pages.register_form(page, self.backend, town)

    @http("GET", "/stadt/<string:town>/bestaetigen")
    @page_route
    def town_confirm_page(self, page: Page, town: str) -> Response:
        return citizen_pages.confirm_account_page(page, town)

    @http("POST", "/stadt/<string:town>/bestaetigen")
    @page_route
    def town_confirm(self, page: Page, town: str) -> Response:
        return citizen_pages.confirm_account_form(page, self.backend, town)

    @http("GET", "/stadt/<string:town>/anmelden")
    @page_route
    def town_sign_in_page(self, page: Page, town: str) -> Response:
        return citizen_pages.sign_in_page(page, town)

    @http("POST", "/stadt/<string:town>/anmelden")
    @page_route
    def town_sign_in(self, page: Page, town: str) -> Response:
        return citizen_pages.sign_in_form(page, self.backend, town)

    @http("GET", "/stadt/<string:town>/anmelden/link")
    @page_route
    def town_sign_in_link_page(self, page: Page, town: str) -> Response:
        return citizen_pages.sign_in_link_page(page, town)

    @http("POST", "/stadt/<string:town>/anmelden/link")
    @page_route
    def town_sign_in_link(self, page: Page, town: str) -> Response:
        return citizen_pages.sign_in_link_form(page, self.backend, town)

    @http("POST", "/stadt/<string:town>/abmelden")
    @page_route
    def town_sign_out(self, page: Page, town: str) -> Response:
        return citizen_pages.sign_out_form(page, town)

    @http("GET", "/stadt/<string:town>/meine-daten")
    @page_route
    def town_my_data_page(self, page: Page, town: str) -> Response:
        return citizen_pages.my_data_page(page, self.backend, town)

    @http("POST", "/stadt/<string:town>/meine-daten")
    @page_route
    def town_my_data(self, page: Page, town: str) -> Response:
        return citizen_pages.my_data_form(page, self.backend, town)

    @http("POST", "/stadt/<string:town>/meine-daten/loeschen")
    @page_route
    def town_erase(self, page: Page, town: str) -> Response:
        return citizen_pages.erase_form(page, self.backend, town)

    @http("GET", "/stadt/<string:town>/ideen")
    @page_route
    def town_ideas_page(self, page: Page, town: str) -> Response:
        return citizen_pages.ideas_page(page, self.backend, town)

    @http("POST", "/stadt/<string:town>/ideen")
    @page_route
    def town_idea(self, page: Page, town: str) -> Response:
        return citizen_pages.idea_form(page, self.backend, town)
