"""baresip (a real softphone, headless) calls the bot in PCMA and PCMU and records its answer."""

from __future__ import annotations

import shutil
import subprocess
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from tests.integration.sip_peers import (
    BARESIP,
    PEERS,
    bot_words_heard,
    metrics,
    record_of,
    sip_port,
)
from tests.support import ARTIFACTS, FIXTURES, Stack, free_port, voiced_seconds

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(BARESIP is None, reason="baresip is not installed (baresip-core)"),
]
LEAD_S = 11.0  # the greeting plays first; the question comes after it
CALL_S = 34


@pytest.fixture(scope="module")
def whisper() -> Any:
    from voicebot.tools import load_whisper

    model, _ = load_whisper(cpu_threads=2)
    return model


def _caller_wav(directory: Path) -> Path:
    """The question after LEAD_S of silence, then silence to keep the line open (baresip hangs
    up when its file source ends)."""
    pcm, rate = sf.read(FIXTURES / "oeffnungszeiten_allgemein.wav", dtype="int16")
    silence = np.zeros(int(LEAD_S * rate), dtype=np.int16)
    tail = np.zeros(int((CALL_S + 10) * rate), dtype=np.int16)
    path = directory / "caller.wav"
    sf.write(path, np.concatenate([silence, pcm, tail]), rate, subtype="PCM_16")
    return path


def _config(directory: Path, codec: str, wav: Path, recordings: Path) -> Path:
    conf = directory / "baresip"
    conf.mkdir()
    rtp = free_port() // 2 * 2
    values = {
        "@SIP_PORT@": str(free_port()),
        "@AUDIO_WAV@": str(wav),
        "@RTP_MIN@": str(rtp),
        "@RTP_MAX@": str(rtp + 9),
        "@RECORDING_DIR@": str(recordings),
        "@CODEC@": codec,
    }
    for name in ("config", "accounts"):
        text = (PEERS / "baresip" / name).read_text()
        for key, value in values.items():
            text = text.replace(key, value)
        (conf / name).write_text(text)
    (conf / "contacts").write_text("")
    return conf


@pytest.mark.parametrize("codec", ["PCMA", "PCMU"])
def test_baresip_call_gets_a_spoken_answer(
    stack: Stack, tmp_path: Path, whisper: Any, codec: str
) -> None:
    recordings = tmp_path / "rec"
    recordings.mkdir()
    conf = _config(tmp_path, codec, _caller_wav(tmp_path), recordings)
    before = metrics(stack).get("calls_started", 0)
    target = f"sip:bot@127.0.0.1:{sip_port(stack)}"
    run = subprocess.run(
        [str(BARESIP), "-f", str(conf), "-t", str(CALL_S), "-e", f"/dial {target}"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=CALL_S + 30,
    )
    log = run.stdout[-3000:] + run.stderr[-2000:]
    assert metrics(stack).get("calls_started", 0) == before + 1, log
    assert f"{codec}/8000" in log or codec in log, log
    received = sorted(recordings.glob("dump-*-dec.wav"))
    assert received, f"baresip recorded nothing: {list(recordings.iterdir())}\n{log}"
    pcm, rate = sf.read(received[-1], dtype="int16")
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copy(received[-1], ARTIFACTS / f"sip_baresip_{codec.lower()}.wav")
    assert rate == 8000
    # baresip's dump holds only the frames it received: the bot's pauses are not in it
    assert voiced_seconds(pcm) > 6.0, "no greeting and answer"
    record = _record(stack, before)
    assert any(t["speaker"] == "caller" and t["text"] for t in record["turns"]), record
    greeting = next(t for t in record["turns"] if t["speaker"] == "bot")
    length = datetime.fromisoformat(greeting["ended_at"]) - datetime.fromisoformat(
        greeting["started_at"]
    )
    answer = pcm[int((length.total_seconds() + 0.5) * rate) :]
    assert voiced_seconds(answer) > 1.5, "no answer after the greeting"
    ok, why = bot_words_heard(whisper, pcm, record)
    assert ok, why


def _record(stack: Stack, calls_before: int) -> dict[str, Any]:
    """The record of the newest SIP call."""
    from tests.integration.sip_peers import api

    newest = api(stack, "/api/calls?limit=1")[0]
    return record_of(stack, newest["call_id"])
