"""The OpenAPI 3.1 document of the JSON API, collected from the routes themselves.

Every JSON route declares its `Operation` where it is declared (`web.routing.api`):
its request body and answer as pydantic models (the gateway's bodies and the wire
contracts), query parameters, who may call it, and the answers it can give. The
document walks the routes of the service class, so there is no second table to keep
in step, and the schemas come from the models that validate, so they cannot drift.
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model
from pydantic.json_schema import models_json_schema

Auth = Literal["public", "citizen", "staff", "town_admin", "coordinator", "any"]
OPERATION_ATTRIBUTE = "openapi_operation"


class ErrorBody(BaseModel):
    """Every refusal: a code from a fixed list, a German message and field-level details."""

    model_config = ConfigDict(title="Error")
    error: str = Field(examples=["VALIDATION_FAILED"])
    message: str
    details: list[dict[str, Any]]


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
    503: ("A service did not answer in time or the broker is away; try again after "
          "Retry-After. The command may have been carried out all the same (its answer was "
          "lost): ratings are safe to send again"),
}


def _path_params(path: str) -> list[dict[str, Any]]:
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


def operations(service: type) -> dict[tuple[str, str], Operation]:
    """(method, OpenAPI path) -> Operation of every documented route of `service`."""
    found: dict[tuple[str, str], Operation] = {}
    for _name, member in inspect.getmembers(service):
        op = getattr(member, OPERATION_ATTRIBUTE, None)
        if op is None:
            continue
        for entrypoint in getattr(member, "nameko_entrypoints", ()):
            for method in entrypoint.method.split(","):
                found[(method, werkzeug_to_openapi(entrypoint.url))] = op
    return found


_DOCUMENTS: dict[type, dict[str, Any]] = {}


def document(service: type) -> dict[str, Any]:
    """The document of every route of `service` that declares an Operation (built once)."""
    if service not in _DOCUMENTS:
        _DOCUMENTS[service] = _build(operations(service))
    return _DOCUMENTS[service]


def _build(table: dict[tuple[str, str], Operation]) -> dict[str, Any]:
    models: set[type[BaseModel]] = {ErrorBody}
    for op in table.values():
        for m in (op.body, op.response):
            if m is not None:
                models.add(m)
    ordered = sorted(models, key=lambda m: m.__name__)
    refs, top = models_json_schema(
        [(m, "validation" if m in {op.body for op in table.values()} else "serialization")
         for m in ordered],
        ref_template="#/components/schemas/{model}",
    )
    schemas = top.get("$defs", {})

    def ref(model: type[BaseModel], mode: str) -> dict[str, Any]:
        return dict(refs[(model, mode)])  # type: ignore[index]

    body_models = {op.body for op in table.values() if op.body is not None}
    paths: dict[str, dict[str, Any]] = {}
    for (method, path), op in sorted(table.items(), key=lambda kv: (kv[0][1], kv[0][0])):
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
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule)
