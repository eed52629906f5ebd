"""The supervisor stops whole process groups: nothing is left behind."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest

from voicebot.stack import Child, _start, stop_all


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


def test_stop_all_ends_children_and_their_children(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pidfile = tmp_path / "grandchild.pid"
    # one child that ignores SIGTERM and one that spawns a grandchild
    ready = tmp_path / "stubborn.ready"
    stubborn = f"trap '' TERM; touch {ready}; while true; do sleep 0.1; done"
    spawner = f"sleep 300 & echo $! > {pidfile}; wait"
    children = [
        Child("stubborn", ["bash", "-c", stubborn], tmp_path, dict(os.environ), tmp_path / "a.log"),
        Child("spawner", ["bash", "-c", spawner], tmp_path, dict(os.environ), tmp_path / "b.log"),
    ]

    async def scenario() -> list[int]:
        for child in children:
            await _start(child)
        for _ in range(50):
            if ready.exists() and pidfile.exists() and pidfile.read_text().strip():
                break
            await asyncio.sleep(0.1)
        pids = [c.proc.pid for c in children if c.proc] + [int(pidfile.read_text())]
        await stop_all(children)
        return pids

    monkeypatch.setattr("voicebot.stack.GRACE_S", 1.0)
    pids = asyncio.run(scenario())
    assert len(pids) == 3
    assert not [pid for pid in pids if alive(pid)]
    assert children[0].proc is not None and children[0].proc.returncode == -signal.SIGKILL


def test_the_actions_get_the_gateway_url_and_the_same_api_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Custom actions POST stored requests to the gateway: they need its URL and token."""
    from voicebot.config import RasaSettings, Settings
    from voicebot.stack import build_children

    monkeypatch.delenv("VOICEBOT_API_TOKEN", raising=False)
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "rasa").write_text("#!/bin/sh\n")
    project = tmp_path / "project"
    (project / "models").mkdir(parents=True)
    (project / "models" / "voicebot.tar.gz").write_bytes(b"model")
    settings = Settings(
        data_dir=tmp_path / "data",
        host="0.0.0.0",
        port=8123,
        rasa=RasaSettings(venv=venv, project_dir=project),
    )
    children = {c.name: c for c in build_children(settings)}
    actions, gateway = children["actions"].env, children["gateway"].env
    assert actions["VOICEBOT_GATEWAY_URL"] == "http://127.0.0.1:8123"
    token = actions["VOICEBOT_API_TOKEN"]
    assert token and gateway["VOICEBOT_API_TOKEN"] == token  # generated once, shared
    assert (tmp_path / "data" / "api-token").read_text().strip() == token
    assert "VOICEBOT_API_TOKEN" not in children["rasa"].env
