"""The analytics report of one period against the previous one, from roll-up rows (pure).

`PeriodStats.of(rows)` sums the roll-up rows of one period; `report(...)` turns the chosen
period, the previous one and the Problemfelder into the dictionary the API returns and the
page shows; `to_csv` writes the same numbers as CSV (metric, key, label, period, previous).
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from voicebot.analytics.problems import FAILURES, Problem, TopicCounts
from voicebot.handoff.record import intent_label, reason_label

TOTALS = ("calls", "contained", "handoffs", "callbacks", "abandoned", "silent")
KEYED = (
    "handoff_reason",
    "handoff_department",
    "topic_calls",
    "topic_not_understood",
    "topic_low_asr",
    "latency_ms",
)
TOTAL_LABELS = {
    "calls": "Anrufe",
    "contained": "Vom Bot vollständig erledigt",
    "handoffs": "Übergaben",
    "callbacks": "Rückrufwünsche",
    "abandoned": "Abgebrochen",
    "silent": "Stumme Anrufe",
}
WEEKDAYS = ("Mo", "Di", "Mi", "Do", "Fr", "Sa", "So")
NO_TOPIC = "Kein Anliegen erkannt"
MIN_GROUP = 5  # no text is shown for a group of fewer calls


def topic_label(key: str) -> str:
    """The German label of a topic key (an intent; '' for calls without a topic)."""
    return intent_label(key) if key else NO_TOPIC


@dataclass
class PeriodStats:
    """The summed roll-ups of one period of local days [first, last]."""

    first: date
    last: date
    totals: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    keyed: dict[str, dict[str, float]] = field(default_factory=dict)
    by_hour: list[float] = field(default_factory=lambda: [0.0] * 24)
    by_weekday: list[float] = field(default_factory=lambda: [0.0] * 7)
    handle_s: float = 0.0
    handled: float = 0.0
    days_with_data: int = 0

    @classmethod
    def of(cls, first: date, last: date, rows: list[dict[str, Any]], days: int) -> PeriodStats:
        """Sums the roll-up rows that fall into [first, last]; `days`: rolled-up days there."""
        stats = cls(first, last, days_with_data=days)
        stats.keyed = {name: defaultdict(float) for name in KEYED}
        for row in rows:
            day = date.fromisoformat(row["day"])
            if not first <= day <= last:
                continue
            metric, value = row["metric"], float(row["value"])
            if metric in stats.keyed:
                stats.keyed[metric][row["key"]] += value
            elif metric == "handle_s":
                stats.handle_s += value
            elif metric == "handled":
                stats.handled += value
            else:
                stats.totals[metric] += value
            if metric == "calls":
                stats.by_hour[int(row["hour"])] += value
                stats.by_weekday[day.weekday()] += value
        return stats

    def topics(self) -> dict[str, TopicCounts]:
        """Calls and failed calls per topic, for the Problemfelder test."""
        keyed = self.keyed
        return {
            topic: TopicCounts(
                int(calls),
                int(keyed["topic_not_understood"][topic]),
                int(keyed["topic_low_asr"][topic]),
            )
            for topic, calls in keyed["topic_calls"].items()
        }

    def latency(self, share: float) -> float | None:
        """The latency percentile in ms (the middle of its 10 ms bucket), or None."""
        buckets = sorted((int(k), v) for k, v in self.keyed["latency_ms"].items())
        total = sum(v for _, v in buckets)
        if not total:
            return None
        seen = 0.0
        for bucket, count in buckets:
            seen += count
            if seen >= share * total:
                return bucket + 5.0
        return buckets[-1][0] + 5.0


def change(now: float, before: float) -> float | None:
    """Relative change (0.25 = +25 %), None when there was nothing before."""
    return None if before == 0 else (now - before) / before


def _rate(part: float, whole: float) -> float | None:
    return None if whole == 0 else part / whole


def _keyed_rows(
    current: PeriodStats, previous: PeriodStats, metric: str, label: Any
) -> list[dict[str, Any]]:
    keys = set(current.keyed[metric]) | set(previous.keyed[metric])
    rows = [
        {
            "key": key,
            "label": label(key),
            "value": current.keyed[metric][key],
            "previous": previous.keyed[metric][key],
            "change": change(current.keyed[metric][key], previous.keyed[metric][key]),
        }
        for key in keys
    ]
    return sorted(rows, key=lambda r: (-r["value"], -r["previous"], r["key"]))


def _topic_rows(current: PeriodStats, previous: PeriodStats) -> list[dict[str, Any]]:
    rows = _keyed_rows(current, previous, "topic_calls", topic_label)
    for row in rows:
        calls = row["value"]
        for kind in FAILURES:
            failed = current.keyed[f"topic_{kind}"][row["key"]]
            row[kind] = failed
            row[f"{kind}_rate"] = _rate(failed, calls)
    return rows


def problem_json(problem: Problem, examples: list[str]) -> dict[str, Any]:
    """One Problemfeld for the API and the page."""
    what = "Anrufe" if problem.kind == "volume" else f"Anteil „{FAILURES[problem.kind]}“"
    return {
        "topic": problem.topic,
        "label": topic_label(problem.topic),
        "kind": problem.kind,
        "what": what,
        "value": problem.value,
        "baseline": problem.baseline,
        "p_value": problem.p_value,
        "calls": problem.calls,
        "examples": examples if problem.calls >= MIN_GROUP else [],
    }


def report(
    current: PeriodStats,
    previous: PeriodStats,
    problems: list[dict[str, Any]],
    test: dict[str, Any],
) -> dict[str, Any]:
    """The whole analytics report (JSON-ready)."""
    totals = {
        name: {
            "label": TOTAL_LABELS[name],
            "value": current.totals[name],
            "previous": previous.totals[name],
            "change": change(current.totals[name], previous.totals[name]),
        }
        for name in TOTALS
    }
    return {
        "period": {"from": current.first.isoformat(), "to": current.last.isoformat()},
        "previous_period": {"from": previous.first.isoformat(), "to": previous.last.isoformat()},
        "days_with_data": current.days_with_data,
        "totals": totals,
        "containment": _rate(current.totals["contained"], current.totals["calls"]),
        "previous_containment": _rate(previous.totals["contained"], previous.totals["calls"]),
        "handoff_reasons": _keyed_rows(current, previous, "handoff_reason", reason_label),
        "handoff_departments": _keyed_rows(current, previous, "handoff_department", str),
        "topics": _topic_rows(current, previous),
        "calls_by_hour": current.by_hour,
        "calls_by_weekday": dict(zip(WEEKDAYS, current.by_weekday, strict=True)),
        "latency_ms": {
            "p50": current.latency(0.5),
            "p95": current.latency(0.95),
            "previous_p50": previous.latency(0.5),
            "previous_p95": previous.latency(0.95),
        },
        "problems": problems,
        "problem_test": test,
    }


def to_csv(data: dict[str, Any]) -> str:
    """The report's numbers as CSV: section, key, label, period, previous period."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["bereich", "schluessel", "bezeichnung", "zeitraum", "vorzeitraum"])
    for name, row in data["totals"].items():
        writer.writerow(["summe", name, row["label"], row["value"], row["previous"]])
    for section in ("handoff_reasons", "handoff_departments", "topics"):
        for row in data[section]:
            writer.writerow([section, row["key"], row["label"], row["value"], row["previous"]])
    for hour, value in enumerate(data["calls_by_hour"]):
        writer.writerow(["stunde", hour, f"{hour:02d} Uhr", value, ""])
    for day, value in data["calls_by_weekday"].items():
        writer.writerow(["wochentag", day, day, value, ""])
    latency = data["latency_ms"]
    for name in ("p50", "p95"):
        writer.writerow(["latenz_ms", name, name, latency[name], latency[f"previous_{name}"]])
    for problem in data["problems"]:
        writer.writerow(["problemfeld", problem["topic"], problem["label"], problem["value"], ""])
    return out.getvalue()
