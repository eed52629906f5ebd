"""Health and call-record API of the running gateway."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from tests.conftest import Stack

pytestmark = pytest.mark.integration


def get(url: str, token: str | None = None) -> tuple[int, dict[str, object]]:
    request = urllib.request.Request(url)
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def test_health_reports_each_component(stack: Stack) -> None:
    status, body = get(f"{stack.http_url}/health")
    assert status == 200 and body["status"] == "ok"
    components = body["components"]
    assert isinstance(components, dict)
    for name in ("models", "rasa", "actions", "database"):
        assert name in components
    assert components["models"]["state"] == "ready"
    assert components["rasa"]["state"] == "up"


@pytest.mark.parametrize("token", [None, "wrong-token"])
def test_call_api_needs_the_bearer_token(stack: Stack, token: str | None) -> None:
    status, _ = get(f"{stack.http_url}/api/calls/anything", token)
    assert status == 401


def test_unknown_call_is_404_with_token(stack: Stack) -> None:
    status, body = get(f"{stack.http_url}/api/calls/CAdoesnotexist", stack.token)
    assert status == 404 and "error" in body
