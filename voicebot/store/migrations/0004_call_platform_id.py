"""Calls: the platform's own id (Twilio callSid, SIP Call-ID) beside the gateway's call id.

The gateway keys every record and every Rasa conversation with an id it makes itself, unique per
call, so a reused or forged platform id can neither resume another caller's conversation nor
overwrite an earlier record. The platform's id is kept in a table of its own (one row per call,
deleted with the call), to find a call by it; the `calls` rows stay as they were.
"""

from __future__ import annotations

from typing import Any

from yoyo import step

__depends__ = {"0003_analytics_rollups"}

TABLE = """
CREATE TABLE IF NOT EXISTS call_platform_ids (
    call_id TEXT PRIMARY KEY REFERENCES calls(call_id) ON DELETE CASCADE,
    platform_call_id TEXT NOT NULL
)"""
INDEX = "CREATE INDEX IF NOT EXISTS calls_by_platform_id ON call_platform_ids(platform_call_id)"


def apply(conn: Any) -> None:
    """Creates the table and its index (the same SQL on SQLite and PostgreSQL)."""
    cursor = conn.cursor()
    for statement in (TABLE, INDEX):
        cursor.execute(statement)


step(apply)
