"""Dates as callers say them ("am zwölften März", "12.3.", "nächsten Dienstag", "in drei Tagen")
and as the bot says them back ("Dienstag, den zwölften März")."""

import datetime
import re

from ._text import fold
from .numbers import ordinal_to_words, parse_number_word, parse_ordinal_word, year_to_words

MONTH_NAMES = (
    "Januar",
    "Februar",
    "März",
    "April",
    "Mai",
    "Juni",
    "Juli",
    "August",
    "September",
    "Oktober",
    "November",
    "Dezember",
)
WEEKDAY_NAMES = ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag")

# Folded month words -> 1..12: full names, "Juno"/"Julei" (said to tell June and July apart),
# the Austrian forms and the abbreviations Whisper writes now and then.
_MONTHS: dict[str, int] = {fold(name): n for n, name in enumerate(MONTH_NAMES, 1)} | {
    "jaenner": 1,
    "feber": 2,
    "marz": 3,
    "juno": 6,
    "julei": 7,
    "jan": 1,
    "feb": 2,
    "mrz": 3,
    "apr": 4,
    "jun": 6,
    "jul": 7,
    "aug": 8,
    "sep": 9,
    "sept": 9,
    "okt": 10,
    "nov": 11,
    "dez": 12,
}
_WEEKDAYS: dict[str, int] = {fold(name): n for n, name in enumerate(WEEKDAY_NAMES)}
_WEEKDAYS |= {day + "s": n for day, n in _WEEKDAYS.items()} | {"sonnabend": 5}
_RELATIVE_DAYS = {"vorgestern": -2, "gestern": -1, "heute": 0, "morgen": 1, "uebermorgen": 2}
_ONE = {"ein", "eine", "einer", "einem", "einen"}
_DAY_WORDS = {"tag": 1, "tage": 1, "tagen": 1, "woche": 7, "wochen": 7}

_ISO = re.compile(r"(?<!\d)(\d{4})-(\d{1,2})-(\d{1,2})(?!\d)")
# "12.3.", "12.03.2027", "12. 3. 27": month 1..12 so that a time like "14.30." never matches.
_NUMERIC = re.compile(
    r"(?<![\d:.])(0?[1-9]|[12]\d|3[01])\.\s?(0?[1-9]|1[0-2])\.(?:\s?(\d{4}|\d{2})(?!\d))?"
)
_DATE_TOKEN = re.compile(r"\d+\.?|[^\W\d_]+")


def _with_year(
    today: datetime.date, month: int, day: int, year: int | None
) -> datetime.date | None:
    """The date; without a year the next one from today on (a passed date means next year)."""
    try:
        if year is not None:
            return datetime.date(year if year >= 100 else 2000 + year, month, day)
        this_year = datetime.date(today.year, month, day)
        if this_year >= today:
            return this_year
    except ValueError:
        if year is not None:
            return None
    try:
        return datetime.date(today.year + 1, month, day)
    except ValueError:
        return None


def _day_value(tok: str) -> int | None:
    """1..31 from "12", "12." or "zwölften"."""
    value = int(tok.rstrip(".")) if tok.rstrip(".").isdigit() else parse_ordinal_word(tok)
    return value if value is not None and 1 <= value <= 31 else None


def _year_value(toks: list[str], i: int) -> tuple[int | None, int]:
    """A year at toks[i] ("2027", "zweitausendsiebenundzwanzig", also split in two words)."""
    for width in (2, 1):
        if i + width > len(toks):
            continue
        words = toks[i : i + width]
        if width == 1 and words[0].isdigit() and len(words[0]) == 4:
            return int(words[0]), 1
        value = parse_number_word("".join(words)) if all(w.isalpha() for w in words) else None
        if value is not None and 1900 <= value <= 2199:
            return value, width
    return None, 0


def _spoken_date(toks: list[str], today: datetime.date) -> datetime.date | None | bool:
    """Day and month in words or with a month name; False when there is none in `toks`."""
    for i, tok in enumerate(toks[:-1]):
        day = _day_value(tok)
        if day is None:
            continue
        following = toks[i + 1]
        month = _MONTHS.get(following)
        if month is None and not tok[0].isdigit():
            ordinal = parse_ordinal_word(following)  # "am zwölften dritten"
            month = ordinal if ordinal is not None and ordinal <= 12 else None
        if month is None:
            continue
        year, _ = _year_value(toks, i + 2)
        return _with_year(today, month, day, year)
    return False


