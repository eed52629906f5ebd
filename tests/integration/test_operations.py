"""Operations against real gateway processes beside the test stack's Rasa (issue 13): SIGTERM
drains (new calls refused over the WebSocket and SIP, OPTIONS 503, the live call finishes, the
one still running after `drain_timeout_s` hears the goodbye, gets a callback request and closes
as `gateway_shutdown`); kill -9 mid-call and a restart close the record as `gateway_crashed`
with its turns and handoff kept; `/metrics` parses and moves after a real call.

Every wait polls for a state (health, records, process exit); none sleeps a fixed time.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import aiohttp
import numpy as np
from prometheus_client.parser import text_string_to_metric_families

from tests.support import FIXTURES, ROOT, Stack, clip, free_port
from voicebot.caller import CallResult, load_caller_audio, media_headers, place_call

LONG_SILENCE = np.zeros(8000 * 240, dtype=np.int16)  # a caller who stays on the line


def gateway_env(stack: Stack, data_dir: Path, **extra: str) -> dict[str, str]:
    """A lone gateway on the stack's Rasa and action server, own database, HTTP and SIP port."""
    data_dir.mkdir(exist_ok=True)
    env = dict(stack.env)
    env.update(
        VOICEBOT_DATA_DIR=str(data_dir),
        VOICEBOT_PORT=str(free_port()),
        VOICEBOT_SIP_PORT=str(free_port()),
        VOICEBOT_NO_INPUT_S="0",  # a silent caller is not sent away by the bot
        **extra,
    )
    return env


def health(env: dict[str, str]) -> dict[str, Any]:
    """The gateway's /health body (whatever its status), {} while it does not answer."""
    try:
        with urllib.request.urlopen(
            f"http://127.0.0.1:{env['VOICEBOT_PORT']}/health", timeout=3
        ) as r:
            return dict(json.loads(r.read()))
    except urllib.error.HTTPError as exc:
        return dict(json.loads(exc.read() or b"{}"))
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return {}


def wait_until(what: str, check: Callable[[], Any], timeout: float = 120) -> Any:
    """Polls `check` until it returns something true."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@contextmanager
def gateway_process(env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    """`voicebot serve`, yielded once its models are loaded; killed if still running at the end."""
    log = Path(env["VOICEBOT_DATA_DIR"]) / "gateway.log"
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "voicebot", "serve"], cwd=ROOT, env=env, stdout=out,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        wait_until(
            "the models",
            lambda: (
                proc.poll() is not None
                or health(env).get("components", {}).get("models", {}).get("state") == "ready"
            ),
            timeout=240,
        )
        assert proc.poll() is None, log.read_text()[-3000:]
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(30)


def api(env: dict[str, str], path: str, token: str | None = None) -> tuple[int, str]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{env['VOICEBOT_PORT']}{path}",
        headers={"Authorization": f"Bearer {token or env['VOICEBOT_API_TOKEN']}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def db_rows(data_dir: Path, sql: str, *params: Any) -> list[dict[str, Any]]:
    """Rows of the gateway's SQLite database (read beside, or after, the process)."""
    conn = sqlite3.connect(data_dir / "voicebot.db", timeout=10)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(sql, params).fetchall()]
    finally:
        conn.close()


def record(data_dir: Path, call_sid: str) -> dict[str, Any] | None:
    rows = db_rows(
        data_dir,
        "SELECT c.* FROM calls c JOIN call_platform_ids p ON p.call_id = c.call_id "
        "WHERE p.platform_call_id = ?",
        call_sid,
    )
    if not rows:
        return None
    rows[0]["turns"] = db_rows(
        data_dir, "SELECT * FROM turns WHERE call_id = ? ORDER BY seq", rows[0]["call_id"]
    )
    return rows[0]


