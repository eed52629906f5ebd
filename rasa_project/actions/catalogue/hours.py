"""Reading opening hours: weekday sets ("mo-mi, fr") and time spans ("08:00-16:00")."""

from __future__ import annotations

import re
from itertools import pairwise

from . import fields as f
from .model import WEEKDAYS, OpeningHours, OpeningRule, TimeRange

_SPAN = re.compile(r"([0-9]{1,2}):([0-9]{2})\s*-\s*([0-9]{1,2}):([0-9]{2})")
_DAY_HINT = "use mo, di, mi, do, fr, sa, so and ranges such as 'mo-fr'"


def _day(node: f.Node, word: str) -> int:
    key = word.strip().lower()
    if key not in WEEKDAYS:
        raise node.error(f"unknown weekday {word.strip()!r}; {_DAY_HINT}")
    return WEEKDAYS.index(key)


def days(node: f.Node) -> tuple[int, ...]:
    """Weekdays (0 = Monday) from 'mo-fr', 'mo-mi, fr' or a list of such strings."""
    parts: list[str] = []
    values = node.value if isinstance(node.value, list) else [node.value]
    for value in values:
        if not isinstance(value, str):
            raise node.error(f"expected weekdays such as 'mo-fr', got {f.describe(value)}")
        parts.extend(p for p in value.split(",") if p.strip())
    if not parts:
        raise node.error(f"expected at least one weekday; {_DAY_HINT}")
    found: list[int] = []
    for part in parts:
        first, _, last = part.partition("-")
        start = _day(node, first)
        end = _day(node, last) if last else start
        if end < start:
            raise node.error(f"{part.strip()!r} runs backwards; the week starts on mo")
        for day in range(start, end + 1):
            if day in found:
                raise node.error(f"{WEEKDAYS[day]!r} is named twice")
            found.append(day)
    return tuple(sorted(found))


def _minute(node: f.Node, text: str, hour: str, minute: str, *, end: bool) -> int:
    h, m = int(hour), int(minute)
    if (h == 24 and m == 0 and end) or (h <= 23 and m <= 59):
        return h * 60 + m
    raise node.error(f"{text!r} is no valid time span: {hour}:{minute} is no time of day")


def time_range(node: f.Node) -> TimeRange:
    """A span 'HH:MM-HH:MM' (quoted); 24:00 is allowed as the end."""
    value = node.value
    match = _SPAN.fullmatch(value.strip()) if isinstance(value, str) else None
    if match is None:
        raise node.error(f"expected a time span such as '08:00-12:30', got {f.describe(value)}")
    start = _minute(node, value, match[1], match[2], end=False)
    end = _minute(node, value, match[3], match[4], end=True)
    if end <= start:
        raise node.error(f"{value!r} ends before it starts")
    return TimeRange(start, end)


def _rule(node: f.Node) -> OpeningRule:
    parts = f.fields(node, ("days", "times"))
    spans = sorted(f.items(parts["times"], time_range), key=lambda s: s.start)
    for before, after in pairwise(spans):
        if after.start < before.end:
            raise parts["times"].error("time spans overlap; write them as one span")
    return OpeningRule(days(parts["days"]), tuple(spans))


def opening_hours(node: f.Node) -> OpeningHours:
    """{weekly: [{days, times}, ...], note?}; each weekday in at most one rule."""
    parts = f.fields(node, ("weekly",), ("note",))
    rules = f.items(parts["weekly"], _rule)
    seen: dict[int, int] = {}
    for index, rule in enumerate(rules):
        for day in rule.days:
            if day in seen:
                where = parts["weekly"].item(index, None).key("days", None)
                raise where.error(
                    f"{WEEKDAYS[day]!r} is already in weekly[{seen[day]}]; "
                    "give each weekday its times in one place"
                )
            seen[day] = index
    note = f.sentence(parts["note"]) if "note" in parts else None
    return OpeningHours(rules, note)
