"""Requests: no CHECK on `kind` any more, so a new kind of request needs no schema change.

The gateway checks a kind in code (`voicebot.store.requests.KIND_PATTERN`, and the API its
list of known kinds). PostgreSQL drops the constraint; SQLite cannot, so the table is rebuilt
the way SQLite documents (create the new table, copy every row, drop the old one, rename,
recreate its indexes) inside the migration's transaction. Running it twice is harmless.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from yoyo import step

__depends__ = {"0001_baseline"}

COLUMNS = "id, kind, call_id, caller, created_at, status, data, summary, done_at, done_by, note"
NEW_REQUESTS = """
CREATE TABLE requests_new (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    call_id TEXT NOT NULL,
    caller TEXT,
    created_at TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'done')),
    data TEXT NOT NULL,
    summary TEXT NOT NULL,
    done_at TEXT,
    done_by TEXT,
    note TEXT
)"""
INDEXES = (
    "CREATE INDEX IF NOT EXISTS requests_by_created ON requests(created_at)",
    "CREATE INDEX IF NOT EXISTS requests_by_status ON requests(status, kind, created_at)",
    "CREATE INDEX IF NOT EXISTS requests_by_call ON requests(call_id)",
)
KIND_CHECKS = """
SELECT conname FROM pg_constraint
WHERE conrelid = 'requests'::regclass AND contype = 'c'
  AND pg_get_constraintdef(oid) LIKE '%kind%'"""


def apply(conn: Any) -> None:
    """Drops the CHECK on requests.kind (PostgreSQL) or rebuilds the table without it (SQLite)."""
    cursor = conn.cursor()
    if not isinstance(conn, sqlite3.Connection):
        cursor.execute(KIND_CHECKS)
        for (name,) in cursor.fetchall():
            quoted = '"' + name.replace('"', '""') + '"'
            cursor.execute(f"ALTER TABLE requests DROP CONSTRAINT {quoted}")
        return
    # With foreign keys on, DROP TABLE would delete the rows of request_keys and outbox that
    # point at a request (ON DELETE CASCADE); yoyo's connection has them off, as SQLite's
    # default. They cannot be switched inside a transaction, so refuse rather than lose data.
    if cursor.execute("PRAGMA foreign_keys").fetchone()[0]:
        raise RuntimeError("foreign keys must be off to rebuild the requests table")
    before = cursor.execute("SELECT count(*) FROM requests").fetchone()[0]
    cursor.execute("DROP TABLE IF EXISTS requests_new")
    cursor.execute(NEW_REQUESTS)
    cursor.execute(f"INSERT INTO requests_new ({COLUMNS}) SELECT {COLUMNS} FROM requests")
    cursor.execute("DROP TABLE requests")
    cursor.execute("ALTER TABLE requests_new RENAME TO requests")
    for statement in INDEXES:
        cursor.execute(statement)
    after = cursor.execute("SELECT count(*) FROM requests").fetchone()[0]
    broken = cursor.execute("PRAGMA foreign_key_check").fetchall()
    if after != before or broken:
        raise RuntimeError(
            f"rebuilding requests kept {after} of {before} rows, {len(broken)} broken references"
        )


step(apply)
