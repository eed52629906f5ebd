"""The action server behind its token, on loopback only (issue 12, finding 3).

Before: `rasa run actions` listened on 0.0.0.0:5055 and ran any forged /webhook call. Now
rasa_project/launch.py serves rasa_sdk's app on 127.0.0.1 with a token check in front."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2] / "rasa_project"
TOKEN = "actions-token-for-the-test-0123456789"
WEBHOOK_BODY = {
    "next_action": "action_check_service_hours",
    "sender_id": "c1",
    "tracker": {"sender_id": "c1", "slots": {}, "latest_message": {}, "events": []},
    "domain": {},
    "version": "3.6.0",
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _non_loopback_ip() -> str | None:
    """An IPv4 address of this machine other than 127.x, or None."""
    try:
        out = subprocess.run(["hostname", "-I"], capture_output=True, text=True, check=False)
    except OSError:
        return None
    for addr in out.stdout.split():
        if "." in addr and not addr.startswith("127."):
            return addr
    return None


def _post(url: str, headers: dict[str, str]) -> int:
    data = json.dumps(WEBHOOK_BODY).encode()
    request = urllib.request.Request(url, data=data, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.fixture(scope="module")
def action_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    port = _free_port()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),
        "VOICEBOT_ACTIONS_TOKEN": TOKEN,
        "VOICEBOT_ACTIONS_PORT": str(port),
    }
    log = tmp_path_factory.mktemp("actions") / "actions.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, str(PROJECT / "launch.py"), "actions"],
            cwd=PROJECT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert proc.poll() is None, log.read_text()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2):
                    break
            except OSError:
                time.sleep(0.2)  # polling the state: the server answers /health when up
        else:
            pytest.fail("the action server did not start: " + log.read_text())
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_the_webhook_needs_the_token(action_server: int) -> None:
    url = f"http://127.0.0.1:{action_server}/webhook"
    assert _post(url, {"Content-Type": "application/json"}) == 401
    wrong = {"Content-Type": "application/json", "X-Voicebot-Actions-Token": "wrong"}
    assert _post(url, wrong) == 401
    good = {"Content-Type": "application/json", "X-Voicebot-Actions-Token": TOKEN}
    assert _post(url, good) != 401


def test_the_action_server_is_not_reachable_on_a_non_loopback_address(action_server: int) -> None:
    address = _non_loopback_ip()
    if address is None:
        pytest.skip("this machine has no non-loopback IPv4 address")
    with socket.socket() as s:
        s.settimeout(3)
        assert s.connect_ex((address, action_server)) != 0


def test_rasa_and_the_action_server_mask_personal_data_in_their_logs() -> None:
    """launch.py loads the gateway's masking filter into the Rasa-side processes."""
    code = (
        "import logging, launch; launch.mask_logs(); logging.basicConfig(level=logging.INFO); "
        "logging.getLogger('rasa').info('slot phone=%s email=%s', '0171 2345678', 'a@b.de')"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT, capture_output=True, text=True, check=True
    )
    assert "2345678" not in out.stderr and "a@b.de" not in out.stderr
    assert "[TELEFON]" in out.stderr and "[E-MAIL]" in out.stderr
