"""The analytics and the forecast read from the database (run on its worker thread).

Both first roll up the days they need that have no roll-up yet, and yesterday and today
(`rollup.refresh`; the periodic task keeps the last week fresh), then read only the
roll-ups: a purged day counts with its last roll-up, so the numbers do not change when the
transcripts go. Example utterances of a Problemfeld are the only text read, from the call
records still kept, masked by `problems.redact`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from voicebot.analytics import forecast as fc
from voicebot.analytics import rollup
from voicebot.analytics.erlang import agents_needed
from voicebot.analytics.problems import Problem, find_problems, redact
from voicebot.analytics.report import MIN_GROUP, PeriodStats, problem_json, report
from voicebot.config import Settings
from voicebot.store.db import Conn

FORECAST_DAYS = 14
MAX_EXAMPLES = 3
MAX_EXAMPLE_CHARS = 160


@dataclass(frozen=True)
class Options:
    """What the analytics need of the settings."""

    zone: ZoneInfo
    retention_days: int
    low_asr: float
    baseline_periods: int
    alpha: float
    min_count: int
    forecast_weeks: int
    service_level: float
    within_s: float
    default_handle_s: float

    @classmethod
    def of(cls, settings: Settings) -> Options:
        """The options from the gateway's settings."""
        a = settings.analytics
        return cls(
            zone=ZoneInfo(settings.handoff.timezone),
            retention_days=settings.transcript_retention_days,
            low_asr=a.low_asr_confidence,
            baseline_periods=max(1, a.baseline_periods),
            alpha=a.problem_p_value,
            min_count=a.problem_min_count,
            forecast_weeks=max(1, a.forecast_weeks),
            service_level=a.service_level,
            within_s=a.answer_within_s,
            default_handle_s=a.default_handle_s,
        )


def refresh(conn: Conn, opts: Options, now: datetime, first: date | None = None) -> int:
    """Rolls up the complete days from `first` (default: the oldest call) to today."""
    return rollup.refresh(conn, opts.zone, now, opts.retention_days, opts.low_asr, first)


def _rows(conn: Conn, first: date, last: date) -> tuple[list[dict[str, Any]], set[date]]:
    rows = conn.query(
        "SELECT day, hour, metric, key, value FROM analytics_rollups WHERE day >= ? AND day <= ?",
        (first.isoformat(), last.isoformat()),
    )
    days = conn.query(
        "SELECT day FROM analytics_rolled_days WHERE day >= ? AND day <= ?",
        (first.isoformat(), last.isoformat()),
    )
    return rows, {date.fromisoformat(r["day"]) for r in days}


def analytics(conn: Conn, opts: Options, first: date, last: date, now: datetime) -> dict[str, Any]:
    """The report of [first, last] against the previous period of the same length."""
    length = (last - first).days + 1
    span_first = first - timedelta(days=length * opts.baseline_periods)
    rollup.refresh(conn, opts.zone, now, opts.retention_days, opts.low_asr, span_first, last, True)
    rows, rolled = _rows(conn, span_first, last)
    stats = []
    for k in range(opts.baseline_periods + 1):
        a, b = first - timedelta(days=length * k), last - timedelta(days=length * k)
        stats.append(PeriodStats.of(a, b, rows, sum(1 for d in rolled if a <= d <= b)))
    baseline = [s.topics() for s in stats[1:] if s.days_with_data > 0]
    found = find_problems(stats[0].topics(), baseline, opts.alpha, opts.min_count)
    start, _ = rollup.day_bounds(first, opts.zone)
    _, end = rollup.day_bounds(last, opts.zone)
    problems = [problem_json(p, examples(conn, opts, p, start, end)) for p in found]
    topics = len(set(stats[0].topics()) | {t for period in baseline for t in period})
    test = {
        "volume": "Poisson: P(X >= Anrufe | Mittel der Vergleichszeiträume)",
        "rate": "Zwei-Stichproben-Test für Anteile (gepoolt, einseitig)",
        "alpha": opts.alpha,
        "level": opts.alpha / max(1, topics),
        "topics_tested": topics,
        "baseline_periods": len(baseline),
        "min_count": opts.min_count,
    }
    return report(stats[0], stats[1], problems, test)


