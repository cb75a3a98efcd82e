"""Rows of the OpenAPI table for the routes of town admins (consultations, moderation, ideas).

Kept beside `openapi.OPERATIONS`, which merges them, so that the routes in
`entrypoints/admin_routes.py` and their documentation change together.
"""

from __future__ import annotations

from services.gateway import admin_api
from services.gateway.openapi import Operation, Param, items_of
from soesmart import contracts as c

T = "/api/v1/towns/{town}"
C = T + "/consultations/{cid}"
# as in openapi.PAGING; not imported from there, which is still being executed when this runs
PAGING = (Param("page", {"type": "integer", "minimum": 1}, "page number, from 1"),
          Param("per_page", {"type": "integer", "minimum": 1, "maximum": 500}, "items per page"))

ADMIN_OPERATIONS: dict[tuple[str, str], Operation] = {
    ("POST", f"{T}/consultations"): Operation(
        "Create a consultation (draft) with measures by programme, field of action or code",
        "consultations", auth="town_admin", body=admin_api.ConsultationBody,
        response=c.ConsultationView, status=201, errors=(401, 403, 404, 409, 413, 415, 422)),
    ("GET", C): Operation(
        "One consultation with its measures (a draft only for the town's admins)",
        "consultations", response=c.ConsultationView, errors=(404,)),
    ("PATCH", C): Operation(
        "Change a draft (or texts and end date of an open consultation)", "consultations",
        auth="town_admin", body=admin_api.ConsultationPatch, response=c.ConsultationView,
        errors=(401, 403, 404, 409, 413, 415, 422)),
    ("POST", f"{C}/phase"): Operation(
        "Open, close, or publish the results (forwards only)", "consultations",
        auth="town_admin", body=admin_api.PhaseBody, response=c.ConsultationView,
        errors=(401, 403, 404, 409, 422)),
    ("GET", f"{C}/results"): Operation(
        "The town's results of a consultation (public once published)", "results",
        response=c.TownResults, errors=(401, 403, 404),
        description="Before `results_published` only for the town's admins and coordinators."),
    ("GET", f"{C}/results.csv"): Operation(
        "The town's results as CSV for German spreadsheets", "results", response=None,
        response_type="text/csv", errors=(401, 403, 404)),
    ("GET", f"{T}/moderation"): Operation(
        "Moderation queue: flagged content first, then new", "moderation", auth="town_admin",
        response=c.ModerationQueue, errors=(401, 403, 404)),
    ("POST", f"{T}/moderation"): Operation(
        "Hide (with a reason), restore, or dismiss the flags of a comment or idea", "moderation",
        auth="town_admin", body=admin_api.ModerationBody, response=c.ModerationAct, status=201,
        errors=(401, 403, 404, 413, 415, 422)),
    ("GET", f"{T}/moderation/log"): Operation(
        "Every moderation act: who, when, why (newest first)", "moderation", auth="town_admin",
        response=items_of(c.ModerationAct, "ModerationLog", paged=True), query=PAGING,
        errors=(401, 403, 404, 422)),
    ("POST", f"{T}/ideas/{{idea_id}}/decision"): Operation(
        "Accept a citizen's idea (it becomes a proposed measure) or decline it with a reason",
        "ideas", auth="town_admin", body=admin_api.DecisionBody, response=c.IdeaView,
        errors=(401, 403, 404, 409, 413, 415, 422)),
}
