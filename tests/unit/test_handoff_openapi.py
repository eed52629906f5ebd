"""docs/openapi.yaml is valid OpenAPI 3.1 in shape and documents every route the app serves."""

from __future__ import annotations

from typing import Any

import yaml
from aiohttp import web

from tests.support import ROOT
from voicebot.config import Settings
from voicebot.web.app import create_app

SPEC = ROOT / "docs" / "openapi.yaml"


def app_routes() -> set[tuple[str, str]]:
    """(METHOD, path template) of every route, HEAD aside (aiohttp adds it to every GET)."""
    routes = set()
    for route in create_app(Settings()).router.routes():
        if route.method == "HEAD":
            continue
        resource = route.resource
        assert resource is not None
        path = resource.canonical
        if isinstance(resource, web.StaticResource):
            path += "/{filename}"
        routes.add((route.method, path))
    return routes


def load_spec() -> dict[str, Any]:
    data = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_spec_is_openapi_3_1_with_resolvable_references() -> None:
    spec = load_spec()
    assert str(spec["openapi"]).startswith("3.1")
    assert spec["info"]["title"] and spec["paths"]

    def refs(node: Any) -> list[str]:
        if isinstance(node, dict):
            found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
            return found + [r for v in node.values() for r in refs(v)]
        if isinstance(node, list):
            return [r for v in node for r in refs(v)]
        return []

    for ref in refs(spec):
        target: Any = spec
        for part in ref.removeprefix("#/").split("/"):
            assert part in target, f"unresolvable $ref {ref}"
            target = target[part]


def test_every_route_is_documented_and_nothing_else() -> None:
    spec = load_spec()
    documented = {
        (method.upper(), path)
        for path, operations in spec["paths"].items()
        for method in operations
        if method in {"get", "post", "put", "patch", "delete"}
    }
    served = app_routes()
    assert served - documented == set(), "routes missing from docs/openapi.yaml"
    assert documented - served == set(), "docs/openapi.yaml documents routes that do not exist"
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            assert operation.get("responses"), f"{method.upper()} {path} has no responses"
            if path.startswith("/api/"):
                assert "security" not in operation, "/api/* uses the global bearer security"
