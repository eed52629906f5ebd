"""Retention beyond the gateway's database: Rasa's tracker store, rotated logs, file modes.

Rasa keeps every utterance and every slot (names, numbers, addresses) of every conversation
in its SQL tracker store and never deletes any. The gateway's hourly purge calls
`purge_files` with the ids of the calls whose records it deleted: each call's conversation
(its sender id is the call's id) goes with its record, whatever the age of its last event.
Conversations without a call record (e.g. `rasa shell`) go once their last event is older
than the retention period, and so do the rotated log files. `make_private` gives the data
directory mode 0700 and its files 0600 (database, tracker, logs, tokens).
"""

from __future__ import annotations

import logging
import os
import re
import sqlite3
import stat
from collections.abc import Iterable
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from voicebot.config import Settings

log = logging.getLogger(__name__)

TRACKER_DB = "rasa_tracker.db"  # where `voicebot stack` has Rasa keep its SQLite trackers
LOGS_DIR = "logs"
_ROTATED = re.compile(r"\.\d+$")  # gateway.log.3, rasa.log.1


@dataclass(frozen=True)
class FilesPurged:
    """What one purge deleted outside the database."""

    conversations: int
    log_files: int


def purge_tracker(db: Path, cutoff: datetime, call_ids: Iterable[str] = ()) -> int:
    """Deletes the Rasa conversations of `call_ids` (calls whose records were deleted), and
    every conversation whose last event is older than `cutoff`; returns how many. A missing
    file or a store without Rasa's `events` table is left alone."""
    if not db.is_file():
        return 0
    with closing(sqlite3.connect(db, timeout=2.0)) as conn, conn:
        has_events = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'events'"
        ).fetchone()
        if not has_events:
            return 0
        present = {row[0] for row in conn.execute("SELECT DISTINCT sender_id FROM events")}
        gone = present & set(call_ids)
        gone |= {
            row[0]
            for row in conn.execute(
                "SELECT sender_id FROM events GROUP BY sender_id HAVING MAX(timestamp) < ?",
                (cutoff.timestamp(),),
            )
        }
        conn.executemany("DELETE FROM events WHERE sender_id = ?", [(s,) for s in sorted(gone)])
    return len(gone)


def purge_tracker_postgres(url: str, cutoff: datetime, call_ids: Iterable[str] = ()) -> int:
    """As `purge_tracker`, for Rasa's SQL tracker store on PostgreSQL (`[rasa]
    tracker_store_url`): the same `events` table, keyed by `sender_id`. A database without
    that table (Rasa not started yet) is left alone."""
    import psycopg

    with psycopg.connect(url, connect_timeout=10) as conn:
        table = conn.execute("SELECT to_regclass('events')").fetchone()
        if table is None or table[0] is None:
            return 0
        ids = sorted(set(call_ids))
        gone = {
            row[0]
            for row in conn.execute(
                "SELECT DISTINCT sender_id FROM events WHERE sender_id = ANY(%s)", (ids,)
            )
        }
        gone |= {
            row[0]
            for row in conn.execute(
                "SELECT sender_id FROM events GROUP BY sender_id HAVING MAX(timestamp) < %s",
                (cutoff.timestamp(),),
            )
        }
        if gone:
            conn.execute("DELETE FROM events WHERE sender_id = ANY(%s)", (sorted(gone),))
    return len(gone)


def _purge_conversations(settings: Settings, cutoff: datetime, call_ids: Iterable[str]) -> int:
    """The Rasa conversations of expired calls, and older ones, wherever Rasa keeps them."""
    url = settings.rasa.tracker_store_url
    if not url:
        return purge_tracker(settings.data_dir / TRACKER_DB, cutoff, call_ids)
    import psycopg

    try:
        return purge_tracker_postgres(url, cutoff, call_ids)
    except psycopg.Error as exc:
        log.error(
            "retention: the Rasa tracker store on PostgreSQL could not be purged (%s); check "
            "[rasa] tracker_store_url and that the server runs. The next purge tries again.",
            type(exc).__name__,
        )
        return 0


def purge_logs(logs: Path, cutoff: datetime) -> int:
    """Deletes rotated log files (name.N) last written before `cutoff`; returns how many."""
    if not logs.is_dir():
        return 0
    deleted = 0
    for path in logs.iterdir():
        if not _ROTATED.search(path.name) or not path.is_file():
            continue
        if path.stat().st_mtime < cutoff.timestamp():
            path.unlink(missing_ok=True)
            deleted += 1
    return deleted


def purge_files(settings: Settings, cutoff: datetime, call_ids: Iterable[str] = ()) -> FilesPurged:
    """The tracker and log part of the retention purge (blocking: run it in a thread);
    `call_ids`: the calls whose records the purge deleted (their conversations go too)."""
    data_dir = settings.data_dir
    purged = FilesPurged(
        _purge_conversations(settings, cutoff, call_ids),
        purge_logs(data_dir / LOGS_DIR, cutoff),
    )
    if purged.conversations or purged.log_files:
        log.info(
            "retention: deleted %d Rasa conversation(s) (of expired calls, or older) and "
            "%d log file(s) older than %s",
            purged.conversations,
            purged.log_files,
            cutoff.date(),
        )
    return purged


def make_private(data_dir: Path) -> None:
    """Mode 0700 for the data directory and its folders, 0600 for its files, so other users
    of the machine read neither citizens' data nor secrets. Models are shared: left alone."""
    if not data_dir.is_dir():
        return
    data_dir.chmod(0o700)
    for root, dirs, files in os.walk(data_dir):
        base = Path(root)
        if base.name == "models" or "models" in base.relative_to(data_dir).parts:
            dirs[:] = []
            continue
        for name in dirs:
            if name != "models":
                (base / name).chmod(0o700)
        for name in files:
            path = base / name
            mode = path.lstat().st_mode
            if stat.S_ISREG(mode) and stat.S_IMODE(mode) & 0o077:
                path.chmod(0o600)
