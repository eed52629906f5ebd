"""The gateway's database: one SQLite file or a PostgreSQL URL, used from one worker thread.

Every store (calls, handoffs, agent sessions) shares one `Database`. All SQL runs on its single
worker thread, so the event loop never waits on disk or network and one connection is never
shared across threads. SQL is written once with `?` placeholders and portable syntax (upserts
with ON CONFLICT, TEXT timestamps in ISO 8601 UTC); `Conn` translates for psycopg. Opening
brings the schema up to date first (`voicebot.store.migrate`), on the same worker thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from voicebot.config import mask_url
from voicebot.store.migrate import MigrationError, SchemaState, migrate

log = logging.getLogger(__name__)
T = TypeVar("T")


def is_postgres_url(target: str | Path) -> bool:
    """Whether a database target names PostgreSQL rather than a SQLite file."""
    return isinstance(target, str) and target.startswith(("postgresql://", "postgres://"))


class Conn:
    """A connection on the worker thread: portable execute/query over SQLite or psycopg."""

    def __init__(self, raw: Any, backend: str) -> None:
        self.raw = raw
        self.backend = backend

    def _sql(self, sql: str) -> str:
        if self.backend == "sqlite":
            return sql
        return sql.replace("%", "%%").replace("?", "%s")

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> int:
        """Runs one statement; returns the number of rows it changed."""
        cur = self.raw.execute(self._sql(sql), params)
        return int(cur.rowcount or 0)

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        """Runs a SELECT; returns its rows as dicts."""
        cur = self.raw.execute(self._sql(sql), params)
        return [dict(row) for row in cur.fetchall()]

    def one(self, sql: str, params: tuple[Any, ...] = ()) -> dict[str, Any] | None:
        """The first row of a SELECT, or None."""
        rows = self.query(sql, params)
        return rows[0] if rows else None

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """All statements inside commit together or not at all."""
        if self.backend == "sqlite":
            self.raw.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self.raw.execute("ROLLBACK")
                raise
            self.raw.execute("COMMIT")
        else:
            with self.raw.transaction():
                yield


class Database:
    """Async facade over one connection (SQLite file or PostgreSQL) on one worker thread."""

    def __init__(self, target: str | Path) -> None:
        self.target = target
        self.backend = "postgresql" if is_postgres_url(target) else "sqlite"
        self._pool: ThreadPoolExecutor | None = None
        self._conn: Conn | None = None
        self.schema: SchemaState | None = None  # set by open(): the migrations applied
        self.errors: tuple[type[Exception], ...] = (sqlite3.Error, MigrationError)
        # errors that may pass (locked, disk full, server down): a write is worth retrying
        self.transient: tuple[type[Exception], ...] = (sqlite3.OperationalError,)
        if self.backend == "postgresql":
            import psycopg

            self.errors = (sqlite3.Error, MigrationError, psycopg.Error)
            self.transient = (sqlite3.OperationalError, psycopg.OperationalError)

    @property
    def description(self) -> str:
        """Where the data lives, without secrets."""
        return mask_url(str(self.target)) if self.backend == "postgresql" else str(self.target)

    @property
    def is_open(self) -> bool:
        """Whether `open()` succeeded and `close()` was not called since."""
        return self._conn is not None

    async def run(self, fn: Callable[[Conn], T]) -> T:
        """Runs `fn(conn)` on the worker thread (reconnecting to a restarted PostgreSQL)."""
        self.conn()  # raises when not open

        def job() -> T:
            conn = self.conn()
            if self.backend == "postgresql" and conn.raw.closed:
                log.warning("reconnecting to %s", self.description)
                self._conn = conn = self._connect()
            return fn(conn)

        return await self._submit(job)

    async def _submit(self, fn: Callable[[], T]) -> T:
        if self._pool is None:
            raise sqlite3.OperationalError("the database is not open")
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn)

    def conn(self) -> Conn:
        """The open connection (call only on the worker thread or to hand it to it)."""
        if self._conn is None:
            raise sqlite3.OperationalError("the database is not open")
        return self._conn

    async def open(self) -> None:
        """Migrates the schema to the current version, then connects; a second call does
        nothing. Raises MigrationError (in `errors`) saying what to do when a migration fails."""
        if self._conn is not None:
            return
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="database")
        self._conn = await self._submit(self._migrate_and_connect)

    def _migrate_and_connect(self) -> Conn:
        if self.backend == "sqlite":
            Path(self.target).parent.mkdir(parents=True, exist_ok=True)
        self.schema = migrate(self.target, self.backend, self.description)
        return self._connect()

    def _connect(self) -> Conn:
        if self.backend == "sqlite":
            raw: Any = sqlite3.connect(
                Path(self.target), check_same_thread=False, isolation_level=None
            )
            raw.row_factory = sqlite3.Row
            raw.execute("PRAGMA journal_mode=WAL")
            raw.execute("PRAGMA foreign_keys=ON")
            raw.execute("PRAGMA busy_timeout=5000")
        else:
            import psycopg
            from psycopg.rows import dict_row

            raw = psycopg.connect(str(self.target), autocommit=True, row_factory=dict_row)
        return Conn(raw, self.backend)

    async def ping(self) -> bool:
        """Whether the database answers (for /health)."""
        try:
            row = await self.run(lambda c: c.one("SELECT 1 AS ok"))
        except Exception:  # noqa: BLE001 - any failure means "down"
            return False
        return row is not None and row["ok"] == 1

    async def close(self) -> None:
        """Closes the connection and stops the worker thread; a second call does nothing."""
        if self._conn is not None:
            conn, self._conn = self._conn, None
            with contextlib.suppress(*self.errors):
                await self._submit(conn.raw.close)
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
