"""The supervisor stops whole process groups: nothing is left behind."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest

from voicebot.config import RasaSettings, Settings
from voicebot.stack import Child, _start, build_children, stop_all, supervise


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


def _settings(tmp_path: Path, **extra: object) -> Settings:
    """Settings with a stand-in Rasa venv and model, so build_children can run."""
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True, exist_ok=True)
    (venv / "bin" / "rasa").write_text("#!/bin/sh\n")
    project = tmp_path / "project"
    (project / "models").mkdir(parents=True, exist_ok=True)
    (project / "models" / "voicebot.tar.gz").write_bytes(b"model")
    return Settings(
        data_dir=tmp_path / "data",
        host="0.0.0.0",
        port=8123,
        rasa=RasaSettings(venv=venv, project_dir=project),
        **extra,  # type: ignore[arg-type]
    )


def test_the_actions_get_the_gateway_url_and_their_own_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Custom actions POST stored requests to the gateway with a token of their own, which the
    gateway accepts only there (issue 12, finding 3): never the API token."""
    monkeypatch.delenv("VOICEBOT_API_TOKEN", raising=False)
    children = {c.name: c for c in build_children(_settings(tmp_path))}
    actions, gateway = children["actions"].env, children["gateway"].env
    assert actions["VOICEBOT_GATEWAY_URL"] == "http://127.0.0.1:8123"
    api_token = (tmp_path / "data" / "api-token").read_text().strip()
    actions_token = (tmp_path / "data" / "actions-token").read_text().strip()
    assert gateway["VOICEBOT_API_TOKEN"] == api_token
    assert actions["VOICEBOT_API_TOKEN"] == actions_token != api_token
    assert gateway["VOICEBOT_RASA_ACTIONS_TOKEN"] == actions_token
    assert children["rasa"].env["VOICEBOT_ACTIONS_TOKEN"] == actions_token  # endpoints.yml
    assert "VOICEBOT_API_TOKEN" not in children["rasa"].env


def test_internal_services_listen_on_loopback_with_secrets_off_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before: rasa_sdk listened on 0.0.0.0 and the Rasa token was a constant in argv."""
    children = {c.name: c for c in build_children(_settings(tmp_path))}
    actions, rasa = children["actions"], children["rasa"]
    assert actions.env["SANIC_HOST"] == "127.0.0.1"
    argv = rasa.argv
    assert argv[argv.index("--interface") + 1] == "127.0.0.1"
    token = (tmp_path / "data" / "rasa-token").read_text().strip()
    assert len(token) >= 32 and token != "voicebot-local-rasa-token"
    assert rasa.env["VOICEBOT_RASA_TOKEN"] == token
    assert children["gateway"].env["VOICEBOT_RASA_TOKEN"] == token
    secrets = [token, actions.env["VOICEBOT_ACTIONS_TOKEN"], actions.env["VOICEBOT_API_TOKEN"]]
    for child in children.values():
        assert "--auth-token" not in child.argv
        assert not [a for a in child.argv if any(s in a for s in secrets)], child.name


def test_children_get_only_the_environment_they_need(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Mail, SIP, database and webhook secrets reach the gateway only (issue 12, finding 14)."""
    monkeypatch.setenv("VOICEBOT_MAIL_PASSWORD", "smtp-secret")
    monkeypatch.setenv("VOICEBOT_HANDOFF_WEBHOOK_SECRET", "crm-secret")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "unrelated")
    monkeypatch.setenv("VOICEBOT_TODAY", "2026-11-18")
    children = {c.name: c for c in build_children(_settings(tmp_path))}
    for name in ("actions", "rasa"):
        env = children[name].env
        assert "VOICEBOT_MAIL_PASSWORD" not in env and "VOICEBOT_HANDOFF_WEBHOOK_SECRET" not in env
        assert "AWS_SECRET_ACCESS_KEY" not in env and env["PATH"]
    assert children["actions"].env["VOICEBOT_TODAY"] == "2026-11-18"
    gateway = children["gateway"].env
    assert gateway["VOICEBOT_MAIL_PASSWORD"] == "smtp-secret"
    assert "AWS_SECRET_ACCESS_KEY" not in gateway


def test_a_dead_child_is_restarted_with_backoff(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 12, finding 13: one dead child no longer stops the whole stack."""
    monkeypatch.setattr("voicebot.stack.BACKOFF_START_S", 0.05)
    starts = tmp_path / "starts"
    crasher = f"echo start >> {starts}; exit 3"
    child = Child(
        "crasher", ["bash", "-c", crasher], tmp_path, dict(os.environ), tmp_path / "c.log"
    )
    steady = Child("steady", ["sleep", "300"], tmp_path, dict(os.environ), tmp_path / "s.log")

    async def scenario() -> float:
        await _start(child)
        await _start(steady)
        stop = asyncio.Event()
        began = asyncio.get_running_loop().time()
        task = asyncio.create_task(supervise([child, steady], stop))
        for _ in range(500):  # the file is the only sign of a (re)start
            if starts.exists() and len(starts.read_text().split()) >= 4:
                break
            await asyncio.sleep(0.02)
        elapsed = asyncio.get_running_loop().time() - began
        stop.set()
        await task
        assert steady.proc is not None and steady.proc.returncode is None  # never touched
        await stop_all([child, steady])
        return elapsed

    elapsed = asyncio.run(scenario())
    assert elapsed >= 0.05 + 0.1 + 0.2  # three restarts, each waiting twice as long
