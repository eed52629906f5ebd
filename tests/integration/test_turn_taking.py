"""Barge-in, the filler prompt, a silent caller and overload, against real Rasa and models.

A second gateway runs beside the session's stack: it talks to the same Rasa through a small
proxy that can slow the webhook down, it takes at most two calls, and it reprompts a silent
caller after NO_INPUT_S seconds, once.
"""

from __future__ import annotations

import asyncio
import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import numpy as np
import pytest
from aiohttp import web

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
from voicebot.caller import CallResult, load_caller_audio, media_headers, place_call

pytestmark = pytest.mark.integration
NO_INPUT_S = 4


class SlowRasaProxy:
    """Forwards to the real Rasa; the webhook answer can be held back for `delay_s`."""

    def __init__(self, target: str) -> None:
        self.target = target.rstrip("/")
        self.delay_s = 0.0
        self.port = free_port()
        self._loop = asyncio.new_event_loop()
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    async def _forward(self, request: web.Request) -> web.Response:
        body = await request.read()
        async with (
            aiohttp.ClientSession() as http,
            http.request(
                request.method,
                self.target + request.path_qs,
                data=body,
                headers={"Content-Type": request.headers.get("Content-Type", "application/json")},
            ) as resp,
        ):
            payload = await resp.read()
            status = resp.status
        if request.path == "/webhooks/rest/webhook":
            await asyncio.sleep(self.delay_s)
        return web.Response(body=payload, status=status, content_type="application/json")

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._forward)
        runner = web.AppRunner(app)
        self._loop.run_until_complete(runner.setup())
        self._loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", self.port).start())
        self._started.set()
        self._loop.run_forever()

    def start(self) -> str:
        self._thread.start()
        self._started.wait(10)
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)


@dataclass
class SecondGateway:
    media_url: str
    token: str
    http_url: str
    proxy: SlowRasaProxy


@pytest.fixture(scope="module")
def gateway(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecondGateway]:
    proxy = SlowRasaProxy(stack.env["VOICEBOT_RASA_URL"])
    proxy_url = proxy.start()
    data_dir = tmp_path_factory.mktemp("gw2")
    env = stack_env(
        data_dir,
        VOICEBOT_RASA_URL=proxy_url,
        VOICEBOT_RASA_ACTIONS_URL=stack.env["VOICEBOT_RASA_ACTIONS_URL"],
        VOICEBOT_MAX_CALLS="2",
        VOICEBOT_NO_INPUT_S=str(NO_INPUT_S),  # shorter than the default 10 s: faster tests
        VOICEBOT_NO_INPUT_REPROMPTS="1",
    )
    env["VOICEBOT_RASA_TOKEN"] = stack.env.get("VOICEBOT_RASA_TOKEN", "voicebot-local-rasa-token")
    try:
        with running_gateway(data_dir, env) as http_url:
            port = env["VOICEBOT_PORT"]
            yield SecondGateway(
                f"ws://127.0.0.1:{port}/media/twilio", env["VOICEBOT_API_TOKEN"], http_url, proxy
            )
    finally:
        proxy.stop()


def _call(gw: SecondGateway, audio: list[np.ndarray], **kwargs: Any) -> CallResult:
    return asyncio.run(place_call(gw.media_url, audio, api_token=gw.token, **kwargs))


def held_until(result: CallResult) -> float:
    """When the greeting's uninterruptible sentences (the AI disclosure) had all been sent."""
    (at,) = [t for t, name in result.marks if name == "turn-1-held"]
    return at


def first_bot_audio(result: CallResult) -> float:
    """When the bot's first audio reached the caller (seconds on the caller's time line)."""
    return float(np.flatnonzero(np.abs(result.bot_audio) > 200)[0]) / 8000