def examples(conn: Conn, opts: Options, problem: Problem, start: str, end: str) -> list[str]:
    """Up to three masked caller utterances behind a Problemfeld (none for small groups)."""
    if problem.calls < MIN_GROUP:
        return []
    by_call: dict[str, list[dict[str, Any]]] = {}
    for turn in rollup.turns_between(conn, start, end):
        by_call.setdefault(turn["call_id"], []).append(turn)
    calls = [turns for turns in by_call.values() if rollup.topic_of(turns) == problem.topic]
    if len(calls) < MIN_GROUP:
        return []
    found: list[str] = []
    for turns in reversed(calls):
        for t in turns:
            if t["speaker"] != "caller" or not t["text"] or t["dtmf"]:
                continue
            if _illustrates(t, problem, opts.low_asr):
                found.append(redact(" ".join(t["text"].split()))[:MAX_EXAMPLE_CHARS])
                break
        if len(found) >= MAX_EXAMPLES:
            break
    return found


def _illustrates(turn: dict[str, Any], problem: Problem, low_asr: float) -> bool:
    if problem.kind == "not_understood":
        return bool(turn["intent"] == "nlu_fallback")
    if problem.kind == "low_asr":
        confidence = turn["asr_confidence"]
        return confidence is not None and confidence < low_asr
    return bool(turn["intent"] == problem.topic)


def _history(
    rows: list[dict[str, Any]], rolled: set[date], first: date, days: int
) -> dict[str, fc.History]:
    values = {m: np.full((days, 24), np.nan) for m in ("calls", "handoffs")}
    for index in range(days):
        if first + timedelta(days=index) in rolled:
            for array in values.values():
                array[index] = 0.0
    for row in rows:
        index = (date.fromisoformat(row["day"]) - first).days
        if row["metric"] in values and 0 <= index < days and row["key"] == "":
            values[row["metric"]][index, int(row["hour"])] += float(row["value"])
    return {m: fc.History(first, v) for m, v in values.items()}


def forecast(conn: Conn, opts: Options, now: datetime) -> dict[str, Any]:
    """Calls, handoffs and agents needed per hour for the next 14 days, with the backtest."""
    today = rollup.local_day(now, opts.zone)
    days = 7 * (opts.forecast_weeks + 1)
    first = today - timedelta(days=days)
    rollup.refresh(conn, opts.zone, now, opts.retention_days, opts.low_asr, first, today, True)
    rows, rolled = _rows(conn, first, today - timedelta(days=1))
    histories = _history(rows, rolled, first, days)
    result: dict[str, Any] = {"start": today.isoformat(), "backtest": {}, "method": {}}
    predicted: dict[str, np.ndarray[Any, Any]] = {}
    for metric, history in histories.items():
        errors = fc.backtest(history, opts.forecast_weeks)
        method = fc.best_method(errors)
        result["method"][metric] = method
        result["backtest"][metric] = {
            name: {"mae": None if math.isnan(e.mae) else e.mae, "wape": e.wape}
            for name, e in errors.items()
        }
        predicted[metric] = fc.forecast(history, FORECAST_DAYS, opts.forecast_weeks, method)
    handled = sum(float(r["value"]) for r in rows if r["metric"] == "handled")
    handle_s = sum(float(r["value"]) for r in rows if r["metric"] == "handle_s")
    aht = handle_s / handled if handled else opts.default_handle_s
    result.update(
        handle_s=aht,
        handle_measured=int(handled),
        service_level=opts.service_level,
        within_s=opts.within_s,
        history_days=len(rolled),
    )
    result["days"] = [
        {
            "date": (today + timedelta(days=i)).isoformat(),
            "calls": [round(float(v), 2) for v in predicted["calls"][i]],
            "handoffs": [round(float(v), 2) for v in predicted["handoffs"][i]],
            "agents": [
                agents_needed(float(v), aht, opts.service_level, opts.within_s)
                for v in predicted["handoffs"][i]
            ],
        }
        for i in range(FORECAST_DAYS)
    ]
    return result
