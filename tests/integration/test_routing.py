"""Routing from the catalogue, by voice through the real gateway, Whisper, Rasa and its actions:
a question about the Standesamt, then a request for a person, ends in a handoff to the
Standesamt's transfer target (catalogue: sip:standesamt@pbx.leverkusen.local; the stack's
configured targets name only the Bürgerbüro). Over the media WebSocket the handoff record and
the transfer hook carry it; over SIP the REFER's Refer-To does.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from tests.integration.sip_peers import (
    SIPP,
    RtpCapture,
    api,
    call_ids,
    record_of,
    run_sipp,
    send_caller_rtp,
)
from tests.support import FIXTURES, Stack, turns
from voicebot.caller import place_call

pytestmark = pytest.mark.integration
QUESTION = "standesamt_oeffnungszeiten.wav"  # "Wie sind die Öffnungszeiten vom Standesamt?"
TARGET = "sip:standesamt@pbx.leverkusen.local"  # rasa_project/catalogue/standesamt.yml


def clip(name: str) -> Any:
    return sf.read(FIXTURES / name, dtype="int16")[0]


def handoff_of(stack: Stack, call_id: str) -> dict[str, Any]:
    for item in api(stack, "/api/handoffs?limit=500"):
        if item["call_id"] == call_id:
            return dict(api(stack, f"/api/handoffs/{item['handoff_id']}"))
    raise AssertionError(f"no handoff for {call_id}")


def test_a_standesamt_question_ends_in_a_handoff_to_the_standesamt(stack: Stack) -> None:
    result = asyncio.run(
        place_call(
            stack.media_url,
            [clip(QUESTION), clip("mitarbeiter_bitte.wav")],
            api_token=stack.token,
            caller="+4921477555",
            answer_timeout=60,
        )
    )
    bot = [t["text"] for t in turns(result, "bot")]
    question, person = turns(result, "caller")
    assert question["intent"] == "ask_opening_hours", question
    assert "Standesamt" in question["text"], question
    assert person["intent"] == "request_human", person
    assert any("Ich verbinde Sie mit dem Standesamt." in t for t in bot), bot
    assert result.record is not None and result.record["end_reason"] == "handoff"
    handoff = handoff_of(stack, result.call_sid)
    assert handoff["department"] == "standesamt" and handoff["target"] == TARGET, handoff
    assert handoff["reason"] == "caller_request"
    assert stack.hooks is not None
    hook = stack.hooks.wait_for(
        "/transfer", lambda r: json.loads(r.body)["handoff_id"] == handoff["handoff_id"]
    )
    body = json.loads(hook.body)
    assert body["department"] == "standesamt" and body["target"] == TARGET, body


def _notify(cseq: int, state: str, frag: str) -> str:
    text = (Path(__file__).parent.parent / "peers" / "notify_fragment.xml").read_text()
    return text.replace("[cseq]", str(cseq)).replace("[state]", state).replace("[frag]", frag)


@pytest.mark.skipif(SIPP is None, reason="sipp is not installed")
def test_over_sip_the_refer_goes_to_the_standesamt(stack: Stack, tmp_path: Path) -> None:
    """The caller (sipp signalling, the test's RTP) asks about the Standesamt after the
    greeting, then presses 0 for a person: the REFER's Refer-To is the Standesamt's target."""
    capture = RtpCapture()
    notifies = _notify(2, "active;expires=60", "100 Trying") + _notify(
        3, "terminated;reason=noresource", "200 OK"
    )
    keys = {"capture_port": str(capture.port), "refer_status": "202 Accepted"}
    keys["notifies"] = notifies
    result: dict[str, Any] = {}
    runner = threading.Thread(
        target=lambda: result.update(run=run_sipp(stack, "uac_media_refer.xml", tmp_path, keys))
    )
    runner.start()
    try:
        bot = capture.wait_for_bot()
        line = np.random.default_rng(3).normal(0, 30, 8 * 8000).astype(np.int16)
        quiet = np.random.default_rng(4).normal(0, 30, 16 * 8000).astype(np.int16)
        audio = np.concatenate([line, clip(QUESTION), quiet])  # the key at 8 s + 3.4 s + 10 s
        send_caller_rtp(capture.sock, bot, audio, "PCMU", key="0", key_at_s=21.0)
    finally:
        runner.join(90)
        capture.close()
    run = result["run"]
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    trace = (tmp_path / "messages.log").read_text(errors="replace")
    record = record_of(stack, call_ids(tmp_path / "messages.log")[0])
    heard = [(t["speaker"], t["text"], t.get("intent")) for t in record["turns"]]
    refer_to = re.search(r"^Refer-To: (.*)$", trace, re.MULTILINE)
    assert refer_to, "no REFER in the trace"
    assert refer_to.group(1).startswith(f"<{TARGET}?X-Voicebot-Handoff="), (refer_to[1], heard)
    assert record["end_reason"] == "handoff", heard
    said = [t["text"] for t in record["turns"] if t["speaker"] == "bot"]
    assert any("Ich verbinde Sie mit dem Standesamt." in t for t in said), said
    handoff_id = re.search(r"X-Voicebot-Handoff=([A-Za-z0-9%_-]+)", refer_to.group(1))
    assert handoff_id is not None
    handoff = api(stack, f"/api/handoffs/{handoff_id.group(1)}")
    assert handoff["department"] == "standesamt" and handoff["target"] == TARGET, handoff