def test_caller_talking_over_the_greeting_hears_the_disclosure_then_it_stops_and_is_answered(
    gateway: SecondGateway, manifest: list[dict[str, Any]]
) -> None:
    """The greeting's disclosure cannot be talked away (EU AI Act Art. 50); the question after
    it can: it stops right after the disclosure, and the caller is answered."""
    question = load_caller_audio(FIXTURES / clip(manifest, "ask_opening_hours")["file"])
    result = _call(gateway, [question], wait_for_greeting=False, lead_silence_s=2.0)
    assert result.clears, "no clear was sent to the far end"
    bot = turns(result, "bot")
    assert bot[0]["interrupted"] is True and "Intelligenz" in bot[0]["text"]
    caller = turns(result, "caller")
    assert caller and caller[0]["intent"] == "ask_opening_hours"
    assert any("Uhr" in t["text"] for t in bot if t["seq"] > caller[0]["seq"])
    # the caller spoke during the disclosure; the greeting stopped right after it, not later
    # (the answer may follow at once: the question was heard while the disclosure played)
    spoke, held = result.speech_spans[0][0], held_until(result)
    assert spoke < held <= result.clears[0] < held + 0.5


@pytest.fixture(scope="module")
def quiet_disclosure(gateway: SecondGateway) -> tuple[float, float]:
    """The disclosure as a caller who says nothing hears it: how long it lasts from the first
    bot audio to its end (the mark turn-1-held), and how much of that is voiced."""
    result = _call(gateway, [], answer_timeout=30)
    began, held = first_bot_audio(result), held_until(result)
    return held - began, voiced_seconds(result.bot_audio_between(began, held))


@pytest.mark.parametrize("into_s", [0.3, 1.0, 2.0])
def test_the_disclosure_is_heard_in_full_however_early_the_caller_talks(
    gateway: SecondGateway,
    manifest: list[dict[str, Any]],
    quiet_disclosure: tuple[float, float],
    into_s: float,
) -> None:
    """Caller audio from 0.3, 1 or 2 s after the call starts (the greeting starts at once): the
    first bot turn the caller hears plays its disclosure to the end, as long and as voiced as
    for a silent caller, then the caller is answered."""
    question = load_caller_audio(FIXTURES / clip(manifest, "ask_opening_hours")["file"])
    result = _call(gateway, [question], wait_for_greeting=False, lead_silence_s=into_s)
    greeting = turns(result, "bot")[0]
    assert "Ich bin eine künstliche Intelligenz." in greeting["text"], greeting
    began, held = first_bot_audio(result), held_until(result)
    assert result.speech_spans[0][0] < held, "the caller did not talk over the disclosure"
    # nothing cut the disclosure: no clear before its end, all of it played
    assert not result.clears or result.clears[0] >= held
    length, voiced = quiet_disclosure
    assert abs((held - began) - length) < 0.5, (held - began, length)
    assert voiced_seconds(result.bot_audio_between(began, held)) > voiced - 0.3
    (asked,) = turns(result, "caller")
    assert asked["intent"] == "ask_opening_hours", asked
    assert any("Uhr" in t["text"] for t in turns(result, "bot") if t["seq"] > asked["seq"])


def test_a_cough_length_sound_does_not_stop_playback(
    gateway: SecondGateway, manifest: list[dict[str, Any]]
) -> None:
    speech = load_caller_audio(FIXTURES / clip(manifest, "ask_opening_hours")["file"])
    loud = np.flatnonzero(np.abs(speech.astype(np.int32)) > 2000)
    burst = speech[loud[0] : loud[0] + 1200]  # 150 ms of real speech, like a short "mhm"
    # long enough to hear the whole greeting (its disclosure alone lasts about 10 s)
    result = _call(gateway, [burst], wait_for_greeting=False, lead_silence_s=2.0, answer_timeout=14)
    assert not result.clears
    bot = turns(result, "bot")
    assert bot[0]["interrupted"] is False
    assert not turns(result, "caller"), "a cough became a caller turn"


