"""The call side of a handoff when it cannot transfer: a refused transfer hook, and a call
outside the service hours (which becomes a callback request)."""

from __future__ import annotations

import asyncio
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

from tests.support import ROOT, Stack, free_port, stack_env, turns, voiced_seconds
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


@pytest.fixture(scope="module")
def closed_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A gateway outside its service hours whose Rasa is down (every call is a fault)."""
    data_dir: Path = tmp_path_factory.mktemp("closed")
    env = stack_env(
        data_dir,
        VOICEBOT_RASA_URL=f"http://127.0.0.1:{free_port()}",
        VOICEBOT_HANDOFF_SERVICE_HOURS=closed_now(),
    )
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
            except urllib.error.HTTPError as exc:  # 503 while Rasa is down: wait for the models
                if json.loads(exc.read())["components"]["models"]["state"] == "ready":
                    break
            except (urllib.error.URLError, ConnectionError):
                pass
            time.sleep(0.5)
        else:
            pytest.fail("the gateway never loaded its models")
        yield env
    finally:
        proc.terminate()
        proc.wait(timeout=30)


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
