"""JSON API for citizens of a town: registration, sign-in, my data, answers, comments, ideas.

The town's participation instance decides; the gateway checks who is asking
(`permissions.require`), fills in the citizen from the session and never trusts
a citizen id from a request body.
"""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel, Field
from werkzeug.wrappers import Request, Response

from services.gateway.citizen import personal_data
from services.gateway.web.backend import Backend, parse_json, town_or_404
from services.gateway.web.bodies import body_of
from services.gateway.web.clients import client_key
from services.gateway.web.errors import ApiError, json_response
from services.gateway.web.paging import page_request, paginate
from services.gateway.web.permissions import (
    Principal,
    end_citizen_session,
    issue_citizen_session,
    require,
)
from soesmart.config import Settings
from soesmart.contracts import (
    CitizenSession,
    FlagComment,
    PostComment,
    ProposeIdea,
    RateMeasure,
    RedeemLink,
    RegisterCitizen,
    RequestSignIn,
    UpdateCitizen,
)
from soesmart.towns import Town

RegisterBody = body_of(RegisterCitizen, "RegisterBody", without=("client",), describe={
    "display_name": "Shown publicly next to comments and ideas.",
    "notify_replies": "Mail me replies to my comments.",
    "follow_rated": "Mail me news of the measures I rate.",
})
EmailBody = body_of(RequestSignIn, "EmailBody", without=("client",))
LinkTokenBody = body_of(RedeemLink, "LinkTokenBody")
UpdateMeBody = body_of(UpdateCitizen, "UpdateMeBody", without=("citizen_id",))
RatingBody = body_of(RateMeasure, "RatingBody", without=("participant_id",),
                     add={"consultation_id": (uuid.UUID | None, None)},
                     doc="The two questions for one measure; the citizen is the signed-in one.")
CommentBodyIn = body_of(PostComment, "CommentBodyIn", without=("citizen_id", "measure_code", "client"))
FlagBody = body_of(FlagComment, "FlagBody", without=("citizen_id", "comment_id", "client"))
IdeaBody = body_of(ProposeIdea, "IdeaBody", without=("citizen_id", "client"))


class SessionOut(BaseModel):
    citizen_id: uuid.UUID
    town: str
    display_name: str
    confirmed: bool
    token: str = Field(description="Bearer token for the API (Authorization: Bearer <token>).")


def citizen_of(principal: Principal, town: Town, action: str) -> uuid.UUID:
    require(principal, action, town.slug)
    if principal.citizen_id is None:  # staff hold no citizen account
        raise ApiError("FORBIDDEN", "Nur Bürgerinnen und Bürger können das tun.")
    return principal.citizen_id


# --- registration and sign-in


def register(backend: Backend, settings: Settings, request: Request, town: str) -> Response:
    t = town_or_404(town)
    body = parse_json(request, RegisterBody, settings.max_body_bytes)
    command = body.model_dump(mode="json") | {"client": client_key(request, settings)}
    return json_response(backend.call(t.service_name, "register_citizen", command=command), 202)


def request_sign_in(backend: Backend, settings: Settings, request: Request, town: str) -> Response:
    t = town_or_404(town)
    body = parse_json(request, EmailBody, settings.max_body_bytes)
    command = body.model_dump(mode="json") | {"client": client_key(request, settings)}
    return json_response(backend.call(t.service_name, "request_sign_in", command=command), 202)


def redeem(backend: Backend, settings: Settings, request: Request, town: str,
           method: Literal["confirm_citizen", "redeem_sign_in"]) -> Response:
    t = town_or_404(town)
    body = parse_json(request, LinkTokenBody, settings.max_body_bytes)
    session = backend.call(t.service_name, method, command=body.model_dump(mode="json"))
    response = json_response({})
    bearer = issue_citizen_session(response, CitizenSession.model_validate(session), settings)
    response.set_data(SessionOut(**session, token=bearer).model_dump_json())
    return response


# --- my data


def me(backend: Backend, principal: Principal, town: str) -> Response:
    t = town_or_404(town)
    cid = citizen_of(principal, t, "citizen.self")
    return json_response(backend.call(t.service_name, "get_citizen", citizen_id=str(cid)))


