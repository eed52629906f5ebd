"""The call side of a handoff when it cannot transfer: a refused transfer hook, and a call
outside the service hours (which becomes a callback request)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import soundfile as sf

from tests.support import FIXTURES, ROOT, Stack, free_port, stack_env, turns, voiced_seconds
from voicebot.caller import place_call

pytestmark = pytest.mark.integration
DAYS = ["Mo", "Di", "Mi", "Do", "Fr", "Sa", "So"]


def api_get(base: str, token: str, path: str) -> Any:
    request = urllib.request.Request(base + path)
    request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=10) as resp:
        return json.loads(resp.read())


def handoff_of(base: str, token: str, call_id: str) -> dict[str, Any]:
    for item in api_get(base, token, "/api/handoffs?limit=500"):
        if item["call_id"] == call_id:
            return dict(api_get(base, token, f"/api/handoffs/{item['handoff_id']}"))
    raise AssertionError(f"no handoff for {call_id}")


def test_refused_transfer_is_told_to_the_caller_and_shown_as_failed(stack: Stack) -> None:
    assert stack.hooks is not None
    stack.hooks.fail_next["/transfer"] = 2  # the platform refuses both attempts
    result = asyncio.run(
        place_call(
            stack.media_url,
            [],
            api_token=stack.token,
            dtmf="0",
            caller="+4921477099",
            answer_timeout=60,
            quiet_after_answer=4.0,
        )
    )
    assert result.close_code == 1000 and result.close_reason == "transfer_failed"
    assert result.record and result.record["end_reason"] == "transfer_failed"
    bot = [t["text"] for t in turns(result, "bot")]
    assert "Vorgangsnummer" in bot[-2] and "nicht möglich" in bot[-1]
    handoff = handoff_of(stack.http_url, stack.token, result.call_sid)
    assert handoff["status"] == "transfer_failed" and handoff["kind"] == "transfer"


def closed_now() -> str:
    """Service hours that are certainly closed now: one minute on a day three days away."""
    day = (datetime.now(ZoneInfo("Europe/Berlin")) + timedelta(days=3)).weekday()
    return f"{DAYS[day]} 03:00-03:01"


@contextlib.contextmanager
def serving(env: dict[str, str], rasa_up: bool) -> Iterator[dict[str, str]]:
    """A second gateway (`voicebot serve`) with the given environment, once its models load."""
    data_dir = Path(env["VOICEBOT_DATA_DIR"])
    with open(data_dir / "gateway.log", "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "voicebot", "serve"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{env['VOICEBOT_PORT']}"
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            assert proc.poll() is None, (data_dir / "gateway.log").read_text()
            try:
                urllib.request.urlopen(base + "/health", timeout=3)
                if rasa_up:
                    break
            except urllib.error.HTTPError as exc:  # 503 while Rasa is down: wait for the models
                state = json.loads(exc.read())["components"]["models"]["state"]
                if not rasa_up and state == "ready":
                    break
            except (urllib.error.URLError, ConnectionError):
                pass
            time.sleep(0.5)
        else:
            pytest.fail("the gateway never became ready: " + (data_dir / "gateway.log").read_text())
        yield env
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.fixture(scope="module")
def closed_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A gateway outside its service hours whose Rasa is down (every call is a fault)."""
    env = stack_env(
        tmp_path_factory.mktemp("closed"),
        VOICEBOT_RASA_URL=f"http://127.0.0.1:{free_port()}",
        VOICEBOT_HANDOFF_SERVICE_HOURS=closed_now(),
    )
    with serving(env, rasa_up=False):
        yield env


@pytest.fixture(scope="module")
def after_hours_gateway(
    stack: Stack, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, str]]:
    """A gateway outside its service hours that talks to the session stack's Rasa."""
    env = stack_env(
        tmp_path_factory.mktemp("after-hours"),
        VOICEBOT_RASA_URL=stack.env["VOICEBOT_RASA_URL"],
        VOICEBOT_RASA_ACTIONS_URL=stack.env["VOICEBOT_RASA_ACTIONS_URL"],
        VOICEBOT_RASA_TOKEN=stack.env["VOICEBOT_RASA_TOKEN"],  # the session Rasa's own token
        VOICEBOT_HANDOFF_SERVICE_HOURS=closed_now(),
    )
    with serving(env, rasa_up=True):
        yield env


