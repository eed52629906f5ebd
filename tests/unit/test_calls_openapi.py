"""docs/openapi.yaml describes the call records the API really serves (issue 12, finding 4):
the gateway's call id, the platform's id (`platform_call_id`), and the lookup by either."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path
from typing import Any
from urllib.parse import quote

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from tests.unit.test_handoff_openapi import load_spec
from voicebot.config import Settings
from voicebot.gateway import Gateway
from voicebot.store.calls import TURN_FIELDS, CallRecord, TurnRecord, utc_now
from voicebot.web.app import api_auth, get_call, list_calls
from voicebot.web.keys import GATEWAY

TOKEN = "calls-api-token-for-the-openapi-test"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
# a SIP Call-ID may hold `/`, `?` and `@`; a Twilio callSid is plain
SIP_CALL_ID = "a84b4c76e66710/x?y@pc33.atlanta.com"


def schema_properties(name: str) -> set[str]:
    schemas = load_spec()["components"]["schemas"]
    schema = schemas[name]
    props: set[str] = set()
    for part in schema.get("allOf", [schema]):
        if "$ref" in part:
            props |= schema_properties(part["$ref"].rsplit("/", 1)[-1])
        props |= set(part.get("properties", {}))
    return props


def test_the_call_schemas_name_every_field_of_the_record() -> None:
    record = {f.name for f in dataclasses.fields(CallRecord)}
    assert "platform_call_id" in schema_properties("CallSummary")
    assert schema_properties("CallSummary") == record - {"turns"}
    assert schema_properties("Call") == record
    assert (
        schema_properties("Turn")
        == set(TURN_FIELDS)
        == {f.name for f in dataclasses.fields(TurnRecord)}
    )


def test_the_lookup_by_platform_id_is_documented() -> None:
    get = load_spec()["paths"]["/api/calls/{call_id}"]["get"]
    assert "platform" in get["summary"] and "platform_call_id" in get["description"]
    assert "404" in get["responses"] and "401" in get["responses"]


def test_the_api_serves_what_the_spec_says_by_our_id_and_by_the_platform_id(
    tmp_path: Path,
) -> None:
    async def main() -> None:
        gateway = Gateway(Settings(data_dir=tmp_path, api_token=TOKEN))
        app = web.Application(middlewares=[api_auth])
        app[GATEWAY] = gateway
        app.router.add_get("/api/calls", list_calls)
        app.router.add_get("/api/calls/{call_id}", get_call)
        await gateway.store.open()
        store = gateway.store
        for n, started in enumerate(["2026-01-01T10:00:00.000Z", utc_now()]):
            call = CallRecord(f"sip-{n}", "sip", "de", started, platform_call_id=SIP_CALL_ID)
            await store.start_call(call)
        try:
            async with TestClient(TestServer(app)) as client:
                await check(client)
        finally:
            await store.close()

    async def check(client: TestClient[web.Request, web.Application]) -> None:
        async def get(path: str, auth: bool = True) -> tuple[int, Any]:
            async with client.get(path, headers=AUTH if auth else {}) as resp:
                return resp.status, await resp.json()

        assert (await get("/api/calls/sip-0", auth=False))[0] == 401
        assert (await get(f"/api/calls/{quote(SIP_CALL_ID, safe='')}", auth=False))[0] == 401
        status, by_ours = await get("/api/calls/sip-0")
        assert status == 200 and by_ours["platform_call_id"] == SIP_CALL_ID
        assert set(by_ours) == schema_properties("Call")
        status, by_platform = await get(f"/api/calls/{quote(SIP_CALL_ID, safe='')}")
        assert status == 200 and by_platform["call_id"] == "sip-1"  # the latest of the two
        assert (await get("/api/calls/no-such-call"))[0] == 404
        status, listed = await get("/api/calls")
        assert status == 200 and len(listed) == 2
        for summary in listed:
            assert set(summary) == schema_properties("CallSummary")

    asyncio.run(main())
