"""The OpenAPI document lists every JSON route of the gateway, and nothing else."""

from __future__ import annotations

import inspect
import json
import re
from typing import Any

from services.gateway.entrypoints.service import GatewayService
from services.gateway.web.openapi import OPERATIONS, document, werkzeug_to_openapi

# Routes under /api that are not operations: the JSON 404 for unknown paths and the document.
NOT_OPERATIONS = {"/api/{rest}", "/api/openapi.json"}
JSON_OUTSIDE_API = {"/healthz", "/readyz", "/abo/abmelden/one-click"}


def json_routes() -> set[tuple[str, str]]:
    routes = set()
    for _name, member in inspect.getmembers(GatewayService):
        for entrypoint in getattr(member, "nameko_entrypoints", ()):
            path = werkzeug_to_openapi(entrypoint.url)
            if path in NOT_OPERATIONS:
                continue
            if path.startswith("/api/") or path in JSON_OUTSIDE_API:
                for method in entrypoint.method.split(","):
                    routes.add((method, path))
    return routes


def test_every_json_route_is_documented_and_every_documented_route_exists() -> None:
    routes = json_routes()
    assert routes, "the gateway has JSON routes"
    missing = sorted(routes - set(OPERATIONS))
    assert not missing, f"routes without a row in services/gateway/openapi.py OPERATIONS: {missing}"
    stale = sorted(set(OPERATIONS) - routes)
    assert not stale, f"rows in OPERATIONS that are no route: {stale}"


def test_the_document_is_openapi_3_1_and_every_reference_resolves() -> None:
    doc = document()
    assert doc["openapi"] == "3.1.0"
    text = json.dumps(doc)
    schemas = doc["components"]["schemas"]
    for ref in set(re.findall(r'"\$ref": "#/components/schemas/([^"]+)"', text)):
        assert ref in schemas, f"unresolved $ref {ref}"
    for path, item in doc["paths"].items():
        for method, op in item.items():
            names = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
            assert names == set(re.findall(r"{(\w+)}", path)), (method, path)
            assert op["responses"], (method, path)


def test_request_bodies_come_from_the_validating_models() -> None:
    doc = document()
    op: dict[str, Any] = doc["paths"]["/api/v1/towns/{town}/ratings"]["post"]
    schema_ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    body = doc["components"]["schemas"][schema_ref.rsplit("/", 1)[-1]]
    assert body["additionalProperties"] is False
    assert body["properties"]["effectiveness"]["anyOf"][0]["maximum"] == 5
    assert "participant_id" not in body["properties"], "the citizen comes from the session"
