"""Routes for citizens of a town: the JSON API (with its OpenAPI metadata) and the pages.

GatewayService inherits them; thin: each hands the request to `api` or `pages`.
"""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Request, Response

from services.gateway.citizen import account_pages, identity_pages, results_page
from services.gateway.citizen import api as citizen_api
from services.gateway.citizen import pages as citizen_pages
from services.gateway.web.openapi import PAGING, Param, items_of
from services.gateway.web.page import Page
from services.gateway.web.permissions import principal_from_request
from services.gateway.web.routing import api as route
from services.gateway.web.routing import page
from soesmart import contracts as c

TOWN = "/api/v1/towns/<string:town>"
# tests/integration/test_rating_retry.py holds the service to this.
RATING_RETRY = (
    "A citizen has one answer per measure. Sending the same answer again (after a 503, a "
    "lost connection or a timeout) is safe: it is stored and counted once, however often it "
    "arrives, and is answered 200 when it was already stored. A different answer replaces "
    "the earlier one in the town's and the regional results; it never adds a second one."
)


class CitizenRoutes:
    """Mixin: expects `self.backend` and `self.app.settings` from GatewayService."""

    backend: Any
    app: Any

    def _principal(self, request: Request) -> Any:
        return principal_from_request(request, self.app.settings)

    # ------------------------------------------------------------------ JSON API
    @route("POST", TOWN + "/citizens",
           "Register as a citizen of the town (double opt-in by mail)", "citizens",
           body=citizen_api.RegisterBody, response=c.LinkSent, status=202, errors=(404, 422, 429),
           description="Answers the same whether or not the address is known.")
    def api_register(self, request: Request, town: str) -> Response:
        return citizen_api.register(self.backend, self.app.settings, request, town)

    @route("POST", TOWN + "/citizens/confirm",
           "Confirm the address with the token of the mailed link; signs in", "citizens",
           body=citizen_api.LinkTokenBody, response=citizen_api.SessionOut, errors=(400, 404, 422))
    def api_confirm_citizen(self, request: Request, town: str) -> Response:
        return citizen_api.redeem(self.backend, self.app.settings, request, town, "confirm_citizen")

    @route("POST", TOWN + "/sign-in",
           "Ask for a sign-in link by mail", "citizens", body=citizen_api.EmailBody,
           response=c.LinkSent, status=202, errors=(404, 422, 429))
    def api_sign_in(self, request: Request, town: str) -> Response:
        return citizen_api.request_sign_in(self.backend, self.app.settings, request, town)

    @route("POST", TOWN + "/sign-in/redeem",
           "Sign in with the token of the mailed link", "citizens",
           body=citizen_api.LinkTokenBody, response=citizen_api.SessionOut, errors=(400, 404, 422))
    def api_redeem_sign_in(self, request: Request, town: str) -> Response:
        return citizen_api.redeem(self.backend, self.app.settings, request, town, "redeem_sign_in")

    @route("GET", TOWN + "/me",
           "My data: everything the town stores about me", "citizens",
           auth="citizen", response=c.CitizenView, errors=(401, 403, 404))
    def api_me(self, request: Request, town: str) -> Response:
        return citizen_api.me(self.backend, self._principal(request), town)

    @route("PATCH", TOWN + "/me",
           "Change my display name, language and mail choices", "citizens",
           auth="citizen", body=citizen_api.UpdateMeBody, response=c.CitizenView,
           errors=(401, 403, 404, 422))
    def api_update_me(self, request: Request, town: str) -> Response:
        return citizen_api.update_me(self.backend, self.app.settings, self._principal(request),
                                     request, town)

    @route("DELETE", TOWN + "/me",
           "Erase my account (ratings stay, anonymous)", "citizens",
           auth="citizen", response=None, errors=(401, 403, 404))
    def api_erase_me(self, request: Request, town: str) -> Response:
        return citizen_api.erase_me(self.backend, self._principal(request), town)

    @route("GET", TOWN + "/me/export",
           "Download everything the network stores about me (town, subscriptions, consents, "
           "deliveries) as one JSON file", "citizens", auth="citizen", response=None,
           errors=(401, 403, 404, 503))
    def api_export_me(self, request: Request, town: str) -> Response:
        return citizen_api.export_me(self.backend, self._principal(request), town)

    @route("GET", TOWN + "/me/ratings",
           "My answers", "citizens", auth="citizen", response=None,
           errors=(401, 403, 404))
    def api_my_ratings(self, request: Request, town: str) -> Response:
        return citizen_api.my_ratings(self.backend, self._principal(request), town)

    @route("POST", TOWN + "/ratings",
           "Answer the two questions for a measure (or change the answer)", "ratings",
           auth="citizen", body=citizen_api.RatingBody, response=c.RatingAccepted, status=201,
           also=(200,), errors=(401, 403, 404, 409, 413, 415, 422),
           description=RATING_RETRY)
    def api_rate(self, request: Request, town: str) -> Response:
        return citizen_api.rate(self.backend, self.app.settings, self._principal(request),
                                request, town)

    @route("GET", TOWN + "/measures/<string:code>/comments",
           "The visible comments on a measure (newest first), with replies", "comments",
           response=items_of(c.CommentView, "CommentPage", paged=True), query=PAGING,
           errors=(404, 422))
    def api_comments(self, request: Request, town: str, code: str) -> Response:
        return citizen_api.comments(self.backend, request, town, code)

    @route("POST", TOWN + "/measures/<string:code>/comments",
           "Comment on a measure, or reply to a comment", "comments", auth="citizen",
           body=citizen_api.CommentBodyIn, response=c.CommentView, status=201,
           errors=(401, 403, 404, 409, 422, 429))
    def api_post_comment(self, request: Request, town: str, code: str) -> Response:
        return citizen_api.post_comment(self.backend, self.app.settings,
                                        self._principal(request), request, town, code)

    @route("POST", TOWN + "/comments/<string:comment_id>/flags",
           "Report a comment to the moderators", "comments", auth="citizen",
           body=citizen_api.FlagBody, response=None, status=201, errors=(401, 403, 404, 422, 429))
    def api_flag_comment(self, request: Request, town: str, comment_id: str) -> Response:
        return citizen_api.flag_comment(self.backend, self.app.settings,
                                        self._principal(request), request, town, comment_id)

    @route("GET", TOWN + "/ideas",
           "Citizens' ideas of the town", "ideas",
           response=items_of(c.IdeaView, "IdeaPage", paged=True),
           query=(Param("status", {"enum": ["submitted", "accepted", "declined"]}), *PAGING),
           errors=(404, 422))
    def api_ideas(self, request: Request, town: str) -> Response:
        return citizen_api.ideas(self.backend, request, town)

    @route("POST", TOWN + "/ideas",
           "Propose a new measure", "ideas", auth="citizen", body=citizen_api.IdeaBody,
           response=c.IdeaView, status=201, errors=(401, 403, 404, 422, 429))
    def api_propose_idea(self, request: Request, town: str) -> Response:
        return citizen_api.propose_idea(self.backend, self.app.settings,
                                        self._principal(request), request, town)

    # ------------------------------------------------------------------ pages
    @page("GET", "/stadt/<string:town>")
    def town(self, page: Page, town: str) -> Response:
        return citizen_pages.town_page(page, self.backend, town)

    @page("POST", "/stadt/<string:town>/bewertung")
    def town_rate(self, page: Page, town: str) -> Response:
        return citizen_pages.rate_form(page, self.backend, town)

    @page("GET", "/stadt/<string:town>/massnahmen/<string:code>")
    def town_measure(self, page: Page, town: str, code: str) -> Response:
        return citizen_pages.town_measure_page(page, self.backend, town, code)

    @page("GET", "/stadt/<string:town>/ergebnisse/<string:cid>")
    def town_published_results(self, page: Page, town: str, cid: str) -> Response:
        return results_page.published_results_page(page, self.backend, town, cid)

    @page("POST", "/stadt/<string:town>/massnahmen/<string:code>/kommentare")
    def town_comment(self, page: Page, town: str, code: str) -> Response:
        return citizen_pages.comment_form(page, self.backend, town, code)

    @page("POST", "/stadt/<string:town>/kommentare/<string:comment_id>/melden")
    def town_flag(self, page: Page, town: str, comment_id: str) -> Response:
        return citizen_pages.flag_form(page, self.backend, town, comment_id)

    @page("GET", "/stadt/<string:town>/registrieren")
    def town_register_page(self, page: Page, town: str) -> Response:
        return account_pages.register_page(page, town)

    @page("POST", "/stadt/<string:town>/registrieren")
    def town_register(self, page: Page, town: str) -> Response:
        return account_pages.register_form(page, self.backend, town)

    @page("GET", "/stadt/<string:town>/bestaetigen")
    def town_confirm_page(self, page: Page, town: str) -> Response:
        return account_pages.confirm_account_page(page, town)

    @page("POST", "/stadt/<string:town>/bestaetigen")
    def town_confirm(self, page: Page, town: str) -> Response:
        return account_pages.confirm_account_form(page, self.backend, town)

    @page("GET", "/stadt/<string:town>/anmelden")
    def town_sign_in_page(self, page: Page, town: str) -> Response:
        return account_pages.sign_in_page(page, town)

    @page("POST", "/stadt/<string:town>/anmelden")
    def town_sign_in(self, page: Page, town: str) -> Response:
        return account_pages.sign_in_form(page, self.backend, town)

    @page("GET", "/stadt/<string:town>/anmelden/idp/<string:provider>")
    def town_idp_start(self, page: Page, town: str, provider: str) -> Response:
        return identity_pages.start(page, town, provider)

    @page("GET", "/anmelden/idp/<string:provider>/rueckkehr")
    def citizen_idp_callback(self, page: Page, provider: str) -> Response:
        return identity_pages.callback(page, self.backend, provider)

    @page("GET", "/stadt/<string:town>/anmelden/link")
    def town_sign_in_link_page(self, page: Page, town: str) -> Response:
        return account_pages.sign_in_link_page(page, town)

    @page("POST", "/stadt/<string:town>/anmelden/link")
    def town_sign_in_link(self, page: Page, town: str) -> Response:
        return account_pages.sign_in_link_form(page, self.backend, town)

    @page("POST", "/stadt/<string:town>/abmelden")
    def town_sign_out(self, page: Page, town: str) -> Response:
        return account_pages.sign_out_form(page, town)

    @page("GET", "/stadt/<string:town>/meine-daten")
    def town_my_data_page(self, page: Page, town: str) -> Response:
        return account_pages.my_data_page(page, self.backend, town)

    @page("POST", "/stadt/<string:town>/meine-daten")
    def town_my_data(self, page: Page, town: str) -> Response:
        return account_pages.my_data_form(page, self.backend, town)

    @page("GET", "/stadt/<string:town>/meine-daten/download")
    def town_my_data_download(self, page: Page, town: str) -> Response:
        return account_pages.my_data_download(page, self.backend, town)

    @page("POST", "/stadt/<string:town>/meine-daten/loeschen")
    def town_erase(self, page: Page, town: str) -> Response:
        return account_pages.erase_form(page, self.backend, town)

    @page("GET", "/stadt/<string:town>/ideen")
    def town_ideas_page(self, page: Page, town: str) -> Response:
        return citizen_pages.ideas_page(page, self.backend, town)

    @page("POST", "/stadt/<string:town>/ideen")
    def town_idea(self, page: Page, town: str) -> Response:
        return citizen_pages.idea_form(page, self.backend, town)
