"""Bad input and dead dependencies: a clear close or an apology, never a crash or dead air."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.support import (
    FIXTURES,
    Stack,
    clip,
    free_port,
    running_gateway,
    stack_env,
    turns,
    voiced_seconds,
)
from voicebot.caller import load_caller_audio, media_headers, place_call
from voicebot.protocol.media import twilio

pytestmark = pytest.mark.integration

START = json.loads(twilio.start_message("MZbad", "CAbad-{n}"))


def _start(n: str, **media_format: Any) -> str:
    msg = json.loads(json.dumps(START).replace("{n}", n))
    msg["start"]["mediaFormat"].update(media_format)
    return json.dumps(msg)


MALFORMED = {
    "broken_json": ([], "{not json", 1007),
    "unknown_event": ([], '{"event": "dance", "streamSid": "MZbad"}', 1008),
    "media_before_start": ([], twilio.media_in_message("MZbad", 1, 20, b"\xff" * 160), 1008),
    "bad_base64": (
        ["start"],
        '{"event": "media", "streamSid": "MZbad", "media": {"track": "inbound", "chunk": "1",'
        ' "timestamp": "20", "payload": "@@not base64@@"}}',
        1007,
    ),
    "not_ulaw_8k": ([], _start("fmt", encoding="audio/x-l16", sampleRate=16000), 1003),
}


async def _send_malformed(url: str, name: str) -> tuple[int | None, str]:
    before, bad, _ = MALFORMED[name]
    async with aiohttp.ClientSession() as http, http.ws_connect(url, headers=media_headers()) as ws:
        await ws.send_str(twilio.connected_message())
        if before:
            await ws.send_str(_start(name))
        await ws.send_str(bad)
        reason = ""
        while True:
            msg = await asyncio.wait_for(ws.receive(), 20)
            if msg.type == aiohttp.WSMsgType.CLOSE:
                reason = str(msg.extra or "")
            if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
                break
        return ws.close_code, reason


def test_malformed_messages_close_only_their_connection(
    stack: Stack, manifest: list[dict[str, Any]]
) -> None:
    human = clip(manifest, "request_human", "mitarbeiter_bitte.wav")

    async def scenario() -> tuple[Any, dict[str, tuple[int | None, str]]]:
        good = asyncio.create_task(
            place_call(
                stack.media_url,
                [load_caller_audio(FIXTURES / human["file"])],
                api_token=stack.token,
            )
        )
        await asyncio.sleep(1.0)  # the good call is under way
        closes = {name: await _send_malformed(stack.media_url, name) for name in MALFORMED}
        return await good, closes

    good, closes = asyncio.run(scenario())
    for name, (_, _, expected) in MALFORMED.items():
        code, reason = closes[name]
        assert code == expected, f"{name}: closed with {code} ({reason}), expected {expected}"
        assert reason, f"{name}: the close frame carries no reason"
    # the parallel call went on undisturbed and got its answer
    assert turns(good, "caller")[0]["intent"] == "request_human"
    assert voiced_seconds(good.bot_audio_between(good.speech_spans[0][1])) > 1.0
    # a call broken by bad input still has a closed record
    status, record = _get_json(f"{stack.http_url}/api/calls/CAbad-bad_base64", stack.token)
    assert status == 200 and record["end_reason"] == "protocol_error" and record["ended_at"]


def _get_json(url: str, token: str) -> tuple[int, dict[str, Any]]:
    """The call record once it is closed (end reason set), or as it stands after 60 s.

    The gateway closes the record before the stream, so the first read normally has it; the
    wait is for the state, polled, never a fixed time."""
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(request, timeout=5) as resp:
                body = json.loads(resp.read())
                if body.get("end_reason") or time.monotonic() > deadline:
                    return resp.status, body
        except urllib.error.HTTPError as exc:
            if time.monotonic() > deadline:
                return exc.code, {}
        time.sleep(0.2)


@pytest.fixture(scope="module")
def gateway_without_rasa(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A gateway alone, its Rasa URL pointing at a port where nothing listens."""
    data_dir: Path = tmp_path_factory.mktemp("norasa")
    env = stack_env(data_dir, VOICEBOT_RASA_URL=f"http://127.0.0.1:{free_port()}")
    with running_gateway(data_dir, env):
        yield env


def test_dead_rasa_apologises_and_hands_off(
    gateway_without_rasa: dict[str, str], manifest: list[dict[str, Any]]
) -> None:
    env = gateway_without_rasa
    url = f"ws://127.0.0.1:{env['VOICEBOT_PORT']}/media/twilio"
    entry = clip(manifest, "ask_opening_hours")
    result = asyncio.run(
        place_call(
            url, [load_caller_audio(FIXTURES / entry["file"])], api_token=env["VOICEBOT_API_TOKEN"]
        )
    )
    record = result.record
    assert record is not None
    bot = turns(result, "bot")
    assert "künstlichen Intelligenz" in bot[0]["text"] and "technisches Problem" in bot[0]["text"]
    assert voiced_seconds(result.bot_audio) > 3.0, "the caller heard the apology, not dead air"
    assert record["end_reason"] == "handoff"
    assert record["handoff_reason"] == "dialogue_failed"
    assert result.close_code == 1000
    status, _ = _health(env)
    assert status == 503


def _health(env: dict[str, str]) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{env['VOICEBOT_PORT']}/health") as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())
