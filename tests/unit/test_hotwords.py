"""Whisper's hot words: the explicit list in rasa_project/hotwords.txt and how it is read."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from voicebot.config import load_settings
from voicebot.errors import ConfigError
from voicebot.services.hotwords import hotwords_path, load_hotwords, parse_hotwords

ROOT = Path(__file__).resolve().parents[2]


def test_comments_blank_lines_and_phrases() -> None:
    text = "# header\n\nBürgerbüro\n  Friedrich-Ebert-Platz   # a phrase\nSperrmüll\nBürgerbüro\n"
    assert parse_hotwords(text) == ["Bürgerbüro", "Friedrich-Ebert-Platz", "Sperrmüll"]
    assert parse_hotwords("Rathaus  am   Markt\n") == ["Rathaus am Markt"]


@pytest.mark.parametrize(
    ("line", "needle"),
    [
        ("x" * 41, "at most 40"),
        ("Bürgerbüro, Standesamt", "not a word or phrase"),
        ("hot_word", "not a word or phrase"),
    ],
)
def test_a_bad_entry_names_the_file_and_line(line: str, needle: str) -> None:
    with pytest.raises(ConfigError, match=needle) as err:
        parse_hotwords(f"# comment\n{line}\n", "list.txt")
    assert "list.txt:2" in str(err.value)


def test_an_overlong_list_is_refused() -> None:
    many = "\n".join(f"Wort{i:03d}" for i in range(120))
    with pytest.raises(ConfigError, match="silently drop"):
        parse_hotwords(many)


def test_missing_file_means_no_hot_words_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        assert load_hotwords(tmp_path / "nope.txt") == []
    assert str(tmp_path / "nope.txt") in caplog.text


def test_unreadable_file_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "hotwords.txt"
    path.write_bytes(b"B\xfcrgerb\xfcro\n")  # Latin-1, not UTF-8
    with pytest.raises(ConfigError, match="cannot read"):
        load_hotwords(path)


def test_path_defaults_to_the_rasa_project_and_is_configurable(tmp_path: Path) -> None:
    assert hotwords_path(load_settings(None, env={})) == Path("rasa_project/hotwords.txt")
    env = {"VOICEBOT_RASA_PROJECT_DIR": str(tmp_path)}
    assert hotwords_path(load_settings(None, env=env)) == tmp_path / "hotwords.txt"
    env = {"VOICEBOT_ASR_HOTWORDS_FILE": str(tmp_path / "mine.txt")}
    assert hotwords_path(load_settings(None, env=env)) == tmp_path / "mine.txt"


def test_the_shipped_list_is_valid_and_starts_with_the_derived_words() -> None:
    words = load_hotwords(ROOT / "rasa_project" / "hotwords.txt")
    # what the old derivation from data/nlu gave, in its order: behaviour did not change
    assert words[:10] == [
        "Menschen", "Bürgerbüro", "Wiederhören", "Roboter", "Eins",
        "Null", "Mitarbeiter", "Öffnungszeiten", "Reisepass", "Auto",
    ]  # fmt: skip
