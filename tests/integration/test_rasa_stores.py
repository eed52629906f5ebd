"""Rasa's tracker store on PostgreSQL and lock store on Redis, from the gateway's configuration
(issue 13, item 2): two real Rasa servers, started the way `voicebot stack` starts its Rasa
(`build_children` with `[rasa] tracker_store_url` / `lock_store_url`), share one conversation:
turn 1 on server A, a slot set on A, turn 2 on server B sees the slot and A's turn, and every
event lands in PostgreSQL; the conversation locks go through a real redis-server.
The test stack's action server serves both (its token from the stack's data directory).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import Postgres, Stack, free_port
from voicebot.config import RasaSettings, Settings
from voicebot.stack import build_children


def _complete(data: bytes) -> bool:
    """Whether a Redis answer is complete (a bulk string: its announced length is there)."""
    if b"\r\n" not in data:
        return False
    if not data.startswith(b"$"):
        return True
    head = data.index(b"\r\n")
    return len(data) >= head + 2 + int(data[1:head]) + 2


def redis_command(port: int, *words: str) -> bytes:
    """One command in Redis's inline protocol; the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall((" ".join(words) + "\r\n").encode())
        data = b""
        while not _complete(data):
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
        return data


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[int]:
    """A private redis-server (no persistence) on a free port."""
    exe = shutil.which("redis-server")
    if exe is None:
        pytest.fail("redis-server is not installed (scripts/bootstrap.sh installs it)")
    port = free_port()
    proc = subprocess.Popen(
        [exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if redis_command(port, "PING").startswith(b"+PONG"):
                    break
            except OSError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, "redis did not start"
            time.sleep(0.05)
        yield port
    finally:
        proc.terminate()
        proc.wait(10)


def lock_commands(port: int) -> int:
    """How many SET commands Redis has run (Rasa's lock store saves each lock with SET)."""
    info = redis_command(port, "INFO", "commandstats").decode()
    line = next((li for li in info.splitlines() if li.startswith("cmdstat_set:")), "")
    return int(line.split("calls=")[1].split(",")[0]) if line else 0


def rasa_call(url: str, token: str, path: str, body: Any = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    sep = "&" if "?" in path else "?"
    request = urllib.request.Request(
        f"{url}{path}{sep}token={token}",
        data=data,
        headers={"Content-Type": "application/json"},
        method="GET" if body is None else "POST",
    )
    with urllib.request.urlopen(request, timeout=60) as resp:
        return json.loads(resp.read() or b"null")


def start_rasa(
    argv: list[str], cwd: Path, env: dict[str, str], log: Path
) -> subprocess.Popen[bytes]:
    with open(log, "wb") as out:
        return subprocess.Popen(
            argv, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def wait_ready(url: str, token: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    """Until Rasa answers /status with its model loaded."""
    deadline = time.monotonic() + 300
    while True:
        try:
            if rasa_call(url, token, "/status").get("model_id"):
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError, ValueError):
            pass
        assert proc.poll() is None, log.read_text(errors="replace")[-3000:]
        assert time.monotonic() < deadline, f"Rasa did not start: {log}"
        time.sleep(0.5)


def test_two_rasa_servers_share_a_conversation_in_postgresql_with_redis_locks(
    stack: Stack, postgres: Postgres, redis: int, tmp_path: Path
) -> None:
    import psycopg

    db = "rasa_" + uuid.uuid4().hex[:10]
    with psycopg.connect(postgres.url(), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {db}")
    actions_token = (stack.data_dir / "actions-token").read_text().strip()
    token = "rasa-store-token-" + os.urandom(12).hex()
    urls = [f"http://127.0.0.1:{free_port()}" for _ in range(2)]
    procs: list[subprocess.Popen[bytes]] = []
    try:
        for n, url in enumerate(urls):
            rasa = RasaSettings(
                url=url,
                token=token,
                actions_token=actions_token,
                actions_url=stack.env["VOICEBOT_RASA_ACTIONS_URL"],
                tracker_store_url=postgres.url(db),
                lock_store_url=f"redis://127.0.0.1:{redis}/0",
            )
            data_dir = tmp_path / f"rasa{n}"
            data_dir.mkdir()
            (child,) = [c for c in build_children(Settings(data_dir=data_dir, rasa=rasa))
                        if c.name == "rasa"]  # fmt: skip
            endpoints = (data_dir / "rasa-endpoints.yml").read_text()
            assert "dialect: postgresql" in endpoints and "type: redis" in endpoints
            log = data_dir / "rasa.log"
            procs.append(start_rasa(child.argv, child.cwd, child.env, log))
            # one after the other: the first creates the tracker tables
            wait_ready(url, token, procs[-1], log)
        conversation(urls, token, redis, postgres, db)
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def conversation(urls: list[str], token: str, redis: int, postgres: Postgres, db: str) -> None:
    import psycopg

    a, b = urls
    sender = "ws-" + uuid.uuid4().hex
    locks_before = lock_commands(redis)
    hook = "/webhooks/rest/webhook"
    first = rasa_call(a, token, hook, {"sender": sender, "message": "/call_start"})
    assert isinstance(first, list)
    number = "+492149876543"
    rasa_call(
        a,
        token,
        f"/conversations/{sender}/tracker/events",
        {"event": "slot", "name": "callback_number", "value": number},
    )
    second = rasa_call(b, token, hook, {"sender": sender, "message": "/affirm"})
    assert isinstance(second, list)
    tracker = rasa_call(b, token, f"/conversations/{sender}/tracker")
    assert tracker["slots"]["callback_number"] == number, "server B sees the slot set on A"
    said = [e.get("text") for e in tracker["events"] if e["event"] == "user"]
    assert said[:2] == ["/call_start", "/affirm"], "B continues A's conversation"
    assert lock_commands(redis) > locks_before, "the conversation locks went through Redis"
    with psycopg.connect(postgres.url(db)) as conn:
        rows = conn.execute(
            "SELECT type_name, data FROM events WHERE sender_id = %s ORDER BY id", (sender,)
        ).fetchall()
    kinds = [r[0] for r in rows]
    assert kinds.count("user") == 2 and "slot" in kinds
    assert any(r[0] == "slot" and json.loads(r[1]).get("value") == number for r in rows)
