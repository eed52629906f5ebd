"""Calls: which gateway instance runs each call (`gateway_id`, default the host name).

At start a gateway closes the records its crashed predecessor left open (`gateway_crashed`,
voicebot/recovery.py). With several gateways on one PostgreSQL, each must close only its own
calls: this table says whose a call is (one row per call, deleted with the call); the `calls`
rows stay as they were.
"""

from __future__ import annotations

from typing import Any

from yoyo import step

__depends__ = {"0005_training_reviews"}

TABLE = """
CREATE TABLE IF NOT EXISTS call_gateways (
    call_id TEXT PRIMARY KEY REFERENCES calls(call_id) ON DELETE CASCADE,
    gateway_id TEXT NOT NULL
)"""
INDEX = "CREATE INDEX IF NOT EXISTS calls_by_gateway ON call_gateways(gateway_id)"


def apply(conn: Any) -> None:
    """Creates the table and its index (the same SQL on SQLite and PostgreSQL)."""
    cursor = conn.cursor()
    for statement in (TABLE, INDEX):
        cursor.execute(statement)


step(apply)
