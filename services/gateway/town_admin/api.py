"""The JSON API of a town's consultations, moderation and ideas (town admins decide).

Bodies are the commands of `soesmart.contracts` without `actor`: the gateway adds
the signed-in staff member's name. Every route asks `permissions.require` first.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError
from werkzeug.wrappers import Request, Response

from services.gateway.web.backend import Backend, parse_json, town_or_404, validation_details
from services.gateway.web.bodies import body_of
from services.gateway.web.downloads import csv_download
from services.gateway.web.errors import ApiError, json_response
from services.gateway.web.paging import page_request, paginate
from services.gateway.web.permissions import Principal, can, principal_from_request, require
from soesmart.config import Settings
from soesmart.contracts import (
    ChangeConsultationPhase,
    CreateConsultation,
    DecideIdea,
    Moderate,
    UpdateConsultation,
)
from soesmart.towns import Town

ConsultationBody = body_of(
    CreateConsultation, "ConsultationBody", without=("actor",),
    doc="A new consultation (a draft); measures by programme, field of action or code.")
ConsultationPatch = body_of(
    UpdateConsultation, "ConsultationPatch", without=("consultation_id", "actor"),
    doc="Only the fields sent change; an open consultation changes only texts and end date.")
PhaseBody = body_of(ChangeConsultationPhase, "PhaseBody", without=("consultation_id", "actor"))
ModerationBody = body_of(Moderate, "ModerationBody", without=("actor",))
DecisionBody = body_of(DecideIdea, "DecisionBody", without=("idea_id", "actor"))


def _command(model: type[BaseModel], data: dict[str, Any]) -> dict[str, Any]:
    """Validate a command (rules over several fields, e.g. dates in order) as a 422."""
    try:
        return model.model_validate(data).model_dump(mode="json")
    except ValidationError as exc:
        raise ApiError("VALIDATION_FAILED", "Die Angaben sind ungültig.",
                       validation_details(exc)) from None


def _who(settings: Settings, request: Request) -> Principal:
    return principal_from_request(request, settings)


def _town(settings: Settings, request: Request, town: str, action: str) -> tuple[Town, Principal]:
    t = town_or_404(town)
    return t, require(_who(settings, request), action, t.slug)


def _flag(request: Request, name: str) -> bool:
    return request.args.get(name, "").lower() in ("1", "true", "yes", "ja")


def town_consultations(backend: Backend, settings: Settings, request: Request, town: str) -> Response:
    """Open consultations for everyone; drafts and closed ones too for the town's admins."""
    t = town_or_404(town)
    paging = page_request(request.args)
    if _flag(request, "include_drafts"):
        require(_who(settings, request), "consultation.manage", t.slug)
        items = backend.call(t.service_name, "list_consultations", include_drafts=True)
    else:
        items = backend.call(t.service_name, "open_consultations")
    return json_response(paginate(items, paging))


def create_consultation(backend: Backend, settings: Settings, request: Request,
                        town: str) -> Response:
    t, who = _town(settings, request, town, "consultation.manage")
    body = parse_json(request, ConsultationBody, settings.max_body_bytes)
    command = _command(CreateConsultation, {**body.model_dump(), "actor": who.name})
    created = backend.call(t.service_name, "create_consultation", command=command)
    return json_response(created, 201,
                         {"Location": f"/api/v1/towns/{t.slug}/consultations/{created['id']}"})


def get_consultation(backend: Backend, settings: Settings, request: Request, town: str,
                     cid: str) -> Response:
    """Public unless a draft: a draft is only for the town's admins (others get 404)."""
    t = town_or_404(town)
    consultation = backend.call(t.service_name, "get_consultation", consultation_id=cid)
    if consultation["status"] == "draft" and not can(_who(settings, request),
                                                     "consultation.manage", t.slug):
        raise ApiError("CONSULTATION_NOT_FOUND", "Diese Beteiligung gibt es nicht.",
                       [{"field": "consultation_id", "problem": "unknown"}])
    return json_response(consultation)


def update_consultation(backend: Backend, settings: Settings, request: Request, town: str,
                        cid: str) -> Response:
    t, who = _town(settings, request, town, "consultation.manage")
    body = parse_json(request, ConsultationPatch, settings.max_body_bytes)
    command = _command(UpdateConsultation, {**body.model_dump(exclude_unset=True),
                                            "consultation_id": cid, "actor": who.name})
    return json_response(backend.call(t.service_name, "update_consultation", command=command))


def change_phase(backend: Backend, settings: Settings, request: Request, town: str,
                 cid: str) -> Response:
    t, who = _town(settings, request, town, "consultation.manage")
    body = parse_json(request, PhaseBody, settings.max_body_bytes)
    command = _command(ChangeConsultationPhase,
                       {**body.model_dump(), "consultation_id": cid, "actor": who.name})
    return json_response(backend.call(t.service_name, "change_consultation_phase", command=command))


def _may_read_results(backend: Backend, settings: Settings, request: Request, t: Town,
                      cid: str) -> None:
    """Published results are public; before that only for staff who may read them."""
    who = _who(settings, request)
    if can(who, "town_results.read", t.slug):
        return
    consultation = backend.call(t.service_name, "get_consultation", consultation_id=cid)
    if consultation["status"] != "results_published":
        require(who, "town_results.read", t.slug)


def town_results(backend: Backend, settings: Settings, request: Request, town: str,
                 cid: str) -> Response:
    t = town_or_404(town)
    _may_read_results(backend, settings, request, t, cid)
    return json_response(backend.call(t.service_name, "town_results", consultation_id=cid))


def town_results_csv(backend: Backend, settings: Settings, request: Request, town: str,
                     cid: str) -> Response:
    t = town_or_404(town)
    _may_read_results(backend, settings, request, t, cid)
    text = backend.call(t.service_name, "town_results_csv", consultation_id=cid)
    return csv_download(text, f"ergebnisse-{t.slug}-{cid[:8]}.csv")


def moderation_queue(backend: Backend, settings: Settings, request: Request, town: str) -> Response:
    t, _ = _town(settings, request, town, "moderation")
    return json_response(backend.call(t.service_name, "moderation_queue"))


def moderate(backend: Backend, settings: Settings, request: Request, town: str) -> Response:
    t, who = _town(settings, request, town, "moderation")
    body = parse_json(request, ModerationBody, settings.max_body_bytes)
    command = _command(Moderate, {**body.model_dump(mode="json"), "actor": who.name})
    return json_response(backend.call(t.service_name, "moderate", command=command), 201)


def moderation_log(backend: Backend, settings: Settings, request: Request, town: str) -> Response:
    t, _ = _town(settings, request, town, "moderation")
    paging = page_request(request.args)
    # The log is kept newest first; a page beyond the first 1,000 acts is empty.
    acts = backend.call(t.service_name, "moderation_log", limit=1000)
    return json_response(paginate(acts, paging))


def decide_idea(backend: Backend, settings: Settings, request: Request, town: str,
                idea_id: str) -> Response:
    t, who = _town(settings, request, town, "idea.decide")
    body = parse_json(request, DecisionBody, settings.max_body_bytes)
    command = _command(DecideIdea, {**body.model_dump(), "idea_id": idea_id, "actor": who.name})
    return json_response(backend.call(t.service_name, "decide_idea", command=command))
