"""Hostile media streams against the real stack (issue 12): afterwards a normal call is still
answered, with its record, by voice; a stream without credentials never gets past the handshake.
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.error
import urllib.request
from typing import Any

import aiohttp
import pytest

from tests.support import FIXTURES, Stack, clip, turns, voiced_seconds
from voicebot.caller import load_caller_audio, media_headers, place_call
from voicebot.protocol.media import twilio

pytestmark = pytest.mark.integration


def api(stack: Stack, path: str) -> Any:
    request = urllib.request.Request(
        stack.http_url + path, headers={"Authorization": f"Bearer {stack.token}"}
    )
    with urllib.request.urlopen(request, timeout=10) as resp:
        return json.loads(resp.read())


def metrics(stack: Stack) -> dict[str, int]:
    try:
        with urllib.request.urlopen(stack.http_url + "/health", timeout=10) as resp:
            body = json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        body = json.loads(exc.read())
    return dict(body.get("metrics", {}))


async def until_closed(ws: aiohttp.ClientWebSocketResponse, timeout: float = 30) -> int | None:  # type: ignore[type-arg]
    """Reads until the gateway closes the socket; its close code."""
    while True:
        msg = await asyncio.wait_for(ws.receive(), timeout)
        if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
            return ws.close_code


async def send_and_close_code(url: str, *frames: str) -> int | None:
    async with (
        aiohttp.ClientSession() as http,
        http.ws_connect(url, headers=media_headers(), max_msg_size=0) as ws,
    ):
        for frame in frames:
            await ws.send_str(frame)
        return await until_closed(ws)


async def idle_sockets(url: str, count: int) -> list[int | None]:
    """`count` authenticated sockets that never send `start`: how each was closed."""
    async with aiohttp.ClientSession() as http:
        sockets = await asyncio.gather(
            *(http.ws_connect(url, headers=media_headers()) for _ in range(count))
        )
        return list(await asyncio.gather(*(until_closed(ws, 60) for ws in sockets)))


async def too_fast(url: str) -> int | None:
    """Ten seconds of audio sent in about one: ten times real time."""
    frames = [
        twilio.media_in_message("MZfast", i, i * 20, b"\xff" * twilio.FRAME_BYTES)
        for i in range(1, 501)
    ]
    async with (
        aiohttp.ClientSession() as http,
        http.ws_connect(url, headers=media_headers()) as ws,
    ):
        await ws.send_str(twilio.start_message("MZfast", "CAfast"))
        for n, frame in enumerate(frames):
            if ws.closed:
                break
            try:
                await ws.send_str(frame)
            except (ConnectionError, aiohttp.ClientError):
                break  # the gateway closed the stream
            if n % 10 == 9:
                await asyncio.sleep(0.02)  # 200 ms of audio per 20 ms
        return await until_closed(ws)


def test_hostile_streams_then_a_normal_call_is_answered_by_voice(
    stack: Stack, manifest: list[dict[str, Any]]
) -> None:
    url = stack.media_url
    question = load_caller_audio(FIXTURES / clip(manifest, "ask_opening_hours")["file"])
    before = metrics(stack)

    async def hostile() -> dict[str, Any]:
        seen: dict[str, Any] = {}
        seen["surrogate"] = await send_and_close_code(url, twilio.start_message("MZs", "\ud800"))
        seen["nul"] = await send_and_close_code(url, twilio.start_message("MZn", "CA\x00n"))
        seen["huge"] = await send_and_close_code(
            url, twilio.start_message("MZh", "CAhuge"), "x" * (1 << 20)
        )
        started = time.monotonic()
        seen["idle"] = await idle_sockets(url, 40)
        seen["idle_s"] = time.monotonic() - started
        seen["fast"] = await too_fast(url)
        # the same callSid twice: two conversations, two records
        seen["reused"] = [
            await place_call(
                url, [], api_token=stack.token, call_sid="CAreused", wait_for_greeting=False
            )
            for _ in range(2)
        ]
        return seen

    seen = asyncio.run(hostile())
    assert seen["surrogate"] == 1008 and seen["nul"] == 1008
    assert seen["huge"] == 1009
    # idle sockets: refused at once beyond max_calls, the rest closed by the start timeout
    assert set(seen["idle"]) <= {1013, 1008} and seen["idle"].count(1013) >= 30
    assert seen["fast"] == 1008
    first, second = seen["reused"]
    assert first.call_sid != second.call_sid and "CAreused" not in (first.call_sid, second.call_sid)
    assert first.record and second.record
    assert first.record["platform_call_id"] == second.record["platform_call_id"] == "CAreused"
    assert api(stack, f"/api/calls/{first.call_sid}")["started_at"] == first.record["started_at"]
    after = metrics(stack)
    # only the calls that sent a valid start were started (huge, fast, the two reused)
    assert after.get("calls_started", 0) - before.get("calls_started", 0) == 4

    good = asyncio.run(place_call(url, [question], api_token=stack.token))
    assert good.record and good.record["ended_at"]
    assert turns(good, "caller") and turns(good, "bot")
    assert voiced_seconds(good.bot_audio_between(good.speech_spans[0][1])) > 1.0


def test_a_stream_without_credentials_is_refused_at_the_handshake(stack: Stack) -> None:
    async def connect(headers: dict[str, str]) -> int:
        async with aiohttp.ClientSession() as http:
            try:
                ws = await http.ws_connect(stack.media_url, headers=headers)
            except aiohttp.WSServerHandshakeError as exc:
                return exc.status
            await ws.close()
            return 101

    assert asyncio.run(connect({})) == 401
    assert asyncio.run(connect({"Authorization": "Bearer wrong"})) == 401
    assert asyncio.run(connect({"Authorization": "Bearer tökén"})) == 401
    assert asyncio.run(connect(media_headers())) == 101
