"""Daily roll-ups: each local day's calls reduced to counts per hour, without personal data.

A day is rolled up from its call records (calls, turns, handoffs) into `analytics_rollups`
(day, hour, metric, key, value), replacing that day's earlier roll-up. Only days that the
transcript retention has not begun to purge are rolled up, so a complete roll-up is never
overwritten by a partial one; older days keep their last roll-up for good. Everything here
blocks: it runs on the database's worker thread (`Database.run`).

Per call (the hour and day of its start, in the hotline's time zone):
- `calls`; `handoffs` (a handoff record or end reason `handoff`); `callbacks` (a handoff of
  kind callback); `abandoned` (end reason abandoned, cancelled or no_ack); `silent` (the
  caller said and typed nothing); `contained` (the caller spoke, no handoff, and the call
  ended by a hang-up of either side: fully served by the bot);
- `handoff_reason` / `handoff_department` keyed by reason / department;
- `topic_calls`, `topic_not_understood` (an `nlu_fallback` turn or a handoff for
  `not_understood`) and `topic_low_asr` (a caller turn below the ASR confidence threshold),
  keyed by the call's topic: the intent of its last topical caller turn, as the handoff
  summary uses it ('' for none);
- `latency_ms` keyed by a 10 ms bucket: caller turns' response latency, ASR queue + ASR +
  dialogue + first TTS audio (the endpointing pause is left out);
- `handle_s` and `handled`: seconds from accept to close of handoffs, and how many.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from voicebot.handoff.record import NOT_A_TOPIC
from voicebot.store.calls import iso
from voicebot.store.db import Conn

ABANDONED = frozenset({"abandoned", "cancelled", "no_ack"})
CONTAINED_ENDS = frozenset({"hangup", "bot_hangup"})
LATENCY_BUCKET_MS = 10
LATENCY_FIELDS = ("asr_queue_ms", "asr_ms", "dialogue_ms", "tts_first_audio_ms")


@dataclass
class CallFacts:
    """What the roll-up needs of one call (no number, no words)."""

    call_id: str
    hour: int
    end_reason: str | None
    topic: str = ""
    spoke: bool = False
    not_understood: bool = False
    low_asr: bool = False
    handoff_reasons: list[str] = field(default_factory=list)
    departments: list[str] = field(default_factory=list)
    callback: bool = False
    latencies: list[float] = field(default_factory=list)
    handle_s: list[float] = field(default_factory=list)


def day_bounds(day: date, zone: ZoneInfo) -> tuple[str, str]:
    """The UTC ISO strings of a local day's start and the next day's start."""
    start = datetime.combine(day, time(0), zone)
    end = datetime.combine(day + timedelta(days=1), time(0), zone)
    return iso(start), iso(end)


def local_day(moment: datetime, zone: ZoneInfo) -> date:
    """The local date of a moment."""
    return moment.astimezone(zone).date()


def topic_of(turns: list[dict[str, Any]]) -> str:
    """The intent of the last topical caller turn ('' when none), as `summarise` picks it."""
    topical = [
        t["intent"]
        for t in turns
        if t["speaker"] == "caller" and t["text"] and t["intent"] and t["intent"] not in NOT_A_TOPIC
    ]
    return str(topical[-1]) if topical else ""


# calls that are not citizens': a trainer's test phone (/agent/phone) is never counted
NOT_CITIZEN_TRANSPORTS = ("browser",)
_CITIZENS = "transport NOT IN ({})".format(", ".join(f"'{t}'" for t in NOT_CITIZEN_TRANSPORTS))


def call_facts(
    conn: Conn, start: str, end: str, zone: ZoneInfo, low_asr: float
) -> dict[str, CallFacts]:
    """The facts of every call that started in [start, end), with their turns grouped."""
    facts: dict[str, CallFacts] = {}
    for row in conn.query(
        "SELECT call_id, started_at, end_reason, handoff_reason, handoff_department FROM calls "
        f"WHERE started_at >= ? AND started_at < ? AND {_CITIZENS} ORDER BY started_at",
        (start, end),
    ):
        hour = datetime.fromisoformat(row["started_at"]).astimezone(zone).hour
        fact = CallFacts(row["call_id"], hour, row["end_reason"])
        if row["end_reason"] == "handoff":
            fact.handoff_reasons.append(row["handoff_reason"] or "")
            fact.departments.append(row["handoff_department"] or "")
        facts[fact.call_id] = fact
    turns: dict[str, list[dict[str, Any]]] = {}
    for t in turns_between(conn, start, end):
        turns.setdefault(t["call_id"], []).append(t)
    for call_id, its_turns in turns.items():
        _add_turns(facts[call_id], its_turns, low_asr)
    _add_handoffs(conn, facts, start, end)
    return facts


def turns_between(conn: Conn, start: str, end: str) -> list[dict[str, Any]]:
    """The turns of the calls that started in [start, end), in call and turn order."""
    cols = ", ".join(f"t.{n}" for n in LATENCY_FIELDS)
    return conn.query(
        "SELECT t.call_id, t.seq, t.speaker, t.text, t.asr_confidence, t.intent, t.dtmf, "
        f"{cols} FROM turns t JOIN calls c ON c.call_id = t.call_id "
        f"WHERE c.started_at >= ? AND c.started_at < ? AND c.{_CITIZENS} "
        "ORDER BY t.call_id, t.seq",
        (start, end),
    )


def _add_turns(fact: CallFacts, turns: list[dict[str, Any]], low_asr: float) -> None:
    fact.topic = topic_of(turns)
    for t in turns:
        if t["speaker"] != "caller" or not (t["text"] or t["dtmf"]):
            continue
        fact.spoke = True
        if t["intent"] == "nlu_fallback":
            fact.not_understood = True
        confidence = t["asr_confidence"]
        if not t["dtmf"] and confidence is not None and confidence < low_asr:
            fact.low_asr = True
        if t["dialogue_ms"] is not None:
            fact.latencies.append(sum(float(t[n] or 0.0) for n in LATENCY_FIELDS))


def _add_handoffs(conn: Conn, facts: dict[str, CallFacts], start: str, end: str) -> None:
    rows = conn.query(
        "SELECT h.call_id, h.kind, h.reason, h.department, h.accepted_at, h.closed_at "
        "FROM handoffs h JOIN calls c ON c.call_id = h.call_id "
        f"WHERE c.started_at >= ? AND c.started_at < ? AND c.{_CITIZENS} ORDER BY h.created_at",
        (start, end),
    )
    seen: set[str] = set()
    for row in rows:
        fact = facts[row["call_id"]]
        if row["call_id"] not in seen:  # the handoff record replaces the call's end reason
            seen.add(row["call_id"])
            fact.handoff_reasons, fact.departments = [], []
        fact.handoff_reasons.append(row["reason"])
        fact.departments.append(row["department"])
        fact.callback = fact.callback or row["kind"] == "callback"
        if row["accepted_at"] and row["closed_at"]:
            taken = datetime.fromisoformat(row["closed_at"]) - datetime.fromisoformat(
                row["accepted_at"]
            )
            fact.handle_s.append(max(0.0, taken.total_seconds()))


def counts_of(facts: dict[str, CallFacts]) -> dict[tuple[int, str, str], float]:
    """(hour, metric, key) -> value for the calls of one day."""
    counts: dict[tuple[int, str, str], float] = defaultdict(float)
    for f in facts.values():
        handed = bool(f.handoff_reasons)
        abandoned = f.end_reason in ABANDONED
        flags = {
            "calls": True,
            "handoffs": handed,
            "callbacks": f.callback,
            "abandoned": abandoned,
            "silent": not f.spoke,
            "contained": f.spoke and not handed and f.end_reason in CONTAINED_ENDS,
        }
        for metric, flag in flags.items():
            if flag:
                counts[f.hour, metric, ""] += 1
        for reason in set(f.handoff_reasons):
            counts[f.hour, "handoff_reason", reason] += 1
        for department in set(f.departments):
            counts[f.hour, "handoff_department", department] += 1
        counts[f.hour, "topic_calls", f.topic] += 1
        if f.not_understood or "not_understood" in f.handoff_reasons:
            counts[f.hour, "topic_not_understood", f.topic] += 1
        if f.low_asr:
            counts[f.hour, "topic_low_asr", f.topic] += 1
        for ms in f.latencies:
            bucket = int(ms // LATENCY_BUCKET_MS) * LATENCY_BUCKET_MS
            counts[f.hour, "latency_ms", str(bucket)] += 1
        if f.handle_s:
            counts[f.hour, "handle_s", ""] += sum(f.handle_s)
            counts[f.hour, "handled", ""] += len(f.handle_s)
    return counts


def rollup_day(conn: Conn, day: date, zone: ZoneInfo, low_asr: float, now: datetime) -> int:
    """Replaces one local day's roll-up with counts from its call records; returns its calls."""
    start, end = day_bounds(day, zone)
    facts = call_facts(conn, start, end, zone, low_asr)
    counts = counts_of(facts)
    key = day.isoformat()
    with conn.transaction():
        conn.execute("DELETE FROM analytics_rollups WHERE day = ?", (key,))
        for (hour, metric, name), value in sorted(counts.items()):
            conn.execute(  # an upsert: another gateway may be rolling up the same day
                "INSERT INTO analytics_rollups (day, hour, metric, key, value) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (day, hour, metric, key) "
                "DO UPDATE SET value = excluded.value",
                (key, hour, metric, name, float(value)),
            )
        conn.execute(
            "INSERT INTO analytics_rolled_days (day, rolled_at, calls) VALUES (?, ?, ?) "
            "ON CONFLICT (day) DO UPDATE SET rolled_at = excluded.rolled_at, "
            "calls = excluded.calls",
            (key, iso(now), len(facts)),
        )
    return len(facts)


