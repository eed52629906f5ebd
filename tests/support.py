"""Helpers shared by the test modules: paths, free ports, the stack handle, audio checks."""

from __future__ import annotations

import os
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from voicebot.caller import CallResult

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "audio_fixtures"
SHARED = ROOT.parent / "shared"
ARTIFACTS = ROOT / "test-artifacts"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Stack:
    """A running hotline: URLs, the API token and where its data lives."""

    media_url: str
    http_url: str
    token: str
    data_dir: Path
    proc: subprocess.Popen[bytes]
    env: dict[str, str]


def stack_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """Environment for a private stack on free ports."""
    env = dict(os.environ)
    env.update(
        {
            "VOICEBOT_DATA_DIR": str(data_dir),
            "VOICEBOT_PORT": str(free_port()),
            "VOICEBOT_RASA_URL": f"http://127.0.0.1:{free_port()}",
            "VOICEBOT_RASA_ACTIONS_URL": f"http://127.0.0.1:{free_port()}",
            "VOICEBOT_API_TOKEN": "test-token-" + os.urandom(6).hex(),
            "VOICEBOT_MODELS_CACHE_DIR": str(ROOT / "var" / "models"),
            "VOICEBOT_LOG_LEVEL": "INFO",
            "VOICEBOT_SIP_PORT": str(free_port()),
            "VOICEBOT_SIP_RING_MS": "300",  # lets the CANCEL test cancel before the answer
        }
    )
    env.update(extra)
    return env


def voiced_seconds(pcm: np.ndarray, rate: int = 8000) -> float:
    """Seconds of 20 ms frames whose level is clearly above line silence."""
    frame = rate // 50
    n = len(pcm) // frame
    if n == 0:
        return 0.0
    frames = pcm[: n * frame].astype(np.float64).reshape(n, frame)
    rms = np.sqrt((frames**2).mean(axis=1))
    return float((rms > 300).sum() * 0.02)


def clip(manifest: list[dict[str, Any]], intent: str, name: str | None = None) -> dict[str, Any]:
    """A fixture of the given intent (the named file if given)."""
    for entry in manifest:
        if entry["expected_intent"] == intent and (name is None or entry["file"] == name):
            return entry
    raise LookupError(f"no fixture for {intent} {name or ''}")


def turns(result: CallResult, speaker: str) -> list[dict[str, Any]]:
    """The record's turns of one speaker."""
    assert result.record is not None, "the call record was not readable through the API"
    return [t for t in result.record["turns"] if t["speaker"] == speaker]
