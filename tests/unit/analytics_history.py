"""A synthetic call history for the analytics tests: 8 weeks with a known weekly pattern.

Weekdays have calls from 8 to 17 o'clock with a fixed hourly shape (plus a seeded +-1),
Saturdays a few in the morning, Sundays none. Topics go round the four TOPICS; every 5th call
is handed over (accepted, closed after 240 s), every 10th is not understood (an
`nlu_fallback` turn and a handoff for `not_understood`), every 7th is poorly recognised,
every 13th caller stays silent. With `jump`, the last week brings JUMP extra Sperrmüll calls.
`History` keeps what was generated, so tests compute the expected numbers from it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from voicebot.store.db import Conn, Database

ZONE = ZoneInfo("Europe/Berlin")
FIRST_DAY = date(2026, 10, 5)  # a Monday; the clocks go back on 2026-10-25 in between
WEEKS = 8
NOW = datetime.combine(FIRST_DAY + timedelta(weeks=WEEKS), time(6, 0), ZONE)  # Monday 06:00
WEEKDAY_SHAPE = {8: 2, 9: 4, 10: 5, 11: 4, 12: 2, 13: 3, 14: 4, 15: 3, 16: 2, 17: 1}
SATURDAY_SHAPE = {9: 1, 10: 2, 11: 1}
TOPICS = ("ask_fee", "ask_documents", "ask_opening_hours", "request_sperrmuell")
JUMP_TOPIC, JUMP = "request_sperrmuell", 30
UTTERANCE = (
    "Ich möchte Sperrmüll anmelden, rufen Sie mich an unter 0214 406 8811 oder max@example.org"
)


@dataclass
class Call:
    """One generated call and what the analytics should see of it."""

    call_id: str
    start: datetime  # local
    topic: str | None
    handoff: bool
    not_understood: bool
    low_asr: bool
    silent: bool
    latency_ms: float
    transport: str = "twilio"  # "browser": a trainer's test phone, never counted


@dataclass
class History:
    """Every generated call."""

    calls: list[Call] = field(default_factory=list)

    def between(self, first: date, last: date) -> list[Call]:
        """The calls that started on the local days [first, last]."""
        return [c for c in self.calls if first <= c.start.date() <= last]


def generate(jump: bool = True, seed: int = 7) -> History:
    """The 8 weeks of calls before NOW."""
    rng = random.Random(seed)
    history = History()
    n = 0
    for offset in range(WEEKS * 7):
        day = FIRST_DAY + timedelta(days=offset)
        shape = {5: SATURDAY_SHAPE, 6: {}}.get(day.weekday(), WEEKDAY_SHAPE)
        last_week = offset >= (WEEKS - 1) * 7
        for hour, count in shape.items():
            for k in range(max(0, count + rng.choice((-1, 0, 0, 1)))):
                history.calls.append(_call(n, day, hour, k, None))
                n += 1
            if jump and last_week and day.weekday() < 5 and hour == 10:
                for k in range(JUMP // 5):
                    history.calls.append(_call(n, day, hour, 30 + k, JUMP_TOPIC))
                    n += 1
    return history


def _call(n: int, day: date, hour: int, k: int, topic: str | None) -> Call:
    start = datetime.combine(day, time(hour, (k * 7) % 60, k % 60), ZONE)
    silent = n % 13 == 0 and topic is None
    return Call(
        call_id=f"CA{n:06d}",
        start=start,
        topic=None if silent else topic or TOPICS[n % len(TOPICS)],
        handoff=n % 5 == 0 and not silent,
        not_understood=n % 10 == 0 and not silent,
        low_asr=n % 7 == 0 and not silent,
        silent=silent,
        latency_ms=300.0 + (n % 5) * 100.0,
    )


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds")


def _store(conn: Conn, calls: list[Call]) -> None:
    with conn.transaction():
        for c in calls:
            end = c.start + timedelta(minutes=3)
            reason = "not_understood" if c.not_understood else "caller_request"
            conn.execute(
                "INSERT INTO calls (call_id, transport, caller, language, started_at, "
                "ended_at, end_reason, handoff_department, handoff_reason) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    c.call_id,
                    c.transport,
                    "+4921400000",
                    "de",
                    _iso(c.start),
                    _iso(end),
                    "handoff" if c.handoff else ("no_input" if c.silent else "hangup"),
                    "buergerbuero" if c.handoff else None,
                    reason if c.handoff else None,
                ),
            )
            for seq, turn in enumerate(_turns(c)):
                conn.execute(
                    "INSERT INTO turns (call_id, seq, speaker, text, asr_confidence, intent, "
                    "asr_queue_ms, asr_ms, dialogue_ms, tts_first_audio_ms) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (c.call_id, seq, *turn),
                )
            if c.handoff:
                accepted = end + timedelta(seconds=10)
                conn.execute(
                    "INSERT INTO handoffs (handoff_id, call_id, kind, status, created_at, "
                    "updated_at, language, reason, department, topic, summary, slots, "
                    "transcript, agent, accepted_at, closed_at, note) "
                    "VALUES (?, ?, 'transfer', 'closed', ?, ?, 'de', ?, 'buergerbuero', ?, ?, "
                    "'{}', '[]', 'anna', ?, ?, 'erledigt')",
                    (
                        "H" + c.call_id,
                        c.call_id,
                        _iso(end),
                        _iso(end),
                        "not_understood" if c.not_understood else "caller_request",
                        c.topic or "",
                        "Zusammenfassung",
                        _iso(accepted),
                        _iso(accepted + timedelta(seconds=240)),
                    ),
                )


def _turns(c: Call) -> list[tuple[Any, ...]]:
    if c.silent:
        return [("bot", "Guten Tag, wie kann ich helfen?", None, None, None, None, None, None)]
    share = c.latency_ms / 4
    confidence = 0.3 if c.low_asr else 0.9
    said = UTTERANCE if c.topic == JUMP_TOPIC else f"Frage zu {c.topic}"
    turns: list[tuple[Any, ...]] = [
        ("bot", "Guten Tag, wie kann ich helfen?", None, None, None, None, None, None),
        ("caller", said, confidence, c.topic, share, share, share, share),
        ("bot", "Gerne.", None, None, None, None, None, None),
    ]
    if c.not_understood:
        turns.append(("caller", "äh ja also", 0.9, "nlu_fallback", share, share, share, share))
    return turns


async def store_history(db: Database, history: History) -> None:
    """Writes the calls, turns and handoffs into an open database."""
    await db.run(lambda conn: _store(conn, history.calls))
