"""Agent passwords (scrypt), the hash-password command, and the new settings."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from voicebot.cli import main
from voicebot.config import describe_settings, load_settings
from voicebot.errors import ConfigError
from voicebot.web.agent_auth import LoginThrottle, hash_password, verify_password


def test_password_hash_round_trip_and_salting() -> None:
    first, second = hash_password("richtig-und-lang"), hash_password("richtig-und-lang")
    assert first != second, "every hash has its own salt"
    assert first.startswith("scrypt:16384:8:1:") and "$" not in first
    assert verify_password("richtig-und-lang", first)
    assert not verify_password("falsch-und-lang", first)
    for broken in ("", "scrypt:1:2", "md5:x:y:z:a:b", first.replace(":16384:", ":abc:")):
        assert not verify_password("richtig-und-lang", broken)


def test_cli_hashes_a_password_from_stdin(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("ein-langes-passwort\n"))
    assert main(["agents", "hash-password", "--stdin", "--name", "anna"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith('# voicebot.toml, [console] agents: "anna" = "scrypt:')
    assert verify_password("ein-langes-passwort", lines[-1])
    monkeypatch.setattr("sys.stdin", io.StringIO("kurz\n"))
    assert main(["agents", "hash-password", "--stdin"]) == 1


def test_throttle_blocks_after_repeated_failures() -> None:
    throttle = LoginThrottle()
    for _ in range(5):
        assert not throttle.blocked("anna", "10.0.0.1")
        throttle.failed("anna", "10.0.0.1")
    assert throttle.blocked("anna", "10.0.0.1")
    assert not throttle.blocked("anna", "10.0.0.2") and not throttle.blocked("ben", "10.0.0.1")
    throttle.succeeded("anna", "10.0.0.1")
    assert not throttle.blocked("anna", "10.0.0.1")


def test_handoff_and_console_settings_from_file_and_environment(tmp_path: Path) -> None:
    path = tmp_path / "voicebot.toml"
    path.write_text(
        'database_url = "postgresql://vb:geheim@db.local/voicebot"\n'
        "[handoff]\n"
        'targets = {"buergerbuero" = "sip:bb@pbx.local", "standesamt" = "sip:sa@pbx.local"}\n'
        'service_hours = "Mo-Do 08:00-16:00; Fr 08:00-12:00"\n'
        'webhook_secret = "crm-geheim"\n'
        "[console]\n"
        'agents = {"anna" = "scrypt:1:2:3:4:5"}\n'
    )
    env = {
        "VOICEBOT_HANDOFF_DEFAULT_TARGET": "sip:zentrale@pbx.local",
        "VOICEBOT_CONSOLE_AGENTS": json.dumps({"ben": "scrypt:a:b:c:d:e"}),
    }
    settings = load_settings(path, env=env)
    assert settings.handoff.targets["standesamt"] == "sip:sa@pbx.local"
    assert settings.handoff.default_target == "sip:zentrale@pbx.local"
    assert settings.console.agents == {"ben": "scrypt:a:b:c:d:e"}
    shown = {env_name: value for env_name, _, value in describe_settings(settings)}
    assert shown["VOICEBOT_DATABASE_URL"] == "postgresql://vb:***@db.local/voicebot"
    assert shown["VOICEBOT_HANDOFF_WEBHOOK_SECRET"] == "***"
    assert shown["VOICEBOT_CONSOLE_AGENTS"] == "***"
    pairs = load_settings(None, env={"VOICEBOT_HANDOFF_TARGETS": "a=sip:a@x, b=sip:b@x"})
    assert pairs.handoff.targets == {"a": "sip:a@x", "b": "sip:b@x"}
    with pytest.raises(ConfigError, match="VOICEBOT_HANDOFF_TARGETS"):
        load_settings(None, env={"VOICEBOT_HANDOFF_TARGETS": "not a mapping"})
