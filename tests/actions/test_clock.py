"""actions/clock.py: VOICEBOT_TODAY pins the forms' date for voice tests."""

from __future__ import annotations

import pytest


def test_voicebot_today_fixes_the_forms_date_and_a_bad_value_stops_the_server(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import datetime
    import importlib

    import actions.clock as clock

    monkeypatch.setenv("VOICEBOT_TODAY", "2026-03-12")
    assert importlib.reload(clock).today() == datetime.date(2026, 3, 12)
    monkeypatch.setenv("VOICEBOT_TODAY", "12.03.2026")
    with pytest.raises(SystemExit, match="VOICEBOT_TODAY"):
        importlib.reload(clock)
    monkeypatch.delenv("VOICEBOT_TODAY")
    assert abs((importlib.reload(clock).today() - datetime.date.today()).days) <= 1
