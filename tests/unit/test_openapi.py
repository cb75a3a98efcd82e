"""The OpenAPI document is collected from the routes: every JSON route declares its metadata."""

from __future__ import annotations

import inspect
import json
import re
from pathlib import Path
from typing import Any

from services.gateway.entrypoints.service import GatewayService
from services.gateway.web.openapi import OPERATION_ATTRIBUTE, document, operations, werkzeug_to_openapi

# Routes under /api that are not operations: the JSON 404 for unknown paths and the document.
NOT_OPERATIONS = {"/api/{rest}", "/api/openapi.json"}
JSON_OUTSIDE_API = {"/healthz", "/readyz", "/abo/abmelden/one-click"}
# Pages on a path of a JSON route: the confirmation page the one-click address shows to a GET.
PAGES_ON_JSON_PATHS = {("GET", "/abo/abmelden/one-click")}
# The document as recorded: what clients already rely on (see the test at the end of the file).
BEFORE = Path(__file__).with_name("fixtures") / "openapi_before_gateway_packages.json"


def json_routes() -> dict[tuple[str, str], Any]:
    routes = {}
    for _name, member in inspect.getmembers(GatewayService):
        for entrypoint in getattr(member, "nameko_entrypoints", ()):
            path = werkzeug_to_openapi(entrypoint.url)
            if path in NOT_OPERATIONS:
                continue
            if path.startswith("/api/") or path in JSON_OUTSIDE_API:
                for method in entrypoint.method.split(","):
                    if (method, path) not in PAGES_ON_JSON_PATHS:
                        routes[(method, path)] = member
    return routes


def test_every_json_route_declares_its_openapi_metadata() -> None:
    routes = json_routes()
    assert len(routes) > 40, "the gateway has its JSON routes"
    undeclared = sorted(key for key, member in routes.items()
                        if getattr(member, OPERATION_ATTRIBUTE, None) is None)
    assert not undeclared, f"JSON routes without an Operation in their route decorator: {undeclared}"
    assert set(operations(GatewayService)) == set(routes)


def test_every_route_is_in_the_document_with_its_method() -> None:
    paths = document(GatewayService)["paths"]
    documented = {(method.upper(), path) for path, item in paths.items() for method in item}
    assert documented == set(json_routes())


def test_the_document_is_openapi_3_1_and_every_reference_resolves() -> None:
    doc = document(GatewayService)
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


def test_the_operations_and_schemas_of_the_recorded_document_are_unchanged() -> None:
    """New routes may be added; an operation or schema that clients already use changes only on purpose
    (then the recorded document is updated in the same change, so the review shows it)."""
    before = json.loads(BEFORE.read_text(encoding="utf-8"))
    now = json.loads(json.dumps(document(GatewayService), default=str))
    missing = sorted(set(before["paths"]) - set(now["paths"]))
    assert not missing, f"operations gone from the API: {missing}"
    for path, item in before["paths"].items():
        for method, operation in item.items():
            assert now["paths"][path].get(method) == operation, (method, path)
    for name, schema in before["components"]["schemas"].items():
        assert now["components"]["schemas"].get(name) == schema, name
    assert {key: value for key, value in now.items() if key not in ("paths", "components")} == \
        {key: value for key, value in before.items() if key not in ("paths", "components")}


def test_request_bodies_come_from_the_validating_models() -> None:
    doc = document(GatewayService)
    op: dict[str, Any] = doc["paths"]["/api/v1/towns/{town}/ratings"]["post"]
    schema_ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    body = doc["components"]["schemas"][schema_ref.rsplit("/", 1)[-1]]
    assert body["additionalProperties"] is False
    assert body["properties"]["effectiveness"]["anyOf"][0]["maximum"] == 5
    assert "participant_id" not in body["properties"], "the citizen comes from the session"
