"""actions/requests_client.py: what the action server sends to POST /api/requests, and what
the caller hears when the gateway stores it, refuses it, or cannot be reached.

The gateway side of the same exchange (validation, idempotency, outbox) is tested against the
real API in tests/unit/test_requests_api.py; here a small aiohttp server stands in for it,
because the gateway's package does not run in the Rasa interpreter.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest
from actions.requests_client import (
    EmailDraft,
    RequestNotSaved,
    idempotency_key,
    request_body,
    store_and_confirm,
)
from aiohttp import web
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

DATA = {"postcode": "51373", "items": ["Sofa"]}


def tracker(metadata: dict[str, Any] | None = None) -> Tracker:
    message = {"text": "", "intent": {}, "entities": [], "metadata": metadata or {}}
    return Tracker("CA77", {}, message, [], False, None, None, "action_listen")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def with_gateway(status: int, answer: Any, scenario: Any) -> list[web.Request]:
    """Runs `scenario` while a stand-in gateway answers POST /api/requests."""
    seen: list[tuple[dict[str, str], Any]] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append((dict(request.headers), await request.json()))
        return web.json_response(answer, status=status)

    app = web.Application()
    app.router.add_post("/api/requests", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        await scenario(f"http://127.0.0.1:{port}")
    finally:
        await runner.cleanup()
    return seen  # type: ignore[return-value]


def test_the_body_names_the_call_the_caller_and_the_email() -> None:
    email = EmailDraft("a@example.org", "Ihr Formular", "Guten Tag")
    body = request_body("form_delivery", tracker({"caller": " +49214 "}), DATA, "Formular", email)
    assert body == {
        "kind": "form_delivery",
        "call_id": "CA77",
        "data": DATA,
        "summary": "Formular",
        "caller": "+49214",
        "email": {"to": "a@example.org", "subject": "Ihr Formular", "body": "Guten Tag"},
    }
    with pytest.raises(ValueError, match="kind"):
        request_body("parking", tracker(), DATA, "")


def test_the_idempotency_key_depends_on_call_kind_and_data_only() -> None:
    key = idempotency_key("CA77", "sperrmuell", DATA)
    assert key == idempotency_key("CA77", "sperrmuell", dict(reversed(DATA.items())))
    assert key != idempotency_key("CA78", "sperrmuell", DATA)
    assert key != idempotency_key("CA77", "appointment", DATA)
    assert key != idempotency_key("CA77", "sperrmuell", {**DATA, "items": ["Tisch"]})


def test_a_stored_request_is_confirmed_with_its_spoken_reference(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    answer = {"id": "K7M42X", "id_spoken": "K 7 M 4 2 X", "outbox": []}
    dispatcher = CollectingDispatcher()
    result: list[Any] = []

    async def scenario(url: str) -> None:
        monkeypatch.setenv("VOICEBOT_GATEWAY_URL", url + "/")
        monkeypatch.setenv("VOICEBOT_API_TOKEN", "secret")
        result.append(await store_and_confirm(dispatcher, "sperrmuell", tracker(), DATA, "S"))

    seen = asyncio.run(with_gateway(201, answer, scenario))
    ((headers, body),) = seen
    assert headers["Authorization"] == "Bearer secret"
    assert headers["Idempotency-Key"] == idempotency_key("CA77", "sperrmuell", DATA)
    assert body["kind"] == "sperrmuell" and body["data"] == DATA
    saved, events = result[0]
    assert saved.id == "K7M42X"
    assert events == [SlotSet("request_reference", "K7M42X")]
    assert dispatcher.messages[0]["response"] == "utter_request_saved"
    assert dispatcher.messages[0]["reference"] == "K 7 M 4 2 X"


@pytest.mark.parametrize(
    ("status", "answer"),
    [
        (400, {"error": "'data' must be a JSON object", "field": "data"}),
        (401, {"error": "unauthorised"}),
        (201, {"unexpected": True}),
        (500, "Internal Server Error"),
    ],
)
def test_a_refused_request_hands_over_with_the_apology(
    monkeypatch: pytest.MonkeyPatch, status: int, answer: Any
) -> None:
    dispatcher = CollectingDispatcher()
    result: list[Any] = []

    async def scenario(url: str) -> None:
        monkeypatch.setenv("VOICEBOT_GATEWAY_URL", url)
        result.append(await store_and_confirm(dispatcher, "appointment", tracker(), DATA, "T"))

    asyncio.run(with_gateway(status, answer, scenario))
    assert result == [(None, [])]
    assert [m["response"] for m in dispatcher.messages] == ["utter_request_not_saved"]


def test_no_gateway_configured_or_reachable_is_not_saved(monkeypatch: pytest.MonkeyPatch) -> None:
    from actions.requests_client import submit_request

    monkeypatch.delenv("VOICEBOT_GATEWAY_URL", raising=False)
    with pytest.raises(RequestNotSaved, match="VOICEBOT_GATEWAY_URL"):
        asyncio.run(submit_request("sperrmuell", tracker(), DATA, ""))
    monkeypatch.setenv("VOICEBOT_GATEWAY_URL", f"http://127.0.0.1:{free_port()}")
    with pytest.raises(RequestNotSaved, match="not reachable"):
        asyncio.run(submit_request("sperrmuell", tracker(), DATA, "", timeout_s=2))
