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


def test_the_throttle_stays_bounded_and_forgets_expired_failures(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Issue 12, finding 11: invented names cannot grow the throttle without limit."""
    now = [1000.0]
    monkeypatch.setattr("voicebot.web.agent_auth.time.monotonic", lambda: now[0])
    throttle = LoginThrottle(max_tracked=100)
    for i in range(1000):
        throttle.failed(f"name-{i}", "10.0.0.9")
        assert not throttle.blocked(f"name-{i}", "10.0.0.9")  # a lookup adds nothing
    assert len(throttle) <= 100
    now[0] += 10_000  # past the window: every failure is expired
    throttle.failed("anna", "10.0.0.1")
    assert len(throttle) == 1
    for _ in range(5):
        throttle.failed("x" * 100_000, "10.0.0.1")
    assert throttle.blocked("x" * 64 + "y", "10.0.0.1")  # keyed on a bounded name


def test_login_refuses_overlong_names_and_uses_its_own_small_pool(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A long name costs nothing; scrypt never runs in the default executor (TTS uses it)."""
    import asyncio
    import threading

    from voicebot.web import agent_auth

    seen: list[str] = []
    real = agent_auth.verify_password

    def spy(password: str, stored: str) -> bool:
        seen.append(threading.current_thread().name)
        return real(password, stored)

    agents = {"anna": hash_password("richtig-und-lang")}

    async def scenario() -> tuple[bool, bool]:
        long_name = await agent_auth.check_login(agents, "a" * 100_000, "x")
        good = await agent_auth.check_login(agents, "anna", "richtig-und-lang")
        return long_name, good

    monkeypatch.setattr(agent_auth, "verify_password", spy)
    long_name, good = asyncio.run(scenario())
    assert not long_name and good
    assert seen and all(name.startswith("scrypt") for name in seen)


def test_console_cookies_are_secure_by_default_except_on_plain_http_loopback() -> None:
    """Issue 12, finding 14: before, secure_cookie was off by default everywhere."""
    from voicebot.config import ConsoleSettings, Settings
    from voicebot.web.agent_auth import cookie_secure

    assert cookie_secure(Settings(host="0.0.0.0"))
    assert cookie_secure(Settings(host="10.1.2.3"))
    assert not cookie_secure(Settings(host="127.0.0.1"))  # make run, the browser tests
    assert cookie_secure(Settings(host="127.0.0.1", console=ConsoleSettings(secure_cookie="true")))
    off = ConsoleSettings(secure_cookie="false")
    assert not cookie_secure(Settings(host="0.0.0.0", console=off))
    loaded = load_settings(None, env={"VOICEBOT_CONSOLE_SECURE_COOKIE": "true"})
    assert cookie_secure(loaded)
