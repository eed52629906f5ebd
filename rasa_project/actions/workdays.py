"""Working days in Leverkusen: Monday to Friday, except the public holidays of North
Rhine-Westphalia (NRW). Standard library only.

The movable holidays follow from Easter Sunday (Gregorian calendar, computed below), so no
list of dates has to be kept up to date. Not holidays in NRW (and so working days here):
Heilige Drei Könige, Reformationstag, Buß- und Bettag, Rosenmontag, Heiligabend, Silvester.
"""

from __future__ import annotations

import datetime
from functools import lru_cache

ONE_DAY = datetime.timedelta(days=1)


def easter_sunday(year: int) -> datetime.date:
    """Easter Sunday of `year` (Gregorian calendar; the anonymous "Meeus/Jones/Butcher"
    algorithm): 2026 -> 5 April, 2027 -> 28 March."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    leap = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * leap) // 451
    month, day = divmod(h + leap - 7 * m + 114, 31)
    return datetime.date(year, month, day + 1)


@lru_cache(maxsize=64)
def nrw_holidays(year: int) -> dict[datetime.date, str]:
    """The public holidays of NRW in `year`, date -> German name."""
    easter = easter_sunday(year)

    def after_easter(days: int) -> datetime.date:
        return easter + datetime.timedelta(days=days)

    return {
        datetime.date(year, 1, 1): "Neujahr",
        after_easter(-2): "Karfreitag",
        after_easter(1): "Ostermontag",
        datetime.date(year, 5, 1): "Tag der Arbeit",
        after_easter(39): "Christi Himmelfahrt",
        after_easter(50): "Pfingstmontag",
        after_easter(60): "Fronleichnam",
        datetime.date(year, 10, 3): "Tag der Deutschen Einheit",
        datetime.date(year, 11, 1): "Allerheiligen",
        datetime.date(year, 12, 25): "erster Weihnachtstag",
        datetime.date(year, 12, 26): "zweiter Weihnachtstag",
    }


def holiday_name(date: datetime.date) -> str | None:
    """The name of the NRW public holiday on `date`, or None."""
    return nrw_holidays(date.year).get(date)


def is_working_day(date: datetime.date) -> bool:
    """Monday to Friday and not an NRW public holiday."""
    return date.weekday() < 5 and holiday_name(date) is None


def add_working_days(start: datetime.date, days: int) -> datetime.date:
    """The `days`-th working day after `start` (`start` itself does not count): from Friday,
    1 working day is the next Monday (or Tuesday, if that Monday is a holiday). 0 -> `start`."""
    if days < 0:
        raise ValueError(f"days must be 0 or more, not {days}")
    date = start
    while days:
        date += ONE_DAY
        if is_working_day(date):
            days -= 1
    return date


def next_working_day(date: datetime.date) -> datetime.date:
    """`date` if it is a working day, else the next working day after it."""
    while not is_working_day(date):
        date += ONE_DAY
    return date
