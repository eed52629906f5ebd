"""Authentication on /media/twilio (issue 12, findings 2 and 9): on by default, by Twilio
signature, bearer token or start token, compared in constant time without ever raising."""

from __future__ import annotations

import dataclasses
import stat
from pathlib import Path

import aiohttp
import pytest

from tests.unit.test_hostile_streams import closed, media_client, normal_call_works
from tests.unit.test_lifecycle import MEDIA_TOKEN, START, lifecycle, run
from voicebot.config import MediaSettings, Settings, load_settings
from voicebot.errors import ConfigError
from voicebot.protocol.media import twilio
from voicebot.tokens import read_media_token, same_secret, with_media_token
from voicebot.transports.media_auth import check_media_auth, twilio_signature

TWILIO_AUTH_TOKEN = "twilio-auth-token-for-tests"


async def handshake_status(tmp_path: Path, headers: dict[str, str], **media: object) -> int:
    """The HTTP status of the upgrade with these headers (101 when it was accepted)."""
    async with lifecycle(tmp_path, **media) as (calls, _store), media_client(calls) as client:
        try:
            ws = await client.ws_connect("/media/twilio", headers=headers)
        except aiohttp.WSServerHandshakeError as exc:
            return exc.status
        await ws.close()
        return 101


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": "Bearer tökén"},  # non-ASCII: 401, never 500
        {"Authorization": MEDIA_TOKEN},  # not a bearer
        {"X-Twilio-Signature": "forged"},  # signature checked when the auth token is set
    ],
)
def test_a_stream_without_valid_credentials_is_refused_at_the_handshake(
    tmp_path: Path, headers: dict[str, str]
) -> None:
    status = run_status(tmp_path, headers, twilio_auth_token=TWILIO_AUTH_TOKEN)
    assert status == 401


def run_status(tmp_path: Path, headers: dict[str, str], **media: object) -> int:
    result: list[int] = []

    async def scenario() -> None:
        result.append(await handshake_status(tmp_path, headers, **media))

    run(scenario)
    return result[0]


def test_without_a_media_token_configured_nothing_gets_in(tmp_path: Path) -> None:
    assert run_status(tmp_path, {"Authorization": "Bearer "}, token=None) == 401


def test_the_bearer_media_token_opens_a_stream(tmp_path: Path) -> None:
    assert run_status(tmp_path, {"Authorization": f"Bearer {MEDIA_TOKEN}"}) == 101


