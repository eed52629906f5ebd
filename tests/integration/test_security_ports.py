"""The internal services of a real stack (issue 12, findings 3 and 10): Rasa and the action
server answer on loopback only, Rasa's API needs its random token, the action server's
/webhook its own, and no secret is on any process's command line."""

from __future__ import annotations

import json
import socket
import subprocess
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.support import Stack


def _non_loopback_ip() -> str | None:
    """An IPv4 address of this machine other than 127.x, or None."""
    out = subprocess.run(["hostname", "-I"], capture_output=True, text=True, check=False)
    return next((a for a in out.stdout.split() if "." in a and not a.startswith("127.")), None)


def _status(url: str, data: bytes | None = None, headers: dict[str, str] | None = None) -> int:
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def test_rasa_and_the_action_server_are_not_reachable_on_a_non_loopback_address(
    stack: Stack,
) -> None:
    address = _non_loopback_ip()
    if address is None:
        pytest.skip("this machine has no non-loopback IPv4 address")
    for url in (stack.env["VOICEBOT_RASA_URL"], stack.env["VOICEBOT_RASA_ACTIONS_URL"]):
        port = urlparse(url).port
        assert port is not None
        with socket.socket() as s:
            s.settimeout(3)
            assert s.connect_ex((address, port)) != 0, f"{url} answers on {address}"


def test_rasa_needs_its_token_and_the_webhook_its_own(stack: Stack) -> None:
    rasa = stack.env["VOICEBOT_RASA_URL"]
    assert _status(f"{rasa}/status") == 401
    assert _status(f"{rasa}/status?token=voicebot-local-rasa-token") == 401
    assert _status(f"{rasa}/status?token={stack.env['VOICEBOT_RASA_TOKEN']}") == 200
    body = json.dumps({"next_action": "action_check_service_hours", "sender_id": "x"}).encode()
    webhook = stack.env["VOICEBOT_RASA_ACTIONS_URL"] + "/webhook"
    assert _status(webhook, body, {"Content-Type": "application/json"}) == 401


def test_no_secret_is_on_a_command_line(stack: Stack) -> None:
    secrets = [stack.env["VOICEBOT_RASA_TOKEN"], stack.token]
    secrets += [(stack.data_dir / "actions-token").read_text().strip()]
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            argv = cmdline.read_bytes().decode(errors="replace")
        except OSError:
            continue
        assert not [s for s in secrets if s in argv], f"a secret in {cmdline}"
