"""Training reviews: what a trainer decided about a caller's turn the bot understood badly.

One row per reviewed caller turn (call id and turn number): the masked text (never the raw
words), the intent Rasa guessed, and the trainer's intent, or `discarded`. No foreign key to
`calls`: the transcript retention deletes the call, the masked review stays for the export.
"""

from __future__ import annotations

from typing import Any

from yoyo import step

__depends__ = {"0004_call_platform_id"}

TABLE = """
CREATE TABLE IF NOT EXISTS training_reviews (
    call_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    text TEXT NOT NULL,
    guessed_intent TEXT,
    intent TEXT,
    status TEXT NOT NULL CHECK (status IN ('assigned', 'discarded')),
    reviewer TEXT NOT NULL,
    reviewed_at TEXT NOT NULL,
    PRIMARY KEY (call_id, seq)
)"""
INDEX = "CREATE INDEX IF NOT EXISTS training_reviews_by_status ON training_reviews(status, intent)"


def apply(conn: Any) -> None:
    """Creates the table and its index (the same SQL on SQLite and PostgreSQL)."""
    cursor = conn.cursor()
    for statement in (TABLE, INDEX):
        cursor.execute(statement)


step(apply)
