"""SQLite call records: one row per call, one per turn, written from a single worker thread.

All SQL runs on one dedicated thread (sqlite3 connections are not shared across threads), so
the event loop never waits on disk. A failed write (disk full, locked file) is logged with what
the operator should do and kept in memory to be retried with the next write: nothing is lost
while the process lives.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")

SCHEMA = """
CREATE TABLE IF NOT EXISTS calls (
    call_id TEXT PRIMARY KEY,
    stream_id TEXT,
    transport TEXT NOT NULL,
    caller TEXT,
    language TEXT NOT NULL,
    started_at TEXT NOT NULL,
    ended_at TEXT,
    end_reason TEXT,
    handoff_department TEXT,
    handoff_reason TEXT
);
CREATE TABLE IF NOT EXISTS turns (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    call_id TEXT NOT NULL REFERENCES calls(call_id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    speaker TEXT NOT NULL CHECK (speaker IN ('caller', 'bot')),
    text TEXT NOT NULL,
    started_at TEXT,
    ended_at TEXT,
    asr_confidence REAL,
    intent TEXT,
    intent_confidence REAL,
    endpointing_ms REAL,
    asr_queue_ms REAL,
    asr_ms REAL,
    dialogue_ms REAL,
    tts_first_audio_ms REAL,
    interrupted INTEGER NOT NULL DEFAULT 0,
    complete INTEGER NOT NULL DEFAULT 1,
    dtmf TEXT,
    UNIQUE (call_id, seq)
);
CREATE INDEX IF NOT EXISTS turns_by_call ON turns(call_id, seq);
CREATE INDEX IF NOT EXISTS calls_by_start ON calls(started_at);
"""

TURN_FIELDS = (
    "call_id",
    "seq",
    "speaker",
    "text",
    "started_at",
    "ended_at",
    "asr_confidence",
    "intent",
    "intent_confidence",
    "endpointing_ms",
    "asr_queue_ms",
    "asr_ms",
    "dialogue_ms",
    "tts_first_audio_ms",
    "interrupted",
    "complete",
    "dtmf",
)


def utc_now() -> str:
    """The current time as an ISO 8601 UTC string with milliseconds."""
    return iso(datetime.now(timezone.utc))


def iso(moment: datetime) -> str:
    """Formats a datetime the way the records store it."""
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds")


@dataclass
class TurnRecord:
    """One turn as stored: who said what, when, how sure, and how long each stage took."""

    call_id: str
    seq: int
    speaker: str
    text: str
    started_at: str | None = None
    ended_at: str | None = None
    asr_confidence: float | None = None
    intent: str | None = None
    intent_confidence: float | None = None
    endpointing_ms: float | None = None
    asr_queue_ms: float | None = None
    asr_ms: float | None = None
    dialogue_ms: float | None = None
    tts_first_audio_ms: float | None = None
    interrupted: bool = False
    complete: bool = True
    dtmf: str | None = None


@dataclass
class CallRecord:
    """The call row, created when a stream starts and closed when it ends."""

    call_id: str
    transport: str
    language: str
    started_at: str
    stream_id: str | None = None
    caller: str | None = None
    ended_at: str | None = None
    end_reason: str | None = None
    handoff_department: str | None = None
    handoff_reason: str | None = None
    turns: list[TurnRecord] = field(default_factory=list)


class CallStore:
    """Async facade over one SQLite file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="callstore")
        self._conn: sqlite3.Connection | None = None
        self._backlog: list[tuple[str, tuple[Any, ...]]] = []

    async def _run(self, fn: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn)

    async def open(self) -> None:
        """Creates the file and schema; raises OSError/sqlite3.Error with the path on failure."""
        await self._run(self._open_blocking)

    def _open_blocking(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=5000")
        conn.executescript(SCHEMA)
        self._conn = conn

    async def close(self) -> None:
        """Flushes what it can and closes the database."""
        await self._run(self._flush_backlog)
        if self._conn is not None:
            await self._run(self._conn.close)
            self._conn = None
        self._pool.shutdown(wait=True)

    async def ping(self) -> bool:
        """Whether the database answers (for /health)."""
        try:
            return await self._run(lambda: self._db().execute("SELECT 1").fetchone()[0] == 1)
        except sqlite3.Error:
            return False

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise sqlite3.OperationalError("the call store is not open")
        return self._conn

    def _flush_backlog(self) -> None:
        """Retries writes that failed earlier, in their original order."""
        while self._backlog:
            sql, params = self._backlog[0]
            self._db().execute(sql, params)
            self._backlog.pop(0)

    async def _write(self, sql: str, params: tuple[Any, ...]) -> None:
        """Runs one write after any backlog; on failure keeps it for the next attempt."""

        def job() -> None:
            self._backlog.append((sql, params))
            try:
                self._flush_backlog()
            except sqlite3.Error as exc:
                log.error(
                    "writing the call record to %s failed (%s); kept %d write(s) in memory and "
                    "will retry. Check free disk space and file permissions.",
                    self.path,
                    exc,
                    len(self._backlog),
                )

        await self._run(job)

    async def start_call(self, call: CallRecord) -> None:
        """Stores a new call."""
        await self._write(
            "INSERT OR REPLACE INTO calls (call_id, stream_id, transport, caller, language, "
            "started_at) VALUES (?, ?, ?, ?, ?, ?)",
            (
                call.call_id,
                call.stream_id,
                call.transport,
                call.caller,
                call.language,
                call.started_at,
            ),
        )

    async def add_turn(self, turn: TurnRecord) -> None:
        """Stores one turn."""
        values = asdict(turn)
        cols = ", ".join(TURN_FIELDS)
        marks = ", ".join("?" for _ in TURN_FIELDS)
        await self._write(
            f"INSERT OR REPLACE INTO turns ({cols}) VALUES ({marks})",
            tuple(values[name] for name in TURN_FIELDS),
        )

    async def end_call(
        self,
        call_id: str,
        reason: str,
        handoff_department: str | None = None,
        handoff_reason: str | None = None,
    ) -> None:
        """Closes a call with its end reason (hangup, bot_hangup, handoff, abandoned, error)."""
        await self._write(
            "UPDATE calls SET ended_at = ?, end_reason = ?, handoff_department = ?, "
            "handoff_reason = ? WHERE call_id = ?",
            (utc_now(), reason, handoff_department, handoff_reason, call_id),
        )

    async def get_call(self, call_id: str) -> CallRecord | None:
        """The call with its turns in order, or None."""

        def job() -> CallRecord | None:
            db = self._db()
            row = db.execute("SELECT * FROM calls WHERE call_id = ?", (call_id,)).fetchone()
            if row is None:
                return None
            call = CallRecord(**dict(row))
            for t in db.execute("SELECT * FROM turns WHERE call_id = ? ORDER BY seq", (call_id,)):
                data = {k: t[k] for k in TURN_FIELDS}
                data["interrupted"] = bool(data["interrupted"])
                data["complete"] = bool(data["complete"])
                call.turns.append(TurnRecord(**data))
            return call

        return await self._run(job)

    async def list_calls(self, limit: int = 50) -> list[dict[str, Any]]:
        """The latest calls, newest first, without turns."""

        def job() -> list[dict[str, Any]]:
            rows = self._db().execute(
                "SELECT * FROM calls ORDER BY started_at DESC LIMIT ?", (limit,)
            )
            return [dict(r) for r in rows]

        return await self._run(job)

    async def purge_older_than(self, cutoff: datetime) -> int:
        """Deletes calls (and their turns) that started before `cutoff`; returns how many."""

        def job() -> int:
            cur = self._db().execute("DELETE FROM calls WHERE started_at < ?", (iso(cutoff),))
            return cur.rowcount

        return await self._run(job)


def call_to_json(call: CallRecord) -> dict[str, Any]:
    """The API representation of a call record."""
    data = asdict(call)
    data["turns"] = [asdict(t) for t in call.turns]
    return data