def update_me(backend: Backend, settings: Settings, principal: Principal, request: Request,
              town: str) -> Response:
    t = town_or_404(town)
    cid = citizen_of(principal, t, "citizen.self")
    body = parse_json(request, UpdateMeBody, settings.max_body_bytes)
    command = body.model_dump(mode="json", exclude_none=True) | {"citizen_id": str(cid)}
    return json_response(backend.call(t.service_name, "update_citizen", command=command))


def erase_me(backend: Backend, principal: Principal, town: str) -> Response:
    t = town_or_404(town)
    cid = citizen_of(principal, t, "citizen.self")
    response = json_response(personal_data.erase(backend, t, cid))
    end_citizen_session(response)
    return response


def export_me(backend: Backend, principal: Principal, town: str) -> Response:
    t = town_or_404(town)
    cid = citizen_of(principal, t, "citizen.self")
    return personal_data.download(personal_data.collect(backend, t, cid), t)


def my_ratings(backend: Backend, principal: Principal, town: str) -> Response:
    t = town_or_404(town)
    cid = citizen_of(principal, t, "citizen.self")
    return json_response({"items": backend.call(t.service_name, "my_ratings", citizen_id=str(cid))})


# --- answers, comments, ideas


def rate(backend: Backend, settings: Settings, principal: Principal, request: Request,
         town: str) -> Response:
    t = town_or_404(town)
    cid = citizen_of(principal, t, "rating.write")
    command = parse_json(request, RatingBody, settings.max_body_bytes).model_dump(mode="json")
    consultation_id = command.pop("consultation_id")
    command["participant_id"] = str(cid)
    accepted = backend.call(t.service_name, "rate", command=command, consultation_id=consultation_id)
    return json_response(accepted, 201 if accepted["changed"] else 200)


def comments(backend: Backend, request: Request, town: str, code: str) -> Response:
    t = town_or_404(town)
    paging = page_request(request.args)  # refuses bad values before anything is asked
    return json_response(paginate(
        backend.call(t.service_name, "list_comments", measure_code=code), paging))


def post_comment(backend: Backend, settings: Settings, principal: Principal, request: Request,
                 town: str, code: str) -> Response:
    t = town_or_404(town)
    cid = citizen_of(principal, t, "comment.write")
    body = parse_json(request, CommentBodyIn, settings.max_body_bytes)
    command = body.model_dump(mode="json") | {"citizen_id": str(cid), "measure_code": code,
                                              "client": client_key(request, settings)}
    return json_response(backend.call(t.service_name, "post_comment", command=command), 201)


def flag_comment(backend: Backend, settings: Settings, principal: Principal, request: Request,
                 town: str, comment_id: str) -> Response:
    t = town_or_404(town)
    cid = citizen_of(principal, t, "comment.flag")
    body = parse_json(request, FlagBody, settings.max_body_bytes)
    command = body.model_dump(mode="json") | {"citizen_id": str(cid), "comment_id": comment_id,
                                              "client": client_key(request, settings)}
    return json_response(backend.call(t.service_name, "flag_comment", command=command), 201)


def ideas(backend: Backend, request: Request, town: str) -> Response:
    t = town_or_404(town)
    status = request.args.get("status") or None
    if status not in (None, "submitted", "accepted", "declined"):
        raise ApiError("VALIDATION_FAILED", "Die Angaben sind ungültig.",
                       [{"field": "status", "problem": "one of submitted, accepted, declined"}])
    paging = page_request(request.args)
    return json_response(paginate(
        backend.call(t.service_name, "list_ideas", status=status, include_hidden=False), paging))


def propose_idea(backend: Backend, settings: Settings, principal: Principal, request: Request,
                 town: str) -> Response:
    t = town_or_404(town)
    cid = citizen_of(principal, t, "idea.write")
    body = parse_json(request, IdeaBody, settings.max_body_bytes)
    command = body.model_dump(mode="json") | {"citizen_id": str(cid),
                                              "client": client_key(request, settings)}
    return json_response(backend.call(t.service_name, "propose_idea", command=command), 201)
