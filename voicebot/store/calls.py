"""Call records: one row per call, one per turn, in the gateway's database (SQLite/PostgreSQL).

All SQL runs on the database's one worker thread (`voicebot.store.db`), so the event loop never
waits on disk. A failed write (disk full, locked file, database down) is logged with what the
operator should do and kept in memory to be retried with the next write: nothing is lost while
the process lives. A write the database can never take (a value it refuses: bad text, a
constraint) is dropped with an error in the log, so it cannot block the writes behind it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeVar

from voicebot.store.db import Database

log = logging.getLogger(__name__)
T = TypeVar("T")

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

# a call with the platform's id for it (a table of its own, migration 0004)
CALL_COLUMNS = "c.*, p.platform_call_id"
CALLS_JOINED = "FROM calls c LEFT JOIN call_platform_ids p ON p.call_id = c.call_id"


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
    platform_call_id: str | None = None  # the platform's id (callSid, SIP Call-ID), not a key
    turns: list[TurnRecord] = field(default_factory=list)


class CallStore:
    """Async facade over the call tables of one database (a SQLite path or a shared Database)."""

    def __init__(self, target: Path | Database) -> None:
        self.db = target if isinstance(target, Database) else Database(target)
        self.path = self.db.target
        self._backlog: list[tuple[str, tuple[Any, ...]]] = []
        self.dropped = 0  # writes the database refused for good (see `_flush_backlog`)

    async def _run(self, fn: Callable[[], T]) -> T:
        return await self.db.run(lambda _conn: fn())

    async def open(self) -> None:
        """Creates the file and migrates the schema; raises OSError or one of `db.errors`."""
        await self.db.open()

    async def close(self) -> None:
        """Flushes what it can and closes the database."""
        if self.db.is_open:
            try:
                await self._run(self._flush_backlog)
            except self.db.errors as exc:
                log.error("%d call record write(s) lost at shutdown: %s", len(self._backlog), exc)
        await self.db.close()

    async def ping(self) -> bool:
        """Whether the database answers (for /health)."""
        return await self.db.ping()

    def _db(self) -> Any:
        """The raw connection (sqlite3 or psycopg); only for use on the worker thread."""
        return self.db.conn().raw

    def _flush_backlog(self) -> None:
        """Retries writes that failed earlier, in their original order; raises only for an
        error that may pass (`db.transient`), and drops a write that can never succeed."""
        conn = self.db.conn()
        while self._backlog:
            sql, params = self._backlog[0]
            try:
                conn.execute(sql, params)
            except self.db.transient:
                raise
            except Exception as exc:  # noqa: BLE001 - any permanent refusal: drop this one write
                self.dropped += 1
                log.error(
                    "a call record write was refused by %s and dropped (%s: %s); the writes "
                    "after it go on",
                    self.db.description,
                    type(exc).__name__,
                    exc,
                )
            self._backlog.pop(0)

    async def _write(self, sql: str, params: tuple[Any, ...]) -> None:
        """Runs one write after any backlog; on failure keeps it for the next attempt."""

        def job() -> None:
            self._backlog.append((sql, params))
            try:
                self._flush_backlog()
            except self.db.errors as exc:
                log.error(
                    "writing the call record to %s failed (%s); kept %d write(s) in memory and "
                    "will retry. Check free disk space and file permissions.",
                    self.db.description,
                    exc,
                    len(self._backlog),
                )

        await self._run(job)

    async def start_call(self, call: CallRecord) -> None:
        """Stores a new call, and the platform's id for it when known."""
        await self._write(
            "INSERT INTO calls (call_id, stream_id, transport, caller, language, started_at) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (call_id) DO UPDATE SET "
            "stream_id = excluded.stream_id, transport = excluded.transport, "
            "caller = excluded.caller, language = excluded.language, "
            "started_at = excluded.started_at",
            (
                call.call_id,
                call.stream_id,
                call.transport,
                call.caller,
                call.language,
                call.started_at,
            ),
        )
        if call.platform_call_id is not None:
            await self._write(
                "INSERT INTO call_platform_ids (call_id, platform_call_id) VALUES (?, ?) "
                "ON CONFLICT (call_id) DO UPDATE SET platform_call_id = excluded.platform_call_id",
                (call.call_id, call.platform_call_id),
            )

    async def add_turn(self, turn: TurnRecord) -> None:
        """Stores one turn."""
        values = asdict(turn)
        cols = ", ".join(TURN_FIELDS)
        marks = ", ".join("?" for _ in TURN_FIELDS)
        updates = ", ".join(f"{n} = excluded.{n}" for n in TURN_FIELDS[2:])
        await self._write(
            f"INSERT INTO turns ({cols}) VALUES ({marks}) "
            f"ON CONFLICT (call_id, seq) DO UPDATE SET {updates}",
            tuple(_db_value(values[name]) for name in TURN_FIELDS),
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
            db = self.db.conn()
            row = db.one(f"SELECT {CALL_COLUMNS} {CALLS_JOINED} WHERE c.call_id = ?", (call_id,))
            if row is None:
                return None
            call = CallRecord(**row)
            for t in db.query("SELECT * FROM turns WHERE call_id = ? ORDER BY seq", (call_id,)):
                data = {k: t[k] for k in TURN_FIELDS}
                data["interrupted"] = bool(data["interrupted"])
                data["complete"] = bool(data["complete"])
                call.turns.append(TurnRecord(**data))
            return call

        return await self._run(job)

    async def find_call(self, some_id: str) -> CallRecord | None:
        """The call with this gateway call id, else the latest call the platform knows by this
        id (its callSid or SIP Call-ID), or None."""
        found = await self.get_call(some_id)
        if found is not None:
            return found

        def job() -> str | None:
            row = self.db.conn().one(
                f"SELECT c.call_id {CALLS_JOINED} WHERE p.platform_call_id = ? "
                "ORDER BY c.started_at DESC LIMIT 1",
                (some_id,),
            )
            return None if row is None else str(row["call_id"])

        call_id = await self._run(job)
        return None if call_id is None else await self.get_call(call_id)

    async def list_calls(self, limit: int = 50) -> list[dict[str, Any]]:
        """The latest calls, newest first, without turns."""

        def job() -> list[dict[str, Any]]:
            return self.db.conn().query(
                f"SELECT {CALL_COLUMNS} {CALLS_JOINED} ORDER BY c.started_at DESC LIMIT ?",
                (limit,),
            )

        return await self._run(job)

    async def ids_started_before(self, cutoff: datetime) -> list[str]:
        """The ids of the calls `purge_older_than(cutoff)` deletes (each keys a Rasa
        conversation, deleted with the record)."""

        def job() -> list[str]:
            rows = self.db.conn().query(
                "SELECT call_id FROM calls WHERE started_at < ?", (iso(cutoff),)
            )
            return [str(row["call_id"]) for row in rows]

        return await self._run(job)

    async def purge_older_than(self, cutoff: datetime) -> int:
        """Deletes calls (and their turns) that started before `cutoff`; returns how many."""

        def job() -> int:
            return self.db.conn().execute("DELETE FROM calls WHERE started_at < ?", (iso(cutoff),))

        return await self._run(job)


def _db_value(value: Any) -> Any:
    """Booleans are stored as 0/1 (an INTEGER column in both databases)."""
    return int(value) if isinstance(value, bool) else value


def call_to_json(call: CallRecord) -> dict[str, Any]:
    """The API representation of a call record."""
    data = asdict(call)
    data["turns"] = [asdict(t) for t in call.turns]
    return data
