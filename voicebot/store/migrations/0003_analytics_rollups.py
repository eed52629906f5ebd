"""Analytics roll-ups: counts per local day, hour, metric and key, without personal data.

One row holds one number (e.g. day 2026-11-18, hour 9, metric `topic_calls`, key
`ask_fee`, value 12). They are filled from the call records by `voicebot.analytics.rollup`
and are not touched by the transcript retention, so trends and the forecast outlive the
transcripts. Keys are intents, handoff reasons, departments or latency buckets: never a
caller's number or words.
"""

from __future__ import annotations

from typing import Any

from yoyo import step

__depends__ = {"0002_request_kind_no_check"}

TABLE = """
CREATE TABLE IF NOT EXISTS analytics_rollups (
    day TEXT NOT NULL,
    hour INTEGER NOT NULL,
    metric TEXT NOT NULL,
    key TEXT NOT NULL DEFAULT '',
    value DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (day, hour, metric, key)
)"""
INDEX = "CREATE INDEX IF NOT EXISTS rollups_by_metric ON analytics_rollups(metric, day)"
DAYS = """
CREATE TABLE IF NOT EXISTS analytics_rolled_days (
    day TEXT PRIMARY KEY,
    rolled_at TEXT NOT NULL,
    calls INTEGER NOT NULL
)"""


def apply(conn: Any) -> None:
    """Creates the roll-up tables (the same SQL on SQLite and PostgreSQL)."""
    cursor = conn.cursor()
    for statement in (TABLE, INDEX, DAYS):
        cursor.execute(statement)


step(apply)