def sip_request(port: int, method: str, body: str = "") -> bytes:
    """One SIP request over UDP; the first final answer."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(10)
        me = sock.getsockname()[1]
        ctype = "Content-Type: application/sdp\r\n" if body else ""
        msg = (
            f"{method} sip:bot@127.0.0.1:{port} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP 127.0.0.1:{me};branch=z9hG4bK{os.urandom(6).hex()}\r\n"
            f"From: <sip:+492140000001@127.0.0.1>;tag=t{me}\r\nTo: <sip:bot@127.0.0.1>\r\n"
            f"Call-ID: ops-{os.urandom(6).hex()}@127.0.0.1\r\nCSeq: 1 {method}\r\n"
            f"Max-Forwards: 70\r\nContact: <sip:c@127.0.0.1:{me}>\r\n{ctype}"
            f"Content-Length: {len(body)}\r\n\r\n{body}"
        )
        sock.sendto(msg.encode(), ("127.0.0.1", port))
        while True:
            reply = sock.recv(65536)
            if not reply.startswith(b"SIP/2.0 1"):
                return reply


SDP = (
    "v=0\r\no=c 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    "m=audio 40000 RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\n"
)


async def refused_stream(env: dict[str, str]) -> int | None:
    """A new media stream now: the close code the gateway sends before any start."""
    url = f"ws://127.0.0.1:{env['VOICEBOT_PORT']}/media/twilio"
    async with (
        aiohttp.ClientSession() as http,
        http.ws_connect(url, headers=media_headers()) as ws,
    ):
        msg = await ws.receive(timeout=10)
        assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
        return ws.close_code


def test_sigterm_drains_refuses_new_calls_and_ends_the_rest_with_a_goodbye(
    stack: Stack, tmp_path: Path, manifest: list[dict[str, Any]]
) -> None:
    data_dir = tmp_path / "drain"
    env = gateway_env(stack, data_dir, VOICEBOT_DRAIN_TIMEOUT_S="45")
    url = f"ws://127.0.0.1:{env['VOICEBOT_PORT']}/media/twilio"
    question = load_caller_audio(FIXTURES / clip(manifest, "ask_opening_hours")["file"])

    async def scenario(proc: subprocess.Popen[bytes]) -> tuple[CallResult, CallResult]:
        stays = asyncio.create_task(place_call(url, [LONG_SILENCE], call_sid="CAstays"))
        finishes = asyncio.create_task(
            place_call(url, [question], call_sid="CAfinishes", lead_silence_s=3.0)
        )
        await asyncio.to_thread(
            wait_until, "two live calls", lambda: health(env).get("active_calls") == 2
        )
        proc.send_signal(signal.SIGTERM)
        await asyncio.to_thread(wait_until, "draining", lambda: health(env).get("draining"))
        assert health(env)["status"] == "draining"
        assert await refused_stream(env) == 1013
        port = int(env["VOICEBOT_SIP_PORT"])
        options = await asyncio.to_thread(sip_request, port, "OPTIONS")
        assert options.startswith(b"SIP/2.0 503 ") and b"\r\nRetry-After: " in options
        invite = await asyncio.to_thread(sip_request, port, "INVITE", SDP)
        assert invite.startswith(b"SIP/2.0 503 ") and b"\r\nRetry-After: " in invite
        return await finishes, await stays

    with gateway_process(env) as proc:
        finished, stayed = asyncio.run(scenario(proc))
        assert proc.wait(60) == 0, "the gateway exits by itself once drained"
    done = record(data_dir, "CAfinishes")
    assert done is not None and done["end_reason"] == "hangup", done
    assert any(t["speaker"] == "caller" and t["text"] for t in done["turns"])
    assert sum(t["speaker"] == "bot" for t in done["turns"]) >= 2, "the question was answered"
    shut = record(data_dir, "CAstays")
    assert shut is not None and shut["end_reason"] == "gateway_shutdown", shut
    assert shut["ended_at"] is not None
    goodbye = shut["turns"][-1]
    assert goodbye["speaker"] == "bot" and "gewartet" in goodbye["text"]
    assert "Rückruf" in goodbye["text"]  # the caller's number is known
    assert any(name == "gateway-shutdown" for _, name in stayed.marks), "heard to its end"
    handoffs = db_rows(data_dir, "SELECT * FROM handoffs WHERE call_id = ?", shut["call_id"])
    assert [(h["kind"], h["status"], h["reason"]) for h in handoffs] == [
        ("callback", "open", "gateway_shutdown")
    ]
    assert handoffs[0]["callback_number"] == "+492140000000"


def test_kill_9_mid_call_then_restart_closes_the_record_and_metrics_move(
    stack: Stack, tmp_path: Path, manifest: list[dict[str, Any]]
) -> None:
    data_dir = tmp_path / "crash"
    env = gateway_env(stack, data_dir, VOICEBOT_GATEWAY_ID="ops-test-gw")
    url = f"ws://127.0.0.1:{env['VOICEBOT_PORT']}/media/twilio"

    async def live_call(proc: subprocess.Popen[bytes]) -> None:
        call = asyncio.create_task(place_call(url, [LONG_SILENCE], call_sid="CAkilled"))

        def greeted() -> bool:
            rec = record(data_dir, "CAkilled")
            return bool(rec and rec["turns"])  # the greeting is stored

        await asyncio.to_thread(wait_until, "the greeting in the record", greeted)
        call_id = record(data_dir, "CAkilled")["call_id"]  # type: ignore[index]
        now = "2026-12-08T00:00:00.000+00:00"
        conn = sqlite3.connect(data_dir / "voicebot.db", timeout=10)
        with conn:  # an agent's open item for the call (as a callback request would be)
            conn.execute(
                "INSERT INTO handoffs (handoff_id, call_id, kind, status, created_at, updated_at, "
                "language, reason, department, topic, summary, caller, callback_number, target, "
                "last_intent, last_intent_confidence, slots, transcript) VALUES "
                "(?, ?, 'callback', 'open', ?, ?, 'de', 'caller_request', 'buergerbuero', "
                "'Rückruf', 'Rückruf', '+492140000000', '+492140000000', NULL, NULL, NULL, "
                "'{}', '[]')",
                ("OPS9K1", call_id, now, now),
            )
        conn.close()
        proc.send_signal(signal.SIGKILL)
        await asyncio.gather(call, return_exceptions=True)  # the line just drops

    with gateway_process(env) as proc:
        asyncio.run(live_call(proc))
        proc.wait(30)
    before = record(data_dir, "CAkilled")
    assert before is not None and before["ended_at"] is None  # left open by the crash
    with gateway_process(env):
        rec = record(data_dir, "CAkilled")
        assert rec is not None and rec["end_reason"] == "gateway_crashed", rec
        assert rec["ended_at"] is not None
        assert rec["turns"] == before["turns"], "nothing stored is lost"
        (handoff,) = db_rows(data_dir, "SELECT * FROM handoffs WHERE handoff_id = 'OPS9K1'")
        assert handoff["status"] == "open"
        check_metrics(env, url, manifest)


def check_metrics(env: dict[str, str], url: str, manifest: list[dict[str, Any]]) -> None:
    """/metrics: 401 without the token; parses; counters and histograms move with a call."""
    assert api(env, "/metrics", token="wrong")[0] == 401
    status, before = api(env, "/metrics")
    assert status == 200
    question = load_caller_audio(FIXTURES / clip(manifest, "ask_opening_hours")["file"])
    result = asyncio.run(place_call(url, [question], api_token=env["VOICEBOT_API_TOKEN"]))
    assert result.record is not None and result.record["end_reason"]
    status, after = api(env, "/metrics")
    assert status == 200
    old, new = values(before), values(after)
    calls = [k for k in new if k[0] == "voicebot_calls_total" and ("transport", "twilio") in k[1]]
    assert calls and sum(new[k] - old.get(k, 0) for k in calls) == 1
    for stage in ("endpointing", "asr", "dialogue", "tts_first_audio", "speech_end_to_first_audio"):
        key = ("voicebot_stage_seconds_count", (("stage", stage),))
        assert new.get(key, 0) - old.get(key, 0) >= 1, stage
    assert new["voicebot_asr_confidence_count", ()] >= 1
    assert ("voicebot_active_calls", ()) in new


def values(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
