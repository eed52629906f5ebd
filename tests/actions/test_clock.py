"""actions/clock.py and actions/settings.py: VOICEBOT_TODAY pins the forms' date for voice
tests; a bad value is an error naming the variable, never silently the real date."""

from __future__ import annotations

import datetime

import pytest
from actions import clock
from actions.settings import SettingsError, load_settings

from tests.actions.helpers import configured


def test_voicebot_today_fixes_the_forms_date_and_a_bad_value_is_refused() -> None:
    pinned = load_settings({"VOICEBOT_TODAY": "2026-03-12"})
    assert clock.today(pinned) == datetime.date(2026, 3, 12)
    with pytest.raises(SettingsError, match="VOICEBOT_TODAY"):
        load_settings({"VOICEBOT_TODAY": "12.03.2026"})
    assert abs((clock.today(load_settings({})) - datetime.date.today()).days) <= 1


def test_the_settings_are_read_from_the_environment_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from actions.settings import settings, use_settings

    monkeypatch.setenv("VOICEBOT_GATEWAY_URL", "http://gateway:8080/")
    monkeypatch.setenv("VOICEBOT_API_TOKEN", "secret")
    use_settings(None)
    try:
        first = settings()
        monkeypatch.setenv("VOICEBOT_GATEWAY_URL", "http://elsewhere")
        assert settings() is first
        assert (first.gateway_url, first.api_token) == ("http://gateway:8080", "secret")
    finally:
        use_settings(None)
    with configured(fixed_today=datetime.date(2027, 3, 5)):
        assert clock.today() == datetime.date(2027, 3, 5)


def test_a_bad_value_fails_where_the_settings_are_used(monkeypatch: pytest.MonkeyPatch) -> None:
    """Not at import: the first action that needs the settings raises, naming the variable."""
    from actions.settings import settings, use_settings

    monkeypatch.setenv("VOICEBOT_TODAY", "not a date")
    use_settings(None)
    try:
        with pytest.raises(SettingsError, match="VOICEBOT_TODAY"):
            settings()
    finally:
        use_settings(None)