def test_outside_service_hours_a_callback_request_is_stored(
    closed_gateway: dict[str, str],
) -> None:
    env = closed_gateway
    base = f"http://127.0.0.1:{env['VOICEBOT_PORT']}"
    result = asyncio.run(
        place_call(
            f"ws://127.0.0.1:{env['VOICEBOT_PORT']}/media/twilio",
            [],
            api_token=env["VOICEBOT_API_TOKEN"],
            caller="+4921477123",
            answer_timeout=60,  # apology, callback notice and the spelt id: one long answer
        )
    )
    assert result.close_code == 1000 and result.close_reason == "callback"
    record = result.record
    assert record is not None and record["end_reason"] == "callback"
    assert record["handoff_reason"] == "dialogue_failed"
    said = turns(result, "bot")[-1]["text"]
    assert "niemand erreichbar" in said and "Rückrufwunsch" in said
    assert voiced_seconds(result.bot_audio) > 8.0, "the apology and the callback notice played"
    handoff = handoff_of(base, env["VOICEBOT_API_TOKEN"], result.call_sid)
    assert " ".join(handoff["handoff_id"]) in said
    assert handoff["kind"] == "callback" and handoff["status"] == "open"
    assert handoff["callback_number"] == "+4921477123" and handoff["target"] is None
    assert handoff["reason"] == "dialogue_failed" and handoff["department"] == "buergerbuero"
    assert handoff["topic"] and handoff["transcript"], "topic and transcript reference"


def test_after_hours_the_caller_is_offered_a_callback_and_gives_the_topic(
    after_hours_gateway: dict[str, str],
) -> None:
    """By voice: a person, please -> callback offer -> yes -> own number? yes -> topic."""
    env = after_hours_gateway
    base = f"http://127.0.0.1:{env['VOICEBOT_PORT']}"
    clips = ["mitarbeiter_bitte.wav", "ja_gerne.wav", "ja_gerne.wav", "thema_ausweis.wav"]
    result = asyncio.run(
        place_call(
            f"ws://127.0.0.1:{env['VOICEBOT_PORT']}/media/twilio",
            [sf.read(FIXTURES / name, dtype="int16")[0] for name in clips],
            api_token=env["VOICEBOT_API_TOKEN"],
            caller="+4921477123",
            answer_timeout=60,
        )
    )
    bot = [t["text"] for t in turns(result, "bot")]
    assert result.close_reason == "callback", bot
    assert result.record is not None and result.record["end_reason"] == "callback"
    assert result.record["handoff_reason"] == "callback_request"
    # the offer names the service hours, the bot asks for the number and the topic,
    # reads the number back and gives the reference number
    offer = next(t for t in bot if "niemand erreichbar" in t)
    assert "Rückruf" in offer and "für Sie da" in offer, "the offer names the service hours"
    assert any("von der Sie gerade anrufen" in t for t in bot), bot
    assert any("Worum geht es" in t for t in bot), bot
    assert any("0 2 1 4 7 7 1 2 3" in t for t in bot), bot
    assert not any("Ich verbinde Sie" in t for t in bot), "no transfer is promised"
    handoff = handoff_of(base, env["VOICEBOT_API_TOKEN"], result.call_sid)
    assert "Rückrufwunsch ist gespeichert" in bot[-1]
    assert " ".join(handoff["handoff_id"]) in bot[-1]
    assert handoff["kind"] == "callback" and handoff["status"] == "open"
    assert handoff["callback_number"] == "+4921477123" and handoff["target"] is None
    heard_topic = [t["text"] for t in turns(result, "caller")][-1]
    assert handoff["topic"] == heard_topic and handoff["slots"]["callback_topic"] == heard_topic
