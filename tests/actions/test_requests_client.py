"""actions/requests_client.py: what the action server sends to POST /api/requests, and what
the caller hears when the gateway stores it, refuses it, or cannot be reached.

The gateway side of the same exchange (validation, idempotency, outbox) is tested against the
real API in tests/unit/test_requests_api.py; here a small aiohttp server stands in for it,
because the gateway's package does not run in the Rasa interpreter.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from actions.kinds import APPOINTMENT, SPERRMUELL
from actions.requests_client import (
    EmailDraft,
    RequestNotSaved,
    idempotency_key,
    request_body,
    store_and_confirm,
    submit_request,
)
from actions.settings import Settings
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from tests.actions.helpers import configured, free_port, make_tracker, with_gateway

DATA = {"postcode": "51373", "items": ["Sofa"]}


def tracker(metadata: dict[str, Any] | None = None) -> Tracker:
    return make_tracker(sender="CA77", metadata=metadata, events=[])


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


def test_a_stored_request_is_confirmed_with_its_spoken_reference() -> None:
    answer = {"id": "K7M42X", "id_spoken": "K 7 M 4 2 X", "outbox": []}
    dispatcher = CollectingDispatcher()
    result: list[Any] = []

    async def scenario(url: str) -> None:
        with configured(gateway_url=url + "/", api_token="secret"):
            result.append(await store_and_confirm(dispatcher, SPERRMUELL, tracker(), DATA, "S"))

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
def test_a_refused_request_hands_over_with_the_apology(status: int, answer: Any) -> None:
    dispatcher = CollectingDispatcher()
    result: list[Any] = []

    async def scenario(url: str) -> None:
        with configured(gateway_url=url):
            result.append(await store_and_confirm(dispatcher, APPOINTMENT, tracker(), DATA, "T"))

    asyncio.run(with_gateway(status, answer, scenario))
    assert result == [(None, [])]
    assert [m["response"] for m in dispatcher.messages] == ["utter_request_not_saved"]


def test_no_gateway_configured_or_reachable_is_not_saved() -> None:
    with pytest.raises(RequestNotSaved, match="VOICEBOT_GATEWAY_URL"):
        asyncio.run(submit_request(SPERRMUELL, tracker(), DATA, "", config=Settings()))
    unreachable = Settings(gateway_url=f"http://127.0.0.1:{free_port()}", request_timeout_s=2)
    with pytest.raises(RequestNotSaved, match="not reachable"):
        asyncio.run(submit_request(SPERRMUELL, tracker(), DATA, "", config=unreachable))