def test_a_valid_twilio_signature_opens_a_stream(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with lifecycle(tmp_path, twilio_auth_token=TWILIO_AUTH_TOKEN) as (calls, store):
            async with media_client(calls) as client:
                url = f"wss://{client.host}:{client.port}/media/twilio"
                headers = {"X-Twilio-Signature": twilio_signature(TWILIO_AUTH_TOKEN, url)}
                ws = await client.ws_connect("/media/twilio", headers=headers)
                for text in [*START, twilio.stop_message("MZ1", "CA1")]:
                    await ws.send_str(text)
                assert (await closed(ws))[0] == 1000
            assert calls.metrics["calls_started"] == 1

    run(scenario)


def test_the_signature_is_over_the_configured_public_url(tmp_path: Path) -> None:
    public = "wss://hotline.example.org/media/twilio"
    headers = {"X-Twilio-Signature": twilio_signature(TWILIO_AUTH_TOKEN, public)}
    media = {"twilio_auth_token": TWILIO_AUTH_TOKEN, "public_url": public}
    assert run_status(tmp_path, headers, **media) == 101
    wrong = {"X-Twilio-Signature": twilio_signature(TWILIO_AUTH_TOKEN, public + "x")}
    assert run_status(tmp_path, wrong, **media) == 401


def test_twilio_signature_is_hmac_sha1_of_url_and_sorted_params() -> None:
    # Twilio's documented example (docs/usage/security): URL plus POST params sorted by name
    url = "https://example.com/myapp.php?foo=1&bar=2"
    params = {"Digits": "1234", "CallSid": "CA1234567890ABCDE", "To": "+18005551212"}
    import base64
    import hashlib
    import hmac

    data = url + "CallSidCA1234567890ABCDE" + "Digits1234" + "To+18005551212"
    digest = hmac.new(b"12345", data.encode(), hashlib.sha1).digest()
    assert twilio_signature("12345", url, params) == base64.b64encode(digest).decode()


def start_with(token: str | None) -> str:
    params = {"token": token} if token is not None else {}
    return twilio.start_message("MZ1", "CA1", custom_parameters=params)


def test_a_twilio_stream_may_prove_itself_with_the_start_token(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with lifecycle(tmp_path) as (calls, store):
            async with media_client(calls) as client:
                # Twilio signs every upgrade; without its auth token the start must carry ours
                ws = await client.ws_connect("/media/twilio", headers={"X-Twilio-Signature": "x"})
                await ws.send_str(start_with(MEDIA_TOKEN))
                await ws.send_str(twilio.stop_message("MZ1", "CA1"))
                assert (await closed(ws))[0] == 1000
            found = await store.find_call("CA1")
            assert found is not None and found.end_reason == "hangup"

    run(scenario)


@pytest.mark.parametrize("token", [None, "wrong", "tökén", "\ud800"])
def test_a_wrong_start_token_closes_with_1008_before_any_call(
    tmp_path: Path, token: str | None
) -> None:
    async def scenario() -> None:
        async with lifecycle(tmp_path) as (calls, store):
            async with media_client(calls) as client:
                ws = await client.ws_connect("/media/twilio", headers={"X-Twilio-Signature": "x"})
                await ws.send_str(start_with(token))
                code, reason = await closed(ws)
            assert code == 1008 and "token" in reason
            assert calls.metrics["calls_started"] == 0 and await store.find_call("CA1") is None
            await normal_call_works(calls, store)

    run(scenario)


@pytest.mark.parametrize("given", ["tökén", "\ud800", "a\x00", "", None, b"\xff"])
def test_same_secret_never_raises(given: str | bytes | None) -> None:
    assert same_secret(given, "secret") is False
    assert same_secret("secret", "secret") is True
    assert same_secret("tökén", "tökén") is True


def test_media_auth_none_is_refused_off_loopback() -> None:
    off = Settings(host="0.0.0.0", media=MediaSettings(auth="none"))
    with pytest.raises(ConfigError, match="loopback"):
        check_media_auth(off)
    check_media_auth(dataclasses.replace(off, host="127.0.0.1"))
    check_media_auth(dataclasses.replace(off, host="::1"))
    with pytest.raises(ConfigError):
        check_media_auth(Settings(media=MediaSettings(auth="open")))


def test_media_auth_none_on_loopback_lets_streams_in(tmp_path: Path) -> None:
    assert run_status(tmp_path, {}, auth="none", token=None) == 101


def test_a_missing_media_token_is_generated_once_with_mode_0600(tmp_path: Path) -> None:
    settings = load_settings(env={"VOICEBOT_DATA_DIR": str(tmp_path / "var")})
    assert read_media_token(settings) is None
    token = with_media_token(settings).media.token
    assert token and len(token) >= 32
    path = tmp_path / "var" / "media-token"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert with_media_token(settings).media.token == token == read_media_token(settings)
    configured = load_settings(
        env={"VOICEBOT_DATA_DIR": str(tmp_path), "VOICEBOT_MEDIA_TOKEN": "t"}
    )
    assert with_media_token(configured).media.token == "t"


def test_voicebot_call_works_out_of_the_box_with_the_generated_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from voicebot.caller import place_call

    monkeypatch.delenv("VOICEBOT_MEDIA_TOKEN", raising=False)
    # nothing configured: `voicebot serve` generates the token, `voicebot call` reads it
    unconfigured = load_settings(env={"VOICEBOT_DATA_DIR": str(tmp_path / "var")})
    served = with_media_token(unconfigured)

    async def scenario() -> None:
        async with lifecycle(tmp_path, token=served.media.token) as (calls, store):
            async with media_client(calls) as client:
                url = f"ws://{client.host}:{client.port}/media/twilio"
                with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                    await place_call(url, [], wait_for_greeting=False)  # no token: 401
                assert refused.value.status == 401
                token = read_media_token(unconfigured)  # what `voicebot call` sends
                result = await place_call(url, [], wait_for_greeting=False, media_token=token)
            assert calls.metrics["calls_started"] == 1
            found = await store.find_call(result.platform_call_id)
            assert found is not None and found.end_reason == "hangup"

    run(scenario)
