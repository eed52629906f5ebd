"""`[rasa] tracker_store_url` / `lock_store_url` as Rasa endpoints (voicebot/rasa_stores.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from voicebot.config import RasaSettings
from voicebot.errors import ConfigError
from voicebot.rasa_stores import endpoints, lock_store, tracker_store, write_endpoints

PROJECT = Path(__file__).resolve().parents[2] / "rasa_project"


@pytest.mark.parametrize(
    ("url", "store", "password"),
    [
        (
            "postgresql://rasa:geheim@db.intern:5433/rasa",
            {"type": "SQL", "dialect": "postgresql", "db": "rasa", "url": "db.intern",
             "port": 5433, "username": "rasa", "password": "${VOICEBOT_RASA_TRACKER_PASSWORD}"},
            "geheim",
        ),
        (
            "postgresql://rasa@/rasa?host=/run/postgresql",
            {"type": "SQL", "dialect": "postgresql", "db": "rasa", "username": "rasa",
             "query": {"host": "/run/postgresql"}},
            None,
        ),
    ],
)  # fmt: skip
def test_tracker_store(url: str, store: dict[str, object], password: str | None) -> None:
    assert tracker_store(url) == (store, password)


def test_lock_store() -> None:
    assert lock_store("redis://:pw%21@redis:6380/2") == (
        {"type": "redis", "url": "redis", "port": 6380, "db": 2, "key_prefix": "voicebot",
         "password": "${VOICEBOT_RASA_LOCK_PASSWORD}"},
        "pw!",
    )  # fmt: skip
    assert lock_store("redis://127.0.0.1")[0]["port"] == 6379


@pytest.mark.parametrize("url", ["mysql://a@b/c", "postgresql://a@b", "sqlite:///x.db"])
def test_bad_tracker_store_urls_are_clear_errors(url: str) -> None:
    with pytest.raises(ConfigError, match="tracker_store_url"):
        tracker_store(url)


@pytest.mark.parametrize("url", ["redis+sentinel://x", "redis:///0", "redis://h/zero"])
def test_bad_lock_store_urls_are_clear_errors(url: str) -> None:
    with pytest.raises(ConfigError, match="lock_store_url"):
        lock_store(url)


def test_endpoints_keep_the_project_and_no_password(tmp_path: Path) -> None:
    rasa = RasaSettings(
        project_dir=PROJECT,
        tracker_store_url="postgresql://rasa:geheim@db/rasa",
        lock_store_url="redis://redis:6379/0",
    )
    path, env = write_endpoints(rasa, tmp_path)
    text = Path(path).read_text()
    assert "geheim" not in text and env == {"VOICEBOT_RASA_TRACKER_PASSWORD": "geheim"}
    assert "url: ${VOICEBOT_ACTIONS_URL}\n" in text  # unquoted: Rasa substitutes it
    assert Path(path).stat().st_mode & 0o777 == 0o600
    config = yaml.safe_load(text)
    assert config["tracker_store"]["dialect"] == "postgresql"
    assert config["lock_store"]["type"] == "redis"
    assert write_endpoints(RasaSettings(project_dir=PROJECT), tmp_path) == ("endpoints.yml", {})
    assert "tracker_store" in yaml.safe_load(endpoints((PROJECT / "endpoints.yml").read_text(),
                                                       RasaSettings())[0])  # fmt: skip
