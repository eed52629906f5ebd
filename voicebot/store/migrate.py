"""Versioned schema migrations (yoyo-migrations), applied when the gateway opens its database.

The migrations are the files in `voicebot/store/migrations/` (package data), one per change
and never edited once shipped; `_yoyo_migration` records which ones a database has. They run
on their own connection, each in a transaction, under a lock held for the whole run (a
PostgreSQL advisory lock, or a lock file beside a SQLite database), so two gateways starting
against one database do not race: the second waits, then finds nothing left to do. A database
created before migrations existed is adopted: the baseline only creates what is missing.
Everything here blocks: the gateway calls it on its database worker thread.
"""

from __future__ import annotations

import contextlib
import fcntl
import getpass
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from yoyo import read_migrations
from yoyo.backends import DatabaseBackend, PostgresqlPsycopgBackend, SQLiteBackend
from yoyo.connections import parse_uri

log = logging.getLogger(__name__)

MIGRATIONS = "package:voicebot.store:migrations"
MIGRATION_TABLE = "_yoyo_migration"
ADVISORY_LOCK = 7305521  # the key the schema creation before migrations locked with, too
LOCK_TIMEOUT_S = 60  # yoyo's own lock; only a `yoyo` run by hand can hold it while we wait


class MigrationError(Exception):
    """The schema could not be brought up to date; the start must stop."""


@dataclass(frozen=True)
class SchemaState:
    """Which migrations a database has, and which this code would still apply."""

    applied: tuple[str, ...]
    pending: tuple[str, ...]
    unknown: tuple[str, ...] = ()  # applied by a newer gateway

    @property
    def version(self) -> str | None:
        """The last migration applied (the schema version), or None for an empty database."""
        return self.applied[-1] if self.applied else None


class _LogDataFix:
    """yoyo logs the OS user; a container's uid may have no passwd entry to name it."""

    def get_log_data(self, migration: Any = None, operation: str = "apply") -> Any:
        try:
            getpass.getuser()
        except (KeyError, OSError):
            os.environ.setdefault("LOGNAME", f"uid{os.getuid()}")
        return super().get_log_data(migration, operation)  # type: ignore[misc]


class _SQLite(_LogDataFix, SQLiteBackend):  # type: ignore[misc]
    """yoyo's SQLite backend."""


class _Postgres(_LogDataFix, PostgresqlPsycopgBackend):  # type: ignore[misc]
    """yoyo's PostgreSQL backend on psycopg 3 (its default backend would need psycopg2)."""


def _backend(target: str | Path, backend: str) -> DatabaseBackend:
    """A yoyo backend (its own connection) for the gateway's database target."""
    if backend == "postgresql":
        _, rest = str(target).split("://", 1)
        yoyo: DatabaseBackend = _Postgres(
            parse_uri(f"postgresql+psycopg://{rest}"), MIGRATION_TABLE
        )
    else:
        path = quote(str(Path(target).absolute()))
        yoyo = _SQLite(parse_uri(f"sqlite:///{path}"), MIGRATION_TABLE)
    yoyo.init_database()
    return yoyo


@contextlib.contextmanager
def _exclusive(target: str | Path, backend: str, description: str) -> Iterator[None]:
    """Holds the migration lock of one database (waits while another gateway migrates)."""
    if backend == "postgresql":
        import psycopg

        with psycopg.connect(str(target), autocommit=True) as conn:
            row = conn.execute("SELECT pg_try_advisory_lock(%s)", (ADVISORY_LOCK,)).fetchone()
            if not (row and row[0]):
                log.info("waiting for another gateway to finish migrating %s", description)
                conn.execute("SELECT pg_advisory_lock(%s)", (ADVISORY_LOCK,))
            yield  # closing the connection releases the lock, even if this process dies
        return
    lock_path = Path(f"{target}.migrate-lock")
    with lock_path.open("a") as lock_file:
        try:
            fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.info("waiting for another gateway to finish migrating %s", description)
            fcntl.flock(lock_file, fcntl.LOCK_EX)
        yield  # the lock ends with the file handle, even if this process dies


def _state(yoyo: DatabaseBackend, known: Any) -> SchemaState:
    by_hash = {m.hash: m.id for m in known}
    applied = yoyo.get_applied_migration_hashes()
    return SchemaState(
        applied=tuple(by_hash[h] for h in applied if h in by_hash),
        pending=tuple(m.id for m in yoyo.to_apply(known)),
        unknown=tuple(h for h in applied if h not in by_hash),
    )


def schema_state(target: str | Path, backend: str) -> SchemaState:
    """The migrations applied to a database and those pending (creates yoyo's own tables)."""
    yoyo = _backend(target, backend)
    try:
        return _state(yoyo, read_migrations(MIGRATIONS))
    finally:
        yoyo.connection.close()


def migrate(target: str | Path, backend: str, description: str) -> SchemaState:
    """Applies the pending migrations under the lock; raises MigrationError saying what to do.

    Failing to connect raises the driver's error unchanged (the gateway then says to check the
    URL, disk space and permissions)."""
    with _exclusive(target, backend, description):
        yoyo = _backend(target, backend)
        try:
            state = _apply(yoyo, backend, description)
        finally:
            yoyo.connection.close()
    log.info("database %s: schema at %s", description, state.version)
    return state


def _apply(yoyo: DatabaseBackend, backend: str, description: str) -> SchemaState:
    """Applies what is pending, one migration (one transaction) at a time."""
    step = "reading the migrations"
    try:
        known = read_migrations(MIGRATIONS)
        _log_before(_state(yoyo, known), yoyo, description)
        stale = yoyo.execute(f"SELECT pid FROM {yoyo.lock_table_quoted}").fetchall()
        if stale:  # we hold the outer lock: no other gateway is migrating
            log.warning("removing a migration lock left by process %s", stale[0][0])
            yoyo.break_lock()
        with yoyo.lock(timeout=LOCK_TIMEOUT_S):
            for migration in yoyo.to_apply(known):
                step = f"applying {migration.id}"
                log.info("database %s: applying migration %s", description, migration.id)
                yoyo.apply_one(migration)
        if backend == "sqlite":
            # switching to WAL needs the file to itself and SQLite does not wait for that:
            # done here, under the lock, no gateway's connection races another's migration
            yoyo.execute("PRAGMA journal_mode=WAL")
        return _state(yoyo, known)
    except Exception as exc:  # noqa: BLE001 - any failure stops the start with one clear message
        raise MigrationError(
            f"the schema migration of {description} failed while {step}: {exc!r}. A migration "
            "runs in a transaction, so the database stays at the last version that applied "
            "and nothing was lost. Fix the cause, then start the gateway again; "
            "`python -m voicebot.store` shows the applied and pending migrations."
        ) from exc


def _log_before(state: SchemaState, yoyo: DatabaseBackend, description: str) -> None:
    if not state.applied and "calls" in yoyo.list_tables():
        log.info(
            "database %s was created before schema migrations: adopting it at the baseline "
            "(nothing is changed or lost)",
            description,
        )
    if state.unknown:
        log.warning(
            "database %s has %d migration(s) this gateway does not know: a newer version "
            "upgraded it. Run that version, or expect errors.",
            description,
            len(state.unknown),
        )
