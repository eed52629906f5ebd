"""Today's date in Leverkusen, for the forms that check dates (appointment, Sperrmüll).

VOICEBOT_TODAY=YYYY-MM-DD (settings.py) makes the action server act as if it were that day.
It exists for voice tests and for trainers who test date rules ("in drei Wochen", the
Sperrmüll lead time) by voice on a fixed day; production leaves it unset. An unreadable value
is an error (SettingsError naming the variable), never silently the real date.
"""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .settings import Settings, settings


def today(config: Settings | None = None) -> datetime.date:
    """Today in Leverkusen (Europe/Berlin), or VOICEBOT_TODAY when it is set."""
    fixed = (config or settings()).fixed_today
    if fixed is not None:
        return fixed
    try:
        return datetime.datetime.now(ZoneInfo("Europe/Berlin")).date()
    except ZoneInfoNotFoundError:  # no time zone data on this machine: the server's date
        return datetime.date.today()
