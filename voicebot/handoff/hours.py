"""Service hours: when agents take calls ("Mo-Fr 08:00-18:00; Sa 09:00-12:00").

A spec is a list of `DAYS TIMES` rules separated by `;`. DAYS is a day (`Mo`), a range
(`Mo-Fr`) or a comma list (`Mo,Mi,Fr`), in German (Mo Di Mi Do Fr Sa So) or English (Mo Tu We
Th Fr Sa Su); TIMES is one or more `HH:MM-HH:MM` ranges separated by commas (`24:00` is the end
of the day). An empty spec, `always` or `24/7` means always open. Times are local to the
configured zone (Europe/Berlin by default), so daylight saving time is handled by zoneinfo.
Public holidays are not known here; close them with the telephony platform's calendar.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from voicebot.errors import ConfigError

DAY_NAMES = {
    "mo": 0,
    "di": 1,
    "tu": 1,
    "mi": 2,
    "we": 2,
    "do": 3,
    "th": 3,
    "fr": 4,
    "sa": 5,
    "so": 6,
    "su": 6,
}
GERMAN_DAYS = [
    "montags",
    "dienstags",
    "mittwochs",
    "donnerstags",
    "freitags",
    "samstags",
    "sonntags",
]
ALWAYS = {"", "always", "24/7", "immer"}
_TIME = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")


@dataclass(frozen=True)
class Rule:
    """Open on these weekdays (0 = Monday) between these minutes of the day."""

    days: tuple[int, ...]
    spans: tuple[tuple[int, int], ...]  # [start, end) in minutes since midnight


@dataclass(frozen=True)
class ServiceHours:
    """Parsed service hours in one time zone."""

    spec: str
    zone: ZoneInfo
    rules: tuple[Rule, ...]
    always: bool = False

    @classmethod
    def parse(cls, spec: str, zone: str = "Europe/Berlin") -> ServiceHours:
        """Parses a spec; raises ConfigError that names the bad part."""
        try:
            tz = ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ConfigError(
                f"[handoff] timezone {zone!r} is unknown; use e.g. Europe/Berlin "
                "(and install the tzdata package)"
            ) from exc
        text = spec.strip()
        if text.lower() in ALWAYS:
            return cls(spec, tz, (), always=True)
        rules = tuple(_parse_rule(part.strip(), spec) for part in text.split(";") if part.strip())
        return cls(spec, tz, rules)

    def is_open(self, moment: datetime) -> bool:
        """Whether agents take calls at this (timezone-aware) moment."""
        if self.always:
            return True
        local = moment.astimezone(self.zone)
        minute = local.hour * 60 + local.minute
        return any(
            local.weekday() in rule.days and any(a <= minute < b for a, b in rule.spans)
            for rule in self.rules
        )

    def describe_de(self) -> str:
        """The hours in German for speech: "montags bis freitags von 8 Uhr bis 18 Uhr"."""
        if self.always:
            return "rund um die Uhr"
        return " und ".join(_describe_rule(rule) for rule in self.rules)


def _parse_rule(part: str, spec: str) -> Rule:
    fields = part.split()
    if len(fields) != 2:
        raise ConfigError(
            f"[handoff] service_hours {spec!r}: {part!r} should look like 'Mo-Fr 08:00-18:00'"
        )
    return Rule(_parse_days(fields[0], spec), _parse_spans(fields[1], spec))


def _parse_days(text: str, spec: str) -> tuple[int, ...]:
    days: list[int] = []
    for item in text.lower().split(","):
        names = item.split("-")
        if len(names) > 2 or any(n not in DAY_NAMES for n in names):
            raise ConfigError(f"[handoff] service_hours {spec!r}: unknown day(s) {item!r}")
        first, last = DAY_NAMES[names[0]], DAY_NAMES[names[-1]]
        span = range(first, last + 1) if first <= last else [*range(first, 7), *range(last + 1)]
        days.extend(d for d in span if d not in days)
    return tuple(days)


def _parse_spans(text: str, spec: str) -> tuple[tuple[int, int], ...]:
    spans = []
    for item in text.split(","):
        match = _TIME.match(item)
        if match is None:
            raise ConfigError(f"[handoff] service_hours {spec!r}: bad time range {item!r}")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if m1 > 59 or m2 > 59 or h1 > 23 or end > 24 * 60 or start >= end:
            raise ConfigError(f"[handoff] service_hours {spec!r}: impossible time range {item!r}")
        spans.append((start, end))
    return tuple(spans)


def _clock(minutes: int) -> str:
    hours, mins = divmod(minutes, 60)
    return f"{hours} Uhr" if mins == 0 else f"{hours} Uhr {mins}"


def _describe_rule(rule: Rule) -> str:
    days = list(rule.days)
    if len(days) > 2 and days == list(range(days[0], days[-1] + 1)):
        day_text = f"{GERMAN_DAYS[days[0]]} bis {GERMAN_DAYS[days[-1]]}"
    else:
        day_text = ", ".join(GERMAN_DAYS[d] for d in days)
    times = " und ".join(f"von {_clock(a)} bis {_clock(b)}" for a, b in rule.spans)
    return f"{day_text} {times}"
