"""Returning callers (issue 16, item 2): POST /api/lookup finds a request or handoff by its
Vorgangsnummer (spoken or keyed), tells its status only after the check (the calling number,
else the postcode), never says whether an unknown number exists, and locks a number after
three wrong postcodes. Real middleware, routes and SQLite; no Rasa."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from voicebot.config import RasaSettings, Settings
from voicebot.gateway import Gateway
from voicebot.store.calls import iso
from voicebot.store.handoffs import Handoff
from voicebot.store.lookup import keypad_form, note_for_caller, parse_reference, same_number
from voicebot.store.requests import ServiceRequest
from voicebot.web.app import api_auth
from voicebot.web.keys import GATEWAY
from voicebot.web.lookup_api import MAX_PER_CALL, LookupGuard, add_lookup_api

TOKEN = "test-token-" + "x" * 40
ACTIONS = "actions-token-" + "y" * 40
AUTH = {"Authorization": f"Bearer {ACTIONS}"}
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=timezone.utc)
Client = TestClient[web.Request, web.Application]


def test_keypad_and_spoken_forms() -> None:
    assert keypad_form("K7M42X") == "576429"
    assert parse_reference("k7m 42-x") == "K7M42X"
    assert parse_reference("576429") == "576429"
    assert parse_reference("5764290") is None and parse_reference("K7M42") is None
    assert parse_reference("501234") is None  # 0 and 1 are on no id


def test_numbers_compare_in_national_and_international_form() -> None:
    assert same_number("0214 123456", "+49 214 123456")
    assert same_number("0049214123456", "+49214123456")
    assert not same_number("+49214123456", "+49214123457")
    assert not same_number(None, None) and not same_number("", "")


def test_only_the_note_marked_for_the_caller_is_told() -> None:
    assert note_for_caller("Für den Anrufer: Abholung am 3. März.") == "Abholung am 3. März."
    assert note_for_caller("intern: Nachbar hat sich beschwert") is None
    assert note_for_caller(None) is None


async def _store(gateway: Gateway) -> tuple[str, str]:
    stored = await gateway.requests.insert(
        ServiceRequest(
            id="",
            kind="sperrmuell",
            call_id="CA1",
            created_at=iso(NOW),
            caller="+4921477123",
            data={"street": "Hauptstraße", "house_number": "5", "postcode": "51373"},
            summary="Sperrmüll",
        )
    )
    await gateway.requests.mark_done(
        stored.id, NOW, "anna", "Für den Anrufer: Abholung am 3. März."
    )
    handoff = Handoff(
        handoff_id="K7M42X", call_id="CA2", kind="callback", status="accepted",
        created_at=iso(NOW), updated_at=iso(NOW), language="de", reason="caller_request",
        department="standesamt", topic="", summary="", caller="+4921455555",
        note="intern: schwierig",
    )  # fmt: skip
    assert await gateway.handoff_store.insert(handoff)
    return stored.id, handoff.handoff_id


def run_api(tmp_path: Path, scenario: Callable[[Client, str, str], Awaitable[None]]) -> None:
    settings = Settings(
        data_dir=tmp_path, api_token=TOKEN, rasa=RasaSettings(actions_token=ACTIONS)
    )

    async def main() -> None:
        gateway = Gateway(settings)
        app = web.Application(middlewares=[api_auth])
        app[GATEWAY] = gateway
        add_lookup_api(app)
        await gateway.store.open()
        try:
            request_id, handoff_id = await _store(gateway)
            async with TestClient(TestServer(app)) as client:
                await scenario(client, request_id, handoff_id)
        finally:
            await gateway.store.close()

    asyncio.run(main())


async def ask(client: Client, call: str = "call-1", **body: Any) -> dict[str, Any]:
    resp = await client.post("/api/lookup", json={"call_id": call, **body}, headers=AUTH)
    assert resp.status == 200, await resp.text()
    return dict(await resp.json())


def test_same_number_hears_the_status_with_the_note_marked_for_it(tmp_path: Path) -> None:
    async def scenario(client: Client, request_id: str, _: str) -> None:
        found = await ask(client, reference=request_id, caller="0214 77123")
        assert found["result"] == "verified" and found["status"] == "done"
        assert found["note"] == "Abholung am 3. März." and found["id"] == request_id
        assert found["label"].startswith("Sperrmüll")
        keyed = await ask(client, "call-2", reference=keypad_form(request_id), caller="+4921477123")
        assert keyed["id"] == request_id

    run_api(tmp_path, scenario)


def test_another_number_is_asked_for_the_postcode_and_a_wrong_one_hears_nothing(
    tmp_path: Path,
) -> None:
    async def scenario(client: Client, request_id: str, handoff_id: str) -> None:
        asked = await ask(client, reference=request_id, caller="+4917600000")
        assert asked == {"result": "need_detail", "detail": "postcode"}
        # an unknown number gets the same answers: nobody learns whether it exists
        assert await ask(client, "c9", reference="BBBBBB", caller="+4917600000") == asked
        assert (await ask(client, "c9", reference="BBBBBB", postcode="51373"))["result"] == (
            "mismatch"
        )
        wrong = await ask(client, reference=request_id, caller="+4917600000", postcode="51379")
        assert wrong == {"result": "mismatch", "attempts_left": 2}
        right = await ask(client, "c2", reference=request_id, caller="+491760", postcode="51373")
        assert right["result"] == "verified" and right["status"] == "done"
        # a handoff: accepted is "in progress"; its note is not marked for the caller
        taken = await ask(client, "c3", reference=handoff_id, caller="+4921455555")
        assert taken["status"] == "in_progress" and taken["note"] is None
        assert taken["kind"] == "handoff" and taken["label"] == "Rückrufbitte"
        # no postcode stored: only the caller's own number can hear it
        other = await ask(client, "c4", reference=handoff_id, caller="+49176", postcode="51373")
        assert other["result"] == "mismatch"

    run_api(tmp_path, scenario)


def test_three_wrong_postcodes_lock_the_number_also_for_the_right_one(tmp_path: Path) -> None:
    async def scenario(client: Client, request_id: str, _: str) -> None:
        for call, postcode in (("a", "51371"), ("b", "51372")):
            assert (await ask(client, call, reference=request_id, postcode=postcode))[
                "result"
            ] == "mismatch"
        keyed = keypad_form(request_id)  # keyed or spoken: the same lock
        assert (await ask(client, "c", reference=keyed, postcode="51374"))["result"] == "locked"
        right = await ask(client, "d", reference=request_id, postcode="51373")
        assert right == {"result": "locked"}

    run_api(tmp_path, scenario)


def test_one_call_has_a_bounded_number_of_lookups(tmp_path: Path) -> None:
    async def scenario(client: Client, request_id: str, _: str) -> None:
        for _ in range(MAX_PER_CALL):
            await ask(client, "greedy", reference="BBBBBB", caller="+49176")
        assert await ask(client, "greedy", reference=request_id, caller="+4921477123") == {
            "result": "locked"
        }

    run_api(tmp_path, scenario)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"reference": "K7M42", "call_id": "c"}, "reference"),
        ({"reference": "K7M42X"}, "call_id"),
        ({"reference": "K7M42X", "call_id": "c", "caller": 5}, "caller"),
        ({"reference": "x" * 100, "call_id": "c"}, "reference"),
        ([1], "body"),
    ],
)
def test_bad_input_is_refused_naming_the_field(tmp_path: Path, body: Any, field: str) -> None:
    async def scenario(client: Client, _: str, __: str) -> None:
        resp = await client.post("/api/lookup", json=body, headers=AUTH)
        assert resp.status == 400 and (await resp.json())["field"] == field

    run_api(tmp_path, scenario)


def test_the_lookup_needs_a_token_the_action_servers_or_the_api_token(tmp_path: Path) -> None:
    async def scenario(client: Client, request_id: str, _: str) -> None:
        body = {"reference": request_id, "call_id": "c", "caller": "+4921477123"}
        for headers in ({}, {"Authorization": "Bearer wrong"}):
            assert (await client.post("/api/lookup", json=body, headers=headers)).status == 401
        api = {"Authorization": f"Bearer {TOKEN}"}
        assert (await client.post("/api/lookup", json=body, headers=api)).status == 200
        # the action server's token opens nothing else
        assert (await client.get(f"/api/requests/{request_id}", headers=AUTH)).status == 401

    run_api(tmp_path, scenario)


def test_the_guard_forgets_after_the_lock_time() -> None:
    now = [0.0]
    guard = LookupGuard(clock=lambda: now[0])
    for _ in range(3):
        guard.fail("576429")
    assert guard.locked("576429")
    now[0] = 3601.0
    assert not guard.locked("576429") and guard.attempts_left("576429") == 3


def test_with_consent_the_calling_number_finds_its_own_requests_only(tmp_path: Path) -> None:
    async def scenario(client: Client, request_id: str, handoff_id: str) -> None:
        mine = await ask(client, by_caller=True, caller="0214 77123")
        assert mine["result"] == "found"
        assert [r["id"] for r in mine["requests"]] == [request_id]
        assert mine["requests"][0]["status"] == "done"
        other = await ask(client, "c2", by_caller=True, caller="+49 214 55555")
        assert [r["id"] for r in other["requests"]] == [handoff_id]
        assert (await ask(client, "c3", by_caller=True, caller="+49999"))["requests"] == []
        resp = await client.post(
            "/api/lookup", json={"by_caller": True, "call_id": "x"}, headers=AUTH
        )
        assert resp.status == 400 and (await resp.json())["field"] == "caller"

    run_api(tmp_path, scenario)
