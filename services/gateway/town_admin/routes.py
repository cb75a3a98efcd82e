"""Routes of a town's admins: consultations, results, moderation and ideas (JSON API and pages).

Thin: each route hands the request to `api` (JSON) or `pages` (HTML); the JSON routes
carry their OpenAPI metadata. Staff pages answer anonymous visitors with 401 and a link
to the staff sign-in.
"""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Request, Response

from services.gateway.town_admin import api as admin_api
from services.gateway.town_admin import pages as admin_pages
from services.gateway.web.openapi import PAGING, Param, items_of
from services.gateway.web.page import Page
from services.gateway.web.routing import api as route
from services.gateway.web.routing import staff_page
from soesmart import contracts as c

TOWN = "/api/v1/towns/<string:town>"
CONSULTATION = TOWN + "/consultations/<string:cid>"
STAFF_TOWN = "/verwaltung/stadt/<string:town>"
STAFF_CONSULTATION = STAFF_TOWN + "/beteiligungen/<string:cid>"


class TownAdminRoutes:
    app: Any  # provided by GatewayService
    backend: Any

    # ------------------------------------------------------------------ JSON: consultations
    @route("GET", TOWN + "/consultations",
           "Open consultations of a town (drafts too for its admins)", "consultations",
           response=items_of(c.ConsultationView, "ConsultationPage", paged=True),
           query=(Param("include_drafts", {"type": "boolean"}, "town admins only"), *PAGING),
           errors=(401, 403, 404, 422))
    def api_consultations(self, request: Request, town: str) -> Response:
        return admin_api.town_consultations(self.backend, self.app.settings, request, town)

    @route("POST", TOWN + "/consultations",
           "Create a consultation (draft) with measures by programme, field of action or code",
           "consultations", auth="town_admin", body=admin_api.ConsultationBody,
           response=c.ConsultationView, status=201, errors=(401, 403, 404, 409, 413, 415, 422))
    def api_create_consultation(self, request: Request, town: str) -> Response:
        return admin_api.create_consultation(self.backend, self.app.settings, request, town)

    @route("GET", CONSULTATION,
           "One consultation with its measures (a draft only for the town's admins)",
           "consultations", response=c.ConsultationView, errors=(404,))
    def api_consultation(self, request: Request, town: str, cid: str) -> Response:
        return admin_api.get_consultation(self.backend, self.app.settings, request, town, cid)

    @route("PATCH", CONSULTATION,
           "Change a draft (or texts and end date of an open consultation)", "consultations",
           auth="town_admin", body=admin_api.ConsultationPatch, response=c.ConsultationView,
           errors=(401, 403, 404, 409, 413, 415, 422))
    def api_update_consultation(self, request: Request, town: str, cid: str) -> Response:
        return admin_api.update_consultation(self.backend, self.app.settings, request, town, cid)

    @route("POST", CONSULTATION + "/phase",
           "Open, close, or publish the results (forwards only)", "consultations",
           auth="town_admin", body=admin_api.PhaseBody, response=c.ConsultationView,
           errors=(401, 403, 404, 409, 422))
    def api_consultation_phase(self, request: Request, town: str, cid: str) -> Response:
        return admin_api.change_phase(self.backend, self.app.settings, request, town, cid)

    @route("GET", CONSULTATION + "/results",
           "The town's results of a consultation (public once published)", "results",
           response=c.TownResults, errors=(401, 403, 404),
           description="Before `results_published` only for the town's admins and coordinators.")
    def api_town_results(self, request: Request, town: str, cid: str) -> Response:
        return admin_api.town_results(self.backend, self.app.settings, request, town, cid)

    @route("GET", CONSULTATION + "/results.csv",
           "The town's results as CSV for German spreadsheets", "results", response=None,
           response_type="text/csv", errors=(401, 403, 404))
    def api_town_results_csv(self, request: Request, town: str, cid: str) -> Response:
        return admin_api.town_results_csv(self.backend, self.app.settings, request, town, cid)

    # ------------------------------------------------------------------ JSON: moderation, ideas
    @route("GET", TOWN + "/moderation",
           "Moderation queue: flagged content first, then new", "moderation", auth="town_admin",
           response=c.ModerationQueue, errors=(401, 403, 404))
    def api_moderation_queue(self, request: Request, town: str) -> Response:
        return admin_api.moderation_queue(self.backend, self.app.settings, request, town)

    @route("POST", TOWN + "/moderation",
           "Hide (with a reason), restore, or dismiss the flags of a comment or idea", "moderation",
           auth="town_admin", body=admin_api.ModerationBody, response=c.ModerationAct, status=201,
           errors=(401, 403, 404, 413, 415, 422))
    def api_moderate(self, request: Request, town: str) -> Response:
        return admin_api.moderate(self.backend, self.app.settings, request, town)

    @route("GET", TOWN + "/moderation/log",
           "Every moderation act: who, when, why (newest first)", "moderation", auth="town_admin",
           response=items_of(c.ModerationAct, "ModerationLog", paged=True), query=PAGING,
           errors=(401, 403, 404, 422))
    def api_moderation_log(self, request: Request, town: str) -> Response:
        return admin_api.moderation_log(self.backend, self.app.settings, request, town)

    @route("POST", TOWN + "/ideas/<string:idea_id>/decision",
           "Accept a citizen's idea (it becomes a proposed measure) or decline it with a reason",
           "ideas", auth="town_admin", body=admin_api.DecisionBody, response=c.IdeaView,
           errors=(401, 403, 404, 409, 413, 415, 422))
    def api_decide_idea(self, request: Request, town: str, idea_id: str) -> Response:
        return admin_api.decide_idea(self.backend, self.app.settings, request, town, idea_id)

    # ------------------------------------------------------------------ pages: town admins
    @staff_page("GET", STAFF_TOWN + "/beteiligungen")
    def admin_consultations(self, page: Page, town: str) -> Response:
        return admin_pages.town_home(page, self.backend, town)

    @staff_page("POST", STAFF_TOWN + "/beteiligungen")
    def admin_create_consultation(self, page: Page, town: str) -> Response:
        return admin_pages.consultation_create(page, self.backend, town)

    @staff_page("GET", STAFF_TOWN + "/beteiligungen/neu")
    def admin_new_consultation(self, page: Page, town: str) -> Response:
        return admin_pages.consultation_new(page, self.backend, town)

    @staff_page("GET", STAFF_CONSULTATION)
    def admin_consultation(self, page: Page, town: str, cid: str) -> Response:
        return admin_pages.consultation_detail(page, self.backend, town, cid)

    @staff_page("POST", STAFF_CONSULTATION)
    def admin_update_consultation(self, page: Page, town: str, cid: str) -> Response:
        return admin_pages.consultation_update(page, self.backend, town, cid)

    @staff_page("GET", STAFF_CONSULTATION + "/bearbeiten")
    def admin_edit_consultation(self, page: Page, town: str, cid: str) -> Response:
        return admin_pages.consultation_edit(page, self.backend, town, cid)

    @staff_page("POST", STAFF_CONSULTATION + "/phase")
    def admin_consultation_phase(self, page: Page, town: str, cid: str) -> Response:
        return admin_pages.consultation_phase(page, self.backend, town, cid)

    @staff_page("GET", STAFF_CONSULTATION + "/ergebnisse")
    def admin_consultation_results(self, page: Page, town: str, cid: str) -> Response:
        return admin_pages.results_page(page, self.backend, town, cid)

    @staff_page("GET", STAFF_CONSULTATION + "/ergebnisse.csv")
    def admin_consultation_results_csv(self, page: Page, town: str, cid: str) -> Response:
        return admin_pages.results_csv(page, self.backend, town, cid)

    @staff_page("GET", STAFF_TOWN + "/ergebnisse")
    def admin_town_results(self, page: Page, town: str) -> Response:
        return admin_pages.town_home(page, self.backend, town, results_only=True)

    @staff_page("GET", STAFF_TOWN + "/moderation")
    def admin_moderation(self, page: Page, town: str) -> Response:
        return admin_pages.moderation_page(page, self.backend, town)

    @staff_page("POST", STAFF_TOWN + "/moderation")
    def admin_moderate(self, page: Page, town: str) -> Response:
        return admin_pages.moderation_act(page, self.backend, town)

    @staff_page("GET", STAFF_TOWN + "/ideen")
    def admin_ideas(self, page: Page, town: str) -> Response:
        return admin_pages.ideas_page(page, self.backend, town)

    @staff_page("POST", STAFF_TOWN + "/ideen/<string:idea_id>/entscheidung")
    def admin_decide_idea(self, page: Page, town: str, idea_id: str) -> Response:
        return admin_pages.idea_decide(page, self.backend, town, idea_id)
