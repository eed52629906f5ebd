"""Settings: file values, VOICEBOT_* overrides, clear errors for bad values."""

from __future__ import annotations

from pathlib import Path

import pytest

from voicebot.config import describe_settings, load_settings
from voicebot.errors import ConfigError


def test_defaults_work_offline_without_a_file(tmp_path: Path) -> None:
    settings = load_settings(None, env={})
    assert settings.port == 8080 and settings.asr.compute_type == "int8"
    assert settings.db_path == Path("var/voicebot.db")
    assert settings.api_token is None


def test_file_then_environment_override(tmp_path: Path) -> None:
    path = tmp_path / "voicebot.toml"
    path.write_text(
        'port = 9000\napi_token = "file"\n[asr]\ncpu_threads = 4\n[vad]\nthreshold = 0.6\n'
    )
    env = {"VOICEBOT_ASR_CPU_THREADS": "1", "VOICEBOT_API_TOKEN": "env"}
    settings = load_settings(path, env=env)
    assert settings.port == 9000
    assert settings.asr.cpu_threads == 1 and settings.api_token == "env"
    assert settings.vad.threshold == pytest.approx(0.6)


def test_config_file_from_environment(tmp_path: Path) -> None:
    path = tmp_path / "other.toml"
    path.write_text("[tts]\nespeak_speed = 130\n")
    settings = load_settings(None, env={"VOICEBOT_CONFIG": str(path)})
    assert settings.tts.espeak_speed == 130


@pytest.mark.parametrize(
    ("content", "env", "needle"),
    [
        ("port = 'x'\n", {}, "port"),
        ("", {"VOICEBOT_MAX_CALLS": "many"}, "VOICEBOT_MAX_CALLS"),
        ("[asr]\nbogus = 1\n", {}, "bogus"),
        ("port = \n", {}, "not valid TOML"),
        ("asr = 3\n", {}, "[asr] must be a table"),
    ],
)
def test_bad_values_name_the_setting(
    tmp_path: Path, content: str, env: dict[str, str], needle: str
) -> None:
    path = tmp_path / "voicebot.toml"
    path.write_text(content)
    with pytest.raises(ConfigError) as err:
        load_settings(path, env=env)
    assert needle in str(err.value)


def test_missing_config_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(None, env={"VOICEBOT_CONFIG": str(tmp_path / "nope.toml")})


def test_describe_lists_every_setting_with_its_variable_and_hides_the_token() -> None:
    rows = describe_settings(load_settings(None, env={"VOICEBOT_API_TOKEN": "secret"}))
    names = {env for env, _, _ in rows}
    assert {"VOICEBOT_API_TOKEN", "VOICEBOT_ASR_MODEL_PATH", "VOICEBOT_RASA_URL"} <= names
    assert all("secret" not in value for _, _, value in rows)
