"""Calls with turns the bot understood badly (and one it understood well), for the trainer's
workbench tests: `store_training_calls(db, now)` writes them; the constants say what to expect.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

from voicebot.store.db import Conn, Database

# what must never appear on the page or in the export (the masked personal data)
SECRETS = ("0214 3065512", "3065512", "Mustermann", "Erika", "erika", "Jana", "Beispielweg")
FALLBACK = "nlu_fallback"
CLARIFY = "Das habe ich nicht ganz verstanden. Meinen Sie die Öffnungszeiten oder die Gebühren?"
# (call id, minutes before now, handoff reason, [(speaker, text, intent, confidence, asr)])
# fmt: off
CALLS: list[tuple[str, int, str | None, list[tuple[str, str, str | None, float | None, float]]]] = [
    (
        "twilio-low-intent",
        60,
        None,
        [
            ("bot", "Guten Tag, hier ist das Bürgertelefon.", None, None, 1.0),
            ("caller", "Ich will meinen Perso verlängern, Nummer 0214 3065512", "ask_fee", 0.41, 0.9),  # noqa: E501
            ("bot", "Die Gebühr beträgt 37 Euro.", None, None, 1.0),
        ],
    ),
    (
        "twilio-fallback",
        50,
        "not_understood",
        [
            ("bot", "Guten Tag, hier ist das Bürgertelefon.", None, None, 1.0),
            ("caller", "Wo melde ich mein Moped ab, ich heiße Erika Mustermann", FALLBACK, 0.3, 0.8),  # noqa: E501
            ("bot", CLARIFY, None, None, 1.0),
            ("caller", "Schreiben Sie an erika punkt muster at web punkt de", FALLBACK, 0.3, 0.8),
            ("bot", "Ich verbinde Sie mit einer Mitarbeiterin.", None, None, 1.0),
        ],
    ),
    (
        "twilio-understood",
        40,
        None,
        [("caller", "Was kostet ein Reisepass", "ask_fee", 0.97, 0.95)],
    ),
    (
        "twilio-low-asr",
        30,
        None,
        [("caller", "Sperrmüll anmelden bitte", "request_sperrmuell", 0.9, 0.3)],
    ),
    (
        "twilio-named",
        20,
        None,
        [("caller", "Termin für Jana Beispiel am Beispielweg", "request_appointment", 0.5, 0.9)],
    ),
    (
        "twilio-too-old",
        60 * 24 * 45,
        None,
        [("caller", "Das ist schon lange her", "nlu_fallback", 0.2, 0.9)],
    ),
]
# fmt: on
# call id -> (turn seq, reasons) of every turn the workbench lists
EXPECTED = {
    ("twilio-low-intent", 1): ["low_intent"],
    ("twilio-fallback", 1): ["fallback", "clarification", "handoff_not_understood"],
    ("twilio-fallback", 3): ["fallback", "handoff_not_understood"],
    ("twilio-low-asr", 0): ["low_asr"],
    ("twilio-named", 0): ["low_intent"],
}
REQUEST_DATA = {"name": "Jana Beispiel", "street": "Beispielweg 3"}


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds")


def _store(conn: Conn, now: datetime) -> None:
    with conn.transaction():
        for call_id, minutes, reason, turns in CALLS:
            start = now - timedelta(minutes=minutes)
            conn.execute(
                "INSERT INTO calls (call_id, transport, caller, language, started_at, ended_at, "
                "end_reason, handoff_department, handoff_reason) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    call_id,
                    "twilio",
                    "+4921430655",
                    "de",
                    _iso(start),
                    _iso(start + timedelta(minutes=2)),
                    "handoff" if reason else "hangup",
                    "buergerbuero" if reason else None,
                    reason,
                ),
            )
            for seq, (speaker, text, intent, confidence, asr) in enumerate(turns):
                conn.execute(
                    "INSERT INTO turns (call_id, seq, speaker, text, asr_confidence, intent, "
                    "intent_confidence) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (call_id, seq, speaker, text, asr, intent, confidence),
                )
        conn.execute(
            "INSERT INTO requests (id, kind, call_id, caller, created_at, status, data, summary) "
            "VALUES (?, 'appointment', ?, ?, ?, 'open', ?, ?)",
            ("R1", "twilio-named", "+4921430655", _iso(now), json.dumps(REQUEST_DATA), "Termin"),
        )


async def store_training_calls(db: Database, now: datetime) -> None:
    """Writes CALLS (and a request naming the caller of `twilio-named`) into an open database."""
    await db.run(lambda conn: _store(conn, now))


def texts(rows: list[Any]) -> str:
    """Every masked text of candidates or reviews, joined (to look for secrets in)."""
    return "\n".join(r.text for r in rows)
