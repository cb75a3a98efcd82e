"""The OpenAPI 3.1 document of the JSON API, generated from the pydantic models.

One table, OPERATIONS, describes every route under /api (and the health checks):
its request body and answer as pydantic models (the gateway's bodies and the wire
contracts), query parameters, who may call it, and the answers it can give. The
schemas come from the models themselves, so the document cannot drift from the
validation. tests/unit/test_openapi.py checks that every route of the gateway is
in the table and every row is a route.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model
from pydantic.json_schema import models_json_schema

from services.gateway.citizen import api as citizen_api
from services.gateway.public import api
from services.gateway.staff.auth import SignInBody
from services.gateway.town_admin import api as admin_api
from soesmart import contracts as c

Auth = Literal["public", "citizen", "staff", "town_admin", "coordinator", "any"]


class ErrorBody(BaseModel):
    """Every refusal: a code from a fixed list, a German message and field-level details."""

    model_config = ConfigDict(title="Error")
    error: str = Field(examples=["VALIDATION_FAILED"])
    message: str
    details: list[dict[str, Any]]


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: Literal["ready", "not_ready"]
    checks: dict[str, str]


class TokenOut(BaseModel):
    token: str
    expires_at: str
    role: str
    town: str | None = None


class Whoami(BaseModel):
    role: str
    name: str
    town: str | None = None


class StatusOut(BaseModel):
    status: str


_LISTS: dict[str, type[BaseModel]] = {}


def items_of(model: type[BaseModel] | Any, name: str | None = None, paged: bool = False) -> type[BaseModel]:
    """`{"items": [model]}` (with page, per_page, total when paged) as a named model."""
    title = name or f"{getattr(model, '__name__', 'Item')}List"
    if title not in _LISTS:
        fields: dict[str, Any] = {"items": (list[model], ...)}  # type: ignore[valid-type]
        if paged:
            fields |= {"page": (int, ...), "per_page": (int, ...), "total": (int, ...)}
        _LISTS[title] = create_model(title, **fields)
    return _LISTS[title]


class TownOut(BaseModel):
    slug: str
    name: str
    population: int
    postcodes: list[str]
    service: str


@dataclass(frozen=True)
class Param:
    name: str
    schema: dict[str, Any]
    description: str = ""
    where: Literal["query", "path"] = "query"
    required: bool = False


@dataclass(frozen=True)
class Operation:
    summary: str
    tag: str
    auth: Auth = "public"
    body: type[BaseModel] | None = None
    body_type: str = "application/json"
    response: type[BaseModel] | None = None
    response_type: str = "application/json"
    status: int = 200
    also: tuple[int, ...] = ()  # further success codes
    query: tuple[Param, ...] = ()
    errors: tuple[int, ...] = (422,)
    description: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


INT = {"type": "integer"}
STR = {"type": "string"}
TOWN_Q = Param("town", STR, "town slug, e.g. soest")
LIMIT = Param("limit", {"type": "integer", "minimum": 1, "maximum": 100}, "how many")
MIN_ANSWERS = Param("min_answers", {"type": "integer", "minimum": 1}, "least answers to count")
PAGING = (Param("page", {"type": "integer", "minimum": 1}, "page number, from 1"),
          Param("per_page", {"type": "integer", "minimum": 1, "maximum": 500}, "items per page"))
MEASURE_FILTERS = (
    Param("programme", {"enum": [p.value for p in c.Programme]}),
    Param("field_of_action", {"enum": list(c.MOBILITY_FIELDS + c.CLIMATE_FIELDS)}),
    Param("status", {"enum": [s.value for s in c.MeasureStatus]}),
    TOWN_Q,
)

T = "/api/v1/towns/{town}"
C = T + "/consultations/{cid}"
OPERATIONS: dict[tuple[str, str], Operation] = {
    # --- health
    ("GET", "/healthz"): Operation("The process runs", "health", response=Health, errors=()),
    ("GET", "/readyz"): Operation(
        "The broker and every service answer within a deadline", "health", response=Readiness,
        errors=(503,)),
    # --- towns, consultations, citizens
    ("GET", "/api/v1/towns"): Operation("The towns of the network", "towns",
                                        response=items_of(TownOut), errors=()),
    ("GET", f"{T}/consultations"): Operation(
        "Open consultations of a town (drafts too for its admins)", "consultations",
        response=items_of(c.ConsultationView, "ConsultationPage", paged=True),
        query=(Param("include_drafts", {"type": "boolean"}, "town admins only"), *PAGING),
        errors=(401, 403, 404, 422)),
    ("POST", f"{T}/citizens"): Operation(
        "Register as a citizen of the town (double opt-in by mail)", "citizens",
        body=citizen_api.RegisterBody, response=c.LinkSent, status=202, errors=(404, 422, 429),
        description="Answers the same whether or not the address is known."),
    ("POST", f"{T}/citizens/confirm"): Operation(
        "Confirm the address with the token of the mailed link; signs in", "citizens",
        body=citizen_api.LinkTokenBody, response=citizen_api.SessionOut, errors=(400, 404, 422)),
    ("POST", f"{T}/sign-in"): Operation(
        "Ask for a sign-in link by mail", "citizens", body=citizen_api.EmailBody,
        response=c.LinkSent, status=202, errors=(404, 422, 429)),
    ("POST", f"{T}/sign-in/redeem"): Operation(
        "Sign in with the token of the mailed link", "citizens",
        body=citizen_api.LinkTokenBody, response=citizen_api.SessionOut, errors=(400, 404, 422)),
    ("GET", f"{T}/me"): Operation("My data: everything the town stores about me", "citizens",
                                  auth="citizen", response=c.CitizenView, errors=(401, 403, 404)),
    ("PATCH", f"{T}/me"): Operation("Change my display name, language and mail choices",
                                    "citizens", auth="citizen", body=citizen_api.UpdateMeBody,
                                    response=c.CitizenView, errors=(401, 403, 404, 422)),
    ("DELETE", f"{T}/me"): Operation("Erase my account (ratings stay, anonymous)", "citizens",
                                     auth="citizen", response=None, errors=(401, 403, 404)),
    ("GET", f"{T}/me/ratings"): Operation("My answers", "citizens", auth="citizen",
                                          response=None, errors=(401, 403, 404)),
    ("POST", f"{T}/ratings"): Operation(
        "Answer the two questions for a measure (or change the answer)", "ratings",
        auth="citizen", body=citizen_api.RatingBody, response=c.RatingAccepted, status=201,
        also=(200,), errors=(401, 403, 404, 409, 413, 415, 422)),
    ("GET", f"{T}/measures/{{code}}/comments"): Operation(
        "The visible comments on a measure (newest first), with replies", "comments",
        response=items_of(c.CommentView, "CommentPage", paged=True), query=PAGING,
        errors=(404, 422)),
    ("POST", f"{T}/measures/{{code}}/comments"): Operation(
        "Comment on a measure, or reply to a comment", "comments", auth="citizen",
        body=citizen_api.CommentBodyIn, response=c.CommentView, status=201,
        errors=(401, 403, 404, 409, 422, 429)),
    ("POST", f"{T}/comments/{{comment_id}}/flags"): Operation(
        "Report a comment to the moderators", "comments", auth="citizen",
        body=citizen_api.FlagBody, response=None, status=201, errors=(401, 403, 404, 422, 429)),
    ("GET", f"{T}/ideas"): Operation(
        "Citizens' ideas of the town", "ideas",
        response=items_of(c.IdeaView, "IdeaPage", paged=True),
        query=(Param("status", {"enum": ["submitted", "accepted", "declined"]}), *PAGING),
        errors=(404, 422)),
    ("POST", f"{T}/ideas"): Operation(
        "Propose a new measure", "ideas", auth="citizen", body=citizen_api.IdeaBody,
        response=c.IdeaView, status=201, errors=(401, 403, 404, 422, 429)),
    # --- catalogue and results
    ("GET", "/api/v1/measures"): Operation(
        "The regional catalogue", "measures",
        response=items_of(c.MeasureDetail, "MeasurePage", paged=True),
        query=MEASURE_FILTERS + PAGING, errors=(422,)),
    ("GET", "/api/v1/measures/{code}"): Operation(
        "One measure with its status history", "measures", response=c.MeasureDetail,
        errors=(404,)),
    ("POST", "/api/v1/measures/{code}/status"): Operation(
        "Change a measure's status (with note and progress)", "measures", auth="coordinator",
        body=api.StatusBody, response=c.MeasureDetail, errors=(401, 403, 404, 409, 422)),
    ("POST", "/api/v1/measures/import"): Operation(
        "Import a catalogue file (CSV or JSON); all rows or none", "measures",
        auth="coordinator", body=None, body_type="text/csv", response=c.ImportReport,
        errors=(401, 403, 413, 415, 422)),
    ("GET", "/api/v1/measures/export"): Operation(
        "Export the catalogue", "measures", response=None, response_type="text/csv",
        query=(Param("format", {"enum": ["csv", "json"]}),), errors=(422,)),
    ("GET", "/api/v1/results"): Operation("Combined results of all towns", "results",
                                          response=c.RegionalResults, errors=()),
    ("GET", "/api/v1/results/top"): Operation(
        "The region's top measures by support", "results", auth="coordinator",
        response=c.TopMeasures, query=(LIMIT, MIN_ANSWERS, TOWN_Q), errors=(401, 403, 404, 422)),
    ("GET", "/api/v1/results/measures/{code}/towns"): Operation(
        "Town against town for one measure", "results", auth="coordinator",
        response=c.TownComparison, errors=(401, 403, 404)),
    ("GET", "/api/v1/results/disagreements"): Operation(
        "Measures where towns disagree most", "results", auth="coordinator",
        response=c.Disagreements, query=(LIMIT, MIN_ANSWERS), errors=(401, 403, 422)),
    ("GET", "/api/v1/results/participation"): Operation(
        "Participation per town and day", "results", auth="coordinator",
        response=c.ParticipationPerDay,
        query=(Param("since", {"type": "string", "format": "date"}), TOWN_Q),
        errors=(401, 403, 404, 422)),
    ("GET", "/api/v1/results/export"): Operation(
        "Combined results as CSV for German spreadsheets", "results", auth="coordinator",
        response=None, response_type="text/csv", errors=(401, 403)),
    # --- subscriptions and mail
    ("POST", "/api/v1/subscriptions"): Operation(
        "Subscribe to mail about a measure, field of action, town or the region", "mail",
        body=api.SubscriptionBody, response=c.SubscriptionAccepted, status=202,
        errors=(404, 422)),
    ("POST", "/api/v1/subscriptions/confirm"): Operation(
        "Confirm a subscription with the mailed token", "mail", body=api.TokenBody,
        response=None, errors=(400, 422)),
    ("POST", "/api/v1/subscriptions/unsubscribe"): Operation(
        "End a subscription with the signed token of a mail", "mail", body=api.TokenBody,
        response=None, errors=(400, 422)),
    ("POST", "/abo/abmelden/one-click"): Operation(
        "One-click unsubscribe (RFC 8058) from a mail's List-Unsubscribe-Post", "mail",
        response=StatusOut, query=(Param("token", STR, required=True),), errors=(400,)),
    ("GET", "/api/v1/admin/deliveries"): Operation(
        "Delivery log of the mails", "mail", auth="coordinator", response=c.DeliveryLog,
        query=(LIMIT,), errors=(401, 403, 422)),
    # --- staff
    ("POST", "/api/v1/auth/token"): Operation(
        "Staff sign-in: a bearer token for the API", "staff", body=SignInBody,
        response=TokenOut, errors=(401, 422, 429)),
    ("POST", "/api/v1/auth/logout"): Operation("Revoke the bearer token", "staff", auth="staff",
                                               response=StatusOut, errors=(401,)),
    ("GET", "/api/v1/auth/me"): Operation("Who this credential belongs to", "staff",
                                          auth="any", response=Whoami, errors=(401,)),
    # --- town admins: consultations, moderation, ideas, results
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

STATUS_TEXT = {
    400: "Bad request (malformed JSON, invalid or used link)",
    401: "Not signed in",
    403: "Signed in, but not allowed",
    404: "Unknown town, measure or resource",
    409: "Not possible in the current state",
    413: "Body too large",
    415: "Wrong content type",
    422: "Validation failed; `details` names each field",
    429: "Too many requests; see Retry-After",
    503: "A service did not answer in time; nothing was written",
}


def _path_params(path: str) -> list[dict[str, Any]]:
    import re

    return [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in re.findall(r"{(\w+)}", path)]


def _security(auth: Auth) -> list[dict[str, list[str]]] | None:
    if auth == "public":
        return None
    if auth == "citizen":
        return [{"citizenBearer": []}, {"citizenCookie": []}]
    if auth == "any":
        return [{"staffBearer": []}, {"citizenBearer": []}]
    return [{"staffBearer": []}, {"staffCookie": []}]


@lru_cache(maxsize=1)
def document() -> dict[str, Any]:
    models: set[type[BaseModel]] = {ErrorBody}
    for op in OPERATIONS.values():
        for m in (op.body, op.response):
            if m is not None:
                models.add(m)
    ordered = sorted(models, key=lambda m: m.__name__)
    refs, top = models_json_schema(
        [(m, "validation" if m in {op.body for op in OPERATIONS.values()} else "serialization")
         for m in ordered],
        ref_template="#/components/schemas/{model}",
    )
    schemas = top.get("$defs", {})

    def ref(model: type[BaseModel], mode: str) -> dict[str, Any]:
        return dict(refs[(model, mode)])  # type: ignore[index]

    body_models = {op.body for op in OPERATIONS.values() if op.body is not None}
    paths: dict[str, dict[str, Any]] = {}
    for (method, path), op in sorted(OPERATIONS.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        item: dict[str, Any] = {"summary": op.summary, "tags": [op.tag],
                                "operationId": f"{method.lower()}_{path.strip('/').replace('/', '_')}"
                                .replace("{", "").replace("}", "").replace("-", "_")}
        if op.description:
            item["description"] = op.description
        params = _path_params(path) + [
            {"name": p.name, "in": p.where, "required": p.required, "schema": p.schema,
             **({"description": p.description} if p.description else {})}
            for p in op.query
        ]
        if params:
            item["parameters"] = params
        if op.body is not None:
            mode = "validation"
            item["requestBody"] = {"required": True,
                                   "content": {op.body_type: {"schema": ref(op.body, mode)}}}
        elif op.body_type != "application/json":
            item["requestBody"] = {"required": True, "content": {
                "text/csv": {"schema": {"type": "string"}},
                "application/json": {"schema": {"type": "array", "items": {"type": "object"}}}}}
        ok_content: dict[str, Any]
        if op.response is not None:
            mode = "validation" if op.response in body_models else "serialization"
            ok_content = {op.response_type: {"schema": ref(op.response, mode)}}
        elif op.response_type != "application/json":
            ok_content = {op.response_type: {"schema": {"type": "string"}}}
        else:
            ok_content = {"application/json": {"schema": {}}}
        responses: dict[str, Any] = {
            str(code): {"description": "OK", "content": ok_content} for code in (op.status, *op.also)
        }
        error_ref = ref(ErrorBody, "serialization")
        for code in sorted({*op.errors, 503} - {op.status}):
            responses[str(code)] = {"description": STATUS_TEXT.get(code, "Error"),
                                    "content": {"application/json": {"schema": error_ref}}}
        item["responses"] = responses
        security = _security(op.auth)
        if security is not None:
            item["security"] = security
        paths.setdefault(path, {})[method.lower()] = item
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "soesmart: Bürgerbeteiligung 5 für Südwestfalen",
            "version": "1",
            "description": "JSON API of the participation network of Soest, Arnsberg, Bad "
            "Berleburg, Menden and Olpe. Errors always have the shape "
            '`{"error": CODE, "message": text, "details": [...]}`.',
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "staffBearer": {"type": "http", "scheme": "bearer",
                                "description": "`s.<token>` from POST /api/v1/auth/token"},
                "citizenBearer": {"type": "http", "scheme": "bearer",
                                  "description": "`c.<token>` from confirming or signing in"},
                "staffCookie": {"type": "apiKey", "in": "cookie", "name": "soesmart_staff"},
                "citizenCookie": {"type": "apiKey", "in": "cookie", "name": "soesmart_citizen"},
            },
        },
    }


def werkzeug_to_openapi(rule: str) -> str:
    """`/api/v1/towns/<string:town>` -> `/api/v1/towns/{town}`."""
    import re

    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule)
