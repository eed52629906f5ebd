"""Shared fixtures: the fixture manifest, ../shared, one real hotline stack per session, a
private PostgreSQL server, and a database fixture over both backends."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support import (
    AGENTS,
    FIXTURES,
    HOOK_SECRET,
    ROOT,
    SHARED,
    TRAINERS,
    HookReceiver,
    Postgres,
    Stack,
    stack_env,
    start_postgres,
)


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(
                f"the stack exited with {proc.returncode}:\n{log.read_text()[-3000:]}"
            )
        try:
            with urllib.request.urlopen(url, timeout=3) as resp:
                if resp.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(1)
    raise RuntimeError(f"the stack was not healthy after {timeout} s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """../shared beside the checkout (design docs, SIP torture messages, peer configs)."""
    if not SHARED.is_dir():
        pytest.skip(f"{SHARED} is absent: these tests need the shared test data beside the repo")
    return SHARED


@pytest.fixture(scope="session")
def manifest() -> list[dict[str, Any]]:
    """The audio fixture manifest."""
    data = yaml.safe_load((FIXTURES / "manifest.yml").read_text(encoding="utf-8"))
    clips = data["clips"] if isinstance(data, dict) else data
    return list(clips)


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    """A private PostgreSQL cluster (Debian's server, started as its `postgres` user if root)."""
    try:
        server = start_postgres()
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
        pytest.skip(f"PostgreSQL could not be started, so its variant is skipped: {exc}")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_target(request: pytest.FixtureRequest, tmp_path: Path) -> str | Path:
    """A fresh, empty database: a SQLite file, or a new database on the PostgreSQL server."""
    if request.param == "sqlite":
        return tmp_path / "voicebot.db"
    server: Postgres = request.getfixturevalue("postgres")
    import psycopg

    name = "test_" + uuid.uuid4().hex[:12]
    with psycopg.connect(server.url(), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return server.url(name)


@pytest.fixture(scope="session")
def hook_receiver() -> Iterator[HookReceiver]:
    """Plays the telephony platform's transfer hook and the CRM for the test stack."""
    receiver = HookReceiver().start()
    try:
        yield receiver
    finally:
        receiver.stop()


CITY_DIALOGUE_TODAY = "2026-11-18"
# The number plan of the test stack: an English service number, the Standesamt's number.
ENGLISH_NUMBER, STANDESAMT_NUMBER = "4921440600", "4921440601"
NUMBER_PLAN = f"{ENGLISH_NUMBER}=en,{STANDESAMT_NUMBER}=de:standesamt"


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory, hook_receiver: HookReceiver) -> Iterator[Stack]:
    """The real stack (action server, Rasa, gateway) started once via `voicebot stack`."""
    from voicebot.web.agent_auth import hash_password

    data_dir = tmp_path_factory.mktemp("stack")
    env = stack_env(
        data_dir,
        VOICEBOT_CONSOLE_AGENTS=json.dumps({n: hash_password(p) for n, p in AGENTS.items()}),
        VOICEBOT_CONSOLE_TRAINERS=json.dumps({n: hash_password(p) for n, p in TRAINERS.items()}),
        VOICEBOT_HANDOFF_TARGETS=json.dumps({"buergerbuero": "sip:buergerbuero@pbx.test"}),
        VOICEBOT_HANDOFF_TRANSFER_HOOK_URL=hook_receiver.url("/transfer"),
        VOICEBOT_HANDOFF_WEBHOOK_URL=hook_receiver.url("/crm"),
        VOICEBOT_HANDOFF_WEBHOOK_SECRET=HOOK_SECRET,
        VOICEBOT_HANDOFF_TRANSFER_HOOK_SECRET=HOOK_SECRET,  # the same key, so one check serves
        # the forms' date rules by voice on a fixed day (a Wednesday; tests/integration/
        # test_city_dialogues.py): "am nächsten Montag" is then always a working day
        VOICEBOT_TODAY=CITY_DIALOGUE_TODAY,
        VOICEBOT_SPERRMUELL_LEAD_DAYS="2",
        # number-based entry (tests/integration/test_number_entry.py): an English service
        # number and the Standesamt's number
        VOICEBOT_NUMBERS_PLAN=NUMBER_PLAN,
    )
    log = data_dir / "stack.out"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "voicebot", "stack"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    port = env["VOICEBOT_PORT"]
    try:
        _wait_healthy(f"http://127.0.0.1:{port}/health", proc, log, timeout=300)
        yield Stack(
            media_url=f"ws://127.0.0.1:{port}/media/twilio",
            http_url=f"http://127.0.0.1:{port}",
            token=env["VOICEBOT_API_TOKEN"],
            data_dir=data_dir,
            proc=proc,
            env=env,
            hooks=hook_receiver,
        )
    finally:
        children = _child_pids(proc.pid)
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        left = [pid for pid in children if _alive(pid)]
        for pid in left:
            os.kill(pid, signal.SIGKILL)
        assert not left, f"`voicebot stack` left processes behind after SIGTERM: {left}"


def _child_pids(pid: int) -> list[int]:
    """Direct children of a process (the supervised action server, Rasa and gateway)."""
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True)
    return [int(x) for x in out.stdout.split()]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is dead for our purposes
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split()[2] != "Z"


# tests/actions need rasa_sdk: `make test` runs them with the Rasa interpreter (Makefile).
collect_ignore = ["actions"]
