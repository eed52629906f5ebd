"""Secrets (issue 12, findings 10 and 14): no public Rasa token, placeholders refused, the
transfer hook's own key, only the action server's token on POST /api/requests, masked config."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from voicebot.config import (
    HandoffSettings,
    MediaSettings,
    RasaSettings,
    Settings,
    describe_settings,
    load_settings,
)
from voicebot.errors import ConfigError
from voicebot.secrets_check import check_secrets
from voicebot.tokens import with_internal_tokens

GOOD = "x" * 8 + "-random-enough-token-1234"


def test_the_rasa_token_is_not_a_public_constant_and_is_generated_private(tmp_path: Path) -> None:
    assert RasaSettings().token is None
    data = tmp_path / "var"
    first = with_internal_tokens(Settings(data_dir=data))
    again = with_internal_tokens(Settings(data_dir=data))
    assert first.rasa.token and len(first.rasa.token) >= 32
    assert first.rasa.token == again.rasa.token  # generated once, then read
    assert first.rasa.actions_token and first.rasa.actions_token != first.rasa.token
    for name in ("rasa-token", "actions-token"):
        assert stat.S_IMODE((data / name).stat().st_mode) == 0o600
    assert stat.S_IMODE(data.stat().st_mode) == 0o700


def test_voicebot_config_masks_the_rasa_and_action_tokens() -> None:
    env = {"VOICEBOT_RASA_TOKEN": "rasa-secret-value", "VOICEBOT_RASA_ACTIONS_TOKEN": "act-secret"}
    shown = {name: value for name, _, value in describe_settings(load_settings(None, env=env))}
    assert shown["VOICEBOT_RASA_TOKEN"] == "***"
    assert shown["VOICEBOT_RASA_ACTIONS_TOKEN"] == "***"
    assert "rasa-secret-value" not in str(shown)


@pytest.mark.parametrize(
    "settings",
    [
        Settings(api_token="change-me"),
        Settings(api_token="short-token"),
        Settings(media=MediaSettings(token="change-me")),
        Settings(media=MediaSettings(token="short-media-token")),
        Settings(media=MediaSettings(twilio_auth_token="changeme")),
        Settings(rasa=RasaSettings(token="voicebot-local-rasa-token")),
        Settings(handoff=HandoffSettings(webhook_secret="change-me")),
        Settings(handoff=HandoffSettings(transfer_hook_url="http://pbx/hook")),
    ],
)
def test_placeholder_short_or_missing_secrets_are_refused_at_start(settings: Settings) -> None:
    with pytest.raises(ConfigError, match="refusing to start"):
        check_secrets(settings)


def test_good_secrets_pass() -> None:
    handoff = HandoffSettings(
        transfer_hook_url="http://pbx/hook", transfer_hook_secret="hook-" + GOOD
    )
    media = MediaSettings(token="media-" + GOOD, twilio_auth_token="0123456789abcdef" * 2)
    check_secrets(
        Settings(api_token=GOOD, rasa=RasaSettings(token=GOOD), handoff=handoff, media=media)
    )


def test_the_media_token_is_named_when_refused() -> None:
    with pytest.raises(ConfigError, match="VOICEBOT_MEDIA_TOKEN is shorter than 24"):
        check_secrets(Settings(api_token=GOOD, media=MediaSettings(token="media-123")))


def test_the_crm_secret_is_not_reused_for_the_transfer_hook() -> None:
    """Before: transfer_hook_secret fell back to webhook_secret; now it must be its own."""
    handoff = HandoffSettings(transfer_hook_url="http://pbx/hook", webhook_secret="crm-" + GOOD)
    with pytest.raises(ConfigError, match="TRANSFER_HOOK_SECRET"):
        check_secrets(Settings(api_token=GOOD, handoff=handoff))
    source = Path("voicebot/handoff/service.py").read_text()
    assert "transfer_hook_secret or cfg.webhook_secret" not in source


def test_the_action_server_token_may_only_store_requests(tmp_path: Path) -> None:
    """The action server's own token works on POST /api/requests and nowhere else."""
    from aiohttp import web
    from aiohttp.test_utils import TestClient

    from tests.unit.test_requests_api import SPERRMUELL, run_api
    from voicebot.gateway import Gateway

    actions = "actions-" + GOOD
    settings = Settings(data_dir=tmp_path, api_token=GOOD, rasa=RasaSettings(actions_token=actions))
    auth = {"Authorization": f"Bearer {actions}"}

    async def scenario(client: TestClient[web.Request, web.Application], _: Gateway) -> None:
        stored = await client.post("/api/requests", json=SPERRMUELL, headers=auth)
        assert stored.status == 201, await stored.text()
        listed = await client.get("/api/requests", headers=auth)
        assert listed.status == 401
        one = await client.get(f"/api/requests/{(await stored.json())['id']}", headers=auth)
        assert one.status == 401

    run_api(tmp_path, scenario, settings)