def rollable_days(
    first: date, last: date, zone: ZoneInfo, now: datetime, retention_days: int
) -> list[date]:
    """The days in [first, last] up to today whose call records are still complete."""
    cutoff = now - timedelta(days=retention_days)
    today = local_day(now, zone)
    days: list[date] = []
    day = first
    while day <= min(last, today):
        if datetime.combine(day, time(0), zone) >= cutoff:
            days.append(day)
        day += timedelta(days=1)
    return days


def refresh(
    conn: Conn,
    zone: ZoneInfo,
    now: datetime,
    retention_days: int,
    low_asr: float,
    first: date | None = None,
    last: date | None = None,
    missing_only: bool = False,
) -> int:
    """Rolls up the complete days in [first, last] (default: from the oldest call record to
    today); with `missing_only`, only those never rolled up, yesterday and today. Returns
    how many days it rolled up."""
    if first is None:
        row = conn.one("SELECT MIN(started_at) AS first FROM calls")
        if row is None or row["first"] is None:
            return 0
        first = local_day(datetime.fromisoformat(row["first"]), zone)
    last = last or local_day(now, zone)
    days = rollable_days(first, last, zone, now, retention_days)
    if missing_only and days:
        recent = local_day(now, zone) - timedelta(days=1)
        rows = conn.query(
            "SELECT day FROM analytics_rolled_days WHERE day >= ? AND day <= ?",
            (days[0].isoformat(), days[-1].isoformat()),
        )
        rolled = {date.fromisoformat(r["day"]) for r in rows}
        days = [d for d in days if d not in rolled or d >= recent]
    for day in days:
        rollup_day(conn, day, zone, low_asr, now)
    return len(days)


def utc(moment: datetime | None = None) -> datetime:
    """The given moment, or now, as an aware UTC datetime."""
    return (moment or datetime.now(timezone.utc)).astimezone(timezone.utc)