def test_filler_plays_only_when_rasa_is_slow(
    gateway: SecondGateway, manifest: list[dict[str, Any]]
) -> None:
    question = load_caller_audio(FIXTURES / clip(manifest, "ask_opening_hours")["file"])
    gateway.proxy.delay_s = 0.0
    fast = _call(gateway, [question])
    assert not [t for t in turns(fast, "bot") if t["text"] == "Einen Moment bitte."]
    gateway.proxy.delay_s = 2.5
    try:
        slow = _call(gateway, [question])
    finally:
        gateway.proxy.delay_s = 0.0
    texts = [t["text"] for t in turns(slow, "bot")]
    fillers = [i for i, text in enumerate(texts) if text == "Einen Moment bitte."]
    assert fillers, texts
    assert all(texts[i + 1] != "Einen Moment bitte." for i in fillers if i + 1 < len(texts))
    assert any("Uhr" in text for text in texts[fillers[-1] + 1 :]), texts


def test_overload_refuses_the_extra_call_and_spares_the_others(
    gateway: SecondGateway, manifest: list[dict[str, Any]]
) -> None:
    question = load_caller_audio(FIXTURES / clip(manifest, "ask_opening_hours")["file"])

    async def scenario() -> tuple[list[CallResult], tuple[int | None, str]]:
        calls = [
            asyncio.create_task(place_call(gateway.media_url, [question], api_token=gateway.token))
            for _ in range(2)
        ]
        await asyncio.sleep(1.5)  # both are talking
        async with (
            aiohttp.ClientSession() as http,
            http.ws_connect(gateway.media_url, headers=media_headers()) as ws,
        ):
            msg = await asyncio.wait_for(ws.receive(), 10)
            refused = (ws.close_code, str(msg.extra or ""))
        return list(await asyncio.gather(*calls)), refused

    results, (code, reason) = asyncio.run(scenario())
    assert code == 1013 and "maximum" in reason
    for result in results:
        assert turns(result, "caller")[0]["intent"] == "ask_opening_hours"
        assert voiced_seconds(result.bot_audio_between(result.speech_spans[0][1])) > 1.0
    with urllib.request.urlopen(f"{gateway.http_url}/health") as resp:
        assert json.loads(resp.read())["metrics"]["calls_refused"] >= 1


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * 8000), dtype=np.int16)


def test_a_silent_caller_is_asked_again_and_then_answered(
    gateway: SecondGateway, manifest: list[dict[str, Any]]
) -> None:
    question = load_caller_audio(FIXTURES / clip(manifest, "ask_opening_hours")["file"])
    # the caller says nothing for longer than NO_INPUT_S, then asks after the reprompt
    result = _call(gateway, [silence(NO_INPUT_S + 2), question], answer_timeout=30)
    greeting, reprompt, *answer = [t["text"] for t in turns(result, "bot")]
    assert reprompt.startswith("Sind Sie noch da?"), reprompt
    assert reprompt.endswith(greeting.rsplit(". ", 1)[-1]), (greeting, reprompt)  # the question
    (asked,) = turns(result, "caller")
    assert asked["intent"] == "ask_opening_hours", asked
    assert any("Uhr" in text for text in answer), answer
    assert result.record is not None and result.record["end_reason"] == "hangup"


def test_a_caller_who_stays_silent_hears_goodbye_and_the_call_ends(
    gateway: SecondGateway,
) -> None:
    result = _call(gateway, [silence(60)], answer_timeout=5)
    texts = [t["text"] for t in turns(result, "bot")]
    assert len(texts) == 3 and texts[1].startswith("Sind Sie noch da?"), texts
    assert "Auf Wiederhören" in texts[2], texts
    assert not turns(result, "caller")
    # the bot ended the call long before the caller's minute of silence was over
    assert result.close_reason == "no_input", result.close_reason
    ((began, stopped),) = result.speech_spans
    assert stopped - began < 50, "the caller's silence was not cut short by the bot"
    assert result.record is not None and result.record["end_reason"] == "no_input"
    assert voiced_seconds(result.bot_audio_between(result.marks[1][0])) > 1.0, "no goodbye"