def _day_of_month(toks: list[str], today: datetime.date) -> datetime.date | None | bool:
    """ "am zwölften" / "den 12.": that day this month, or next month if it has passed."""
    for i in range(1, len(toks)):
        tok, after = toks[i], toks[i + 1] if i + 1 < len(toks) else ""
        if toks[i - 1] not in ("am", "den", "zum", "ab", "bis") or after == "mal":
            continue
        if tok[0].isdigit() and not tok.endswith("."):
            continue  # "am 12" could be a time; "am 12." and "am zwölften" are days
        day = _day_value(tok)
        if day is None:
            continue
        for month_offset in (0, 1):
            month0 = today.month - 1 + month_offset
            try:
                candidate = datetime.date(today.year + month0 // 12, month0 % 12 + 1, day)
            except ValueError:
                continue
            if candidate >= today:
                return candidate
        return None
    return False


def _count(tok: str) -> int | None:
    """A small count: "drei", "3", "einer"."""
    if tok in _ONE:
        return 1
    return int(tok) if tok.isdigit() else parse_number_word(tok)


def _in_days(toks: list[str]) -> int | None:
    """Days in "in drei Tagen" / "in zwei Wochen" / "in einer Woche", else None."""
    for i in range(len(toks) - 2):
        if toks[i] == "in" and toks[i + 2] in _DAY_WORDS:
            count = _count(toks[i + 1])
            if count is not None:
                return count * _DAY_WORDS[toks[i + 2]]
    return None


def _weekday(toks: list[str], today: datetime.date) -> datetime.date | None:
    """ "am Dienstag" / "nächsten Dienstag": the next one after today (never today);
    "übernächsten Dienstag" a week later; "Dienstag in zwei Wochen" / "nächste Woche Dienstag":
    the Tuesday of the calendar week two (one) weeks from this one."""
    days = [i for i, tok in enumerate(toks) if tok in _WEEKDAYS]
    if not days:
        return None
    weekday = _WEEKDAYS[toks[days[0]]]
    weeks = _in_days(toks)
    if weeks is None:
        for i, tok in enumerate(toks[:-1]):
            if toks[i + 1] == "woche" and tok in ("naechste", "naechsten", "kommende"):
                weeks = 7
            elif toks[i + 1] == "woche" and tok in ("uebernaechste", "uebernaechsten"):
                weeks = 14
    if weeks is not None and weeks % 7 == 0:
        monday = today - datetime.timedelta(days=today.weekday()) + datetime.timedelta(days=weeks)
        return monday + datetime.timedelta(days=weekday)
    ahead = (weekday - today.weekday()) % 7 or 7
    if days[0] > 0 and toks[days[0] - 1] in ("uebernaechsten", "uebernaechster"):
        ahead += 7
    return today + datetime.timedelta(days=ahead)


def parse_date(text: str, today: datetime.date) -> datetime.date | None:
    """The date a caller means, seen from `today`, or None.

    An explicit date wins over a weekday in the same sentence; a day and month without a year
    that has passed this year is next year's; an impossible date (31. Februar) is None.
    "heute morgen" (this morning) is today, "guten Morgen" is no date.
    """
    folded = fold(text)
    if match := _ISO.search(folded):
        year, month, day = (int(g) for g in match.groups())
        return _with_year(today, month, day, year)
    if match := _NUMERIC.search(folded):
        day, month = int(match.group(1)), int(match.group(2))
        return _with_year(today, month, day, int(match.group(3)) if match.group(3) else None)
    toks = _DATE_TOKEN.findall(folded)
    for finder in (_spoken_date, _day_of_month):
        found = finder(toks, today)
        if found is not False:
            return found if isinstance(found, datetime.date) else None
    weekday = _weekday(toks, today)
    if weekday is not None:
        return weekday
    words = [tok for i, tok in enumerate(toks) if not (i and toks[i - 1] == "guten")]
    relative = next((_RELATIVE_DAYS[w] for w in words if w in _RELATIVE_DAYS), None)
    if "heute" in words:
        relative = 0
    offset = _in_days(toks)
    if relative is None and offset is None:
        return None
    return today + datetime.timedelta(days=(relative or 0) + (offset or 0))


def speak_date(date: datetime.date, *, weekday: bool = True, year: bool = False) -> str:
    """The date as said on the phone, in words for the TTS: "Dienstag, den zwölften März"."""
    spoken = f"{ordinal_to_words(date.day)} {MONTH_NAMES[date.month - 1]}"
    if weekday:
        spoken = f"{WEEKDAY_NAMES[date.weekday()]}, den {spoken}"
    if year:
        spoken += f" {year_to_words(date.year)}"
    return spoken
