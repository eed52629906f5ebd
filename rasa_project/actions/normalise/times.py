"""Times of day as callers say them ("halb drei", "viertel vor elf", "14:30", "vierzehn Uhr
dreißig") and as the bot says them back ("vierzehn Uhr dreißig")."""

import datetime
import re

from ._text import fold
from .numbers import number_to_words, parse_number_word

_COLON = re.compile(r"(?<![\d:])([01]?\d|2[0-4]):([0-5]\d)(?!\d)")
# "14.30" is a time only with "Uhr" after it or "um"/"gegen"/... before it (else: a date?).
_DOTTED = re.compile(
    r"(?:\b(?:um|gegen|ab|bis|zwischen)\s+([01]?\d|2[0-4])\.([0-5]\d)(?![\d.]\d))"
    r"|(?:(?<![\d.])([01]?\d|2[0-4])\.([0-5]\d)\s*uhr)"
)
_TIME_TOKEN = re.compile(r"\d+|[^\W\d_]+")
_PM = {"nachmittags", "nachmittag", "abends", "abend", "mittags", "mittag"}
_NIGHT = {"nachts", "nacht"}
_BEFORE_HOUR = {"um", "gegen", "ab", "bis", "zwischen"}


def _value(tok: str) -> int | None:
    """A number token: digits or one German number word ("ein" included: "ein Uhr")."""
    return int(tok) if tok.isdigit() else parse_number_word(tok)


def _hour(toks: list[str], i: int) -> int | None:
    """The hour 0..24 at toks[i], or None."""
    value = _value(toks[i]) if i < len(toks) else None
    return value if value is not None and value <= 24 else None


def _hour_before(hour: int) -> int:
    """The hour before a spoken clock hour: "halb drei" is 2:30, "halb eins" is 12:30."""
    return hour - 1 if hour > 1 else 12


def _minus(hour: int, minute: int, minutes: int) -> tuple[int, int]:
    """hour:minute minus `minutes` on a 12-hour face (12:05 minus 10 is 11:55, 1:00 is 12:..)."""
    total = (hour * 60 + minute - minutes) % (24 * 60)
    h, m = divmod(total, 60)
    return (h or 12) if hour <= 12 else h, m


def _relative(toks: list[str]) -> tuple[int, int] | None:
    """The colloquial forms: "[zehn|viertel] nach/vor [halb] drei", "halb drei",
    "dreiviertel elf" (10:45), "viertel elf" (10:15)."""
    for i, tok in enumerate(toks):
        nxt = toks[i + 1] if i + 1 < len(toks) else ""
        if tok in ("nach", "vor") and i > 0:
            minutes = 15 if toks[i - 1] == "viertel" else _value(toks[i - 1])
            half = nxt == "halb"
            hour = _hour(toks, i + 2 if half else i + 1)
            if minutes is None or not 0 < minutes < 30 or not hour:
                continue
            base = (_hour_before(hour), 30) if half else (hour, 0)
            if tok == "nach":
                return base[0], base[1] + minutes
            return _minus(base[0], base[1], minutes)
        if tok == "halb" and (hour := _hour(toks, i + 1)):
            return _hour_before(hour), 30
        three_quarter = tok == "dreiviertel" or (tok == "viertel" and i and toks[i - 1] == "drei")
        if tok in ("viertel", "dreiviertel") and (hour := _hour(toks, i + 1)):
            return _hour_before(hour), 45 if three_quarter else 15
    return None


def _with_uhr(toks: list[str]) -> tuple[int, int] | None:
    """ "14 Uhr", "vierzehn Uhr dreißig", "neun Uhr fünf"; "um vierzehn [dreißig]"."""
    for i, tok in enumerate(toks):
        if tok == "uhr" and i > 0 and (hour := _hour(toks, i - 1)) is not None:
            minute = _value(toks[i + 1]) if i + 1 < len(toks) else None
            return hour, minute if minute is not None and minute < 60 else 0
    for i, tok in enumerate(toks[:-1]):
        if tok in _BEFORE_HOUR and (hour := _hour(toks, i + 1)) is not None:
            minute = _value(toks[i + 2]) if i + 2 < len(toks) else None
            return hour, minute if minute is not None and minute < 60 else 0
    return None


def parse_time(text: str) -> datetime.time | None:
    """The clock time in `text`, or None.

    Colloquial forms are read on a 12-hour face as said ("halb drei" -> 2:30, "halb eins" ->
    12:30); "nachmittags"/"abends"/"mittags" move hours before 12 to the afternoon, "nachts"
    makes 12 midnight. `office_hours_time` applies the office rule to the bare hours.
    """
    folded = fold(text)
    toks = _TIME_TOKEN.findall(folded)
    found: tuple[int, int] | None = None
    if match := _COLON.search(folded):
        found = int(match.group(1)), int(match.group(2))
    elif match := _DOTTED.search(folded):
        groups = [int(g) for g in match.groups() if g is not None]
        found = groups[0], groups[1]
    else:
        found = _relative(toks) or _with_uhr(toks)
    if found is None:
        if "mitternacht" in toks:
            return datetime.time(0, 0)
        if "mittag" in toks or "mittags" in toks:
            return datetime.time(12, 0)
        return None
    hour, minute = found
    if any(tok in _PM for tok in toks) and hour < 12:
        hour += 12
    elif any(tok in _NIGHT or tok == "mitternacht" for tok in toks) and hour == 12:
        hour = 0
    if hour == 24 and minute == 0:
        hour = 0
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        return None
    return datetime.time(hour, minute)


def office_hours_time(time: datetime.time) -> datetime.time:
    """Office-hours reading of a time: hours 1 to 6 mean the afternoon (13 to 18).

    Nobody books a city appointment between 1 and 6 at night, so "halb drei" is 14:30; hours
    7 to 12 stay in the morning/noon and 0 or 13..23 are already unambiguous.
    """
    if 1 <= time.hour <= 6:
        return time.replace(hour=time.hour + 12)
    return time


def speak_time(time: datetime.time) -> str:
    """The time as said on the phone: 14:30 -> "vierzehn Uhr dreißig", 9:00 -> "neun Uhr"."""
    hour = "ein" if time.hour == 1 else number_to_words(time.hour)
    return f"{hour} Uhr" + (f" {number_to_words(time.minute)}" if time.minute else "")
