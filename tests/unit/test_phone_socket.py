"""The test phone's WebSocket (/agent/phone/ws) on an aiohttp test server: real handler, real
`CallLifecycle` and SQLite store, the pipeline's fakes for ASR, Rasa and TTS; the console
session is put on the request by a stand-in for the login middleware.

Bad input closes the socket with a clear code and the call's record is closed: PCM with an odd
byte count, text that is no JSON or no known message, a bad key, a frame over the size bound,
audio faster than real time. Only trainers get in, only from the same origin, and only while a
call slot is free. A good call gets its id, the bot's audio, its turns, and ends on "hangup".
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from tests.unit.pipeline_fakes import until
from tests.unit.test_lifecycle import lifecycle, run
from voicebot.config import ConsoleSettings
from voicebot.lifecycle import CallLifecycle
from voicebot.store.calls import CallStore
from voicebot.store.sessions import AgentSession
from voicebot.web import agent_auth as auth
from voicebot.web.keys import GATEWAY
from voicebot.web.phone import add_phone

Client = TestClient  # type: ignore[type-arg]
FRAME = b"\x10\x00" * 160  # 20 ms of 8 kHz PCM16


@asynccontextmanager
async def phone(calls: CallLifecycle) -> AsyncIterator[Client]:
    """A test server with the phone's routes; header X-User names the logged-in user."""
    console = ConsoleSettings(agents={"anna": "x"}, trainers={"tina": "x"})
    gateway = SimpleNamespace(settings=dataclasses.replace(calls.settings, console=console))
    gateway.calls = calls

    @web.middleware
    async def logged_in(request: web.Request, handler: Any) -> web.StreamResponse:
        if "X-User" in request.headers:
            request[auth.SESSION] = AgentSession(request.headers["X-User"], "c", "2099")
        return await handler(request)  # type: ignore[no-any-return]

    app = web.Application(middlewares=[logged_in])
    app[GATEWAY] = gateway  # type: ignore[misc]
    add_phone(app)
    async with TestClient(TestServer(app)) as client:
        yield client


async def call_id_of(ws: aiohttp.ClientWebSocketResponse) -> str:  # type: ignore[type-arg]
    """Reads up to the `call` message."""
    while True:
        msg = await asyncio.wait_for(ws.receive(), 10)
        if msg.type == aiohttp.WSMsgType.TEXT and json.loads(msg.data)["type"] == "call":
            return str(json.loads(msg.data)["call_id"])


async def until_closed(ws: aiohttp.ClientWebSocketResponse) -> tuple[int | None, list[Any]]:  # type: ignore[type-arg]
    """Reads until the server closes; the close code and the JSON messages on the way."""
    seen: list[Any] = []
    while True:
        msg = await asyncio.wait_for(ws.receive(), 10)
        if msg.type == aiohttp.WSMsgType.TEXT:
            seen.append(json.loads(msg.data))
        if msg.type == aiohttp.WSMsgType.CLOSE:
            return int(msg.data), seen  # the server's code (ws.close_code may say 1006 after)
        if msg.type == aiohttp.WSMsgType.CLOSED:
            return ws.close_code, seen


async def end_reason(store: CallStore, call_id: str) -> str | None:
    found = await store.get_call(call_id)
    return None if found is None else found.end_reason


Send = Callable[[aiohttp.ClientWebSocketResponse], Awaitable[None]]  # type: ignore[type-arg]


async def _odd(ws: aiohttp.ClientWebSocketResponse) -> None:  # type: ignore[type-arg]
    await ws.send_bytes(b"\x00\x01\x02")


async def _not_json(ws: aiohttp.ClientWebSocketResponse) -> None:  # type: ignore[type-arg]
    await ws.send_str("{nope")


async def _unknown(ws: aiohttp.ClientWebSocketResponse) -> None:  # type: ignore[type-arg]
    await ws.send_str(json.dumps({"type": "reboot"}))


async def _bad_key(ws: aiohttp.ClientWebSocketResponse) -> None:  # type: ignore[type-arg]
    await ws.send_str(json.dumps({"type": "dtmf", "digit": "12"}))


async def _too_fast(ws: aiohttp.ClientWebSocketResponse) -> None:  # type: ignore[type-arg]
    for _ in range(200):  # 4 s of audio at once; the burst allowance is 2 s
        await ws.send_bytes(FRAME)


async def _too_big(ws: aiohttp.ClientWebSocketResponse) -> None:  # type: ignore[type-arg]
    await ws.send_bytes(b"\x00" * (64 * 1024 + 2))


@pytest.mark.parametrize(
    ("attack", "code"),
    [(_odd, 1008), (_not_json, 1008), (_unknown, 1008), (_bad_key, 1008), (_too_fast, 1008)]
    + [(_too_big, 1009)],
)
def test_bad_input_closes_the_call_with_a_clear_code(
    tmp_path: Path, attack: Send, code: int
) -> None:
    async def scenario() -> None:
        async with lifecycle(tmp_path) as (calls, store), phone(calls) as client:
            ws = await client.ws_connect("/agent/phone/ws", headers={"X-User": "tina"})
            call_id = await call_id_of(ws)
            await attack(ws)
            closed, _ = await until_closed(ws)
            assert closed == code
            await until(lambda: len(calls) == 0)  # aiohttp may close before the handler ends
            assert await end_reason(store, call_id) == "protocol_error"

    run(scenario)


def test_a_call_from_the_browser(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with lifecycle(tmp_path) as (calls, store), phone(calls) as client:
            ws = await client.ws_connect("/agent/phone/ws", headers={"X-User": "tina"})
            call_id = await call_id_of(ws)
            assert call_id.startswith("browser-")
            audio = 0
            turns: list[Any] = []
            while not turns:  # the greeting: audio frames, then its turn
                msg = await asyncio.wait_for(ws.receive(), 10)
                if msg.type == aiohttp.WSMsgType.BINARY:
                    assert len(msg.data) == 320  # 20 ms at 8 kHz, PCM16
                    audio += 1
                elif json.loads(msg.data)["type"] == "turn":
                    turns.append(json.loads(msg.data))
            assert audio > 0 and turns[0]["speaker"] == "bot" and turns[0]["text"]
            await ws.send_str(json.dumps({"type": "dtmf", "digit": "5"}))
            await ws.send_bytes(FRAME)
            await ws.send_str(json.dumps({"type": "hangup"}))
            closed, seen = await until_closed(ws)
            assert closed == 1000
            assert {"type": "ended", "reason": "hangup"} in seen
            record = await store.get_call(call_id)
            assert record is not None and record.transport == "browser"
            assert record.end_reason == "hangup"

    run(scenario)


def test_only_trainers_from_the_same_origin_while_a_slot_is_free(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with lifecycle(tmp_path, max_calls=1) as (calls, _), phone(calls) as client:
            for headers, status in (
                ({}, 403),
                ({"X-User": "anna"}, 403),
                ({"X-User": "tina", "Origin": "https://evil.example"}, 403),
            ):
                with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                    await client.ws_connect("/agent/phone/ws", headers=headers)
                assert refused.value.status == status
            first = await client.ws_connect("/agent/phone/ws", headers={"X-User": "tina"})
            await call_id_of(first)
            second = await client.ws_connect("/agent/phone/ws", headers={"X-User": "tina"})
            closed, _ = await until_closed(second)
            assert closed == 1013, "no slot free: try again later"
            await first.close()
            page = await client.get("/phone", allow_redirects=False)
            assert page.status == 303 and page.headers["Location"] == "/agent/phone"

    run(scenario)
