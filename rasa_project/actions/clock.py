"""Today's date in Leverkusen, for the forms that check dates (appointment, Sperrmüll).

VOICEBOT_TODAY=YYYY-MM-DD makes the action server act as if it were that day. It exists for
voice tests and for trainers who test date rules ("in drei Wochen", the Sperrmüll lead time)
by voice on a fixed date; production leaves it unset. An unreadable value stops the action
server at import with a message, instead of silently using the real date.
"""

from __future__ import annotations

import datetime
import logging
import os
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

log = logging.getLogger(__name__)

TODAY_ENV = "VOICEBOT_TODAY"


def _fixed_today(value: str) -> datetime.date | None:
    if not value.strip():
        return None
    try:
        fixed = datetime.date.fromisoformat(value.strip())
    except ValueError as exc:
        raise SystemExit(f"{TODAY_ENV}={value!r} is not a date like 2026-03-12: {exc}") from exc
    log.warning("%s is set: the forms act as if today were %s", TODAY_ENV, fixed)
    return fixed


FIXED_TODAY = _fixed_today(os.environ.get(TODAY_ENV, ""))


def today() -> datetime.date:
    """Today in Leverkusen (Europe/Berlin), or VOICEBOT_TODAY when it is set."""
    if FIXED_TODAY is not None:
        return FIXED_TODAY
    try:
        return datetime.datetime.now(ZoneInfo("Europe/Berlin")).date()
    except ZoneInfoNotFoundError:  # no time zone data on this machine: the server's date
        return datetime.date.today()
