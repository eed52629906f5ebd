"""Retention covers Rasa's tracker store and the logs; the data directory is private
(issue 12, findings 5 and 14)."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import stat
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from voicebot.config import Settings
from voicebot.retention_files import TRACKER_DB, make_private

# the columns of Rasa 3.6's SQLTrackerStore table (rasa/core/tracker_store.py, SQLEvent)
EVENTS = (
    "CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255) NOT NULL, "
    "type_name VARCHAR(255) NOT NULL, timestamp FLOAT, intent_name VARCHAR(255), "
    "action_name VARCHAR(255), data TEXT)"
)


def _tracker(path: Path, events: list[tuple[str, float]]) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute(EVENTS)
        conn.executemany(
            "INSERT INTO events (sender_id, type_name, timestamp, data) VALUES (?, 'user', ?, ?)",
            [(s, ts, '{"text": "Mein Name ist Jürgen Müller"}') for s, ts in events],
        )


def _senders(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {row[0] for row in conn.execute("SELECT sender_id FROM events")}


def test_the_gateway_purge_deletes_old_rasa_conversations_and_old_logs(tmp_path: Path) -> None:
    from voicebot.gateway import Gateway

    now = datetime.now(timezone.utc)
    old, recent = (now - timedelta(days=40)).timestamp(), (now - timedelta(days=1)).timestamp()
    # "mixed" spoke 40 days ago and yesterday: its conversation is still within the retention
    _tracker(tmp_path / TRACKER_DB, [("old", old), ("old", old + 5), ("new", recent)])
    with sqlite3.connect(tmp_path / TRACKER_DB) as conn:
        conn.executemany(
            "INSERT INTO events (sender_id, type_name, timestamp) VALUES ('mixed', 'user', ?)",
            [(old,), (recent,)],
        )
    logs = tmp_path / "logs"
    logs.mkdir()
    for name in ("gateway.log", "gateway.log.1", "rasa.log.2", "actions.log"):
        (logs / name).write_text("x")
    os.utime(logs / "gateway.log.1", (old, old))
    os.utime(logs / "actions.log", (old, old))  # a live file is rotated, never deleted
    (logs / "rasa.log.2").touch()

    async def scenario() -> None:
        gateway = Gateway(Settings(data_dir=tmp_path, transcript_retention_days=30))
        await gateway.store.open()
        await gateway.purge_expired(now)
        await gateway.store.close()

    asyncio.run(scenario())
    assert _senders(tmp_path / TRACKER_DB) == {"new", "mixed"}
    assert sorted(p.name for p in logs.iterdir()) == ["actions.log", "gateway.log", "rasa.log.2"]


def test_the_data_directory_is_0700_and_its_files_0600(tmp_path: Path) -> None:
    data = tmp_path / "var"
    (data / "logs").mkdir(parents=True)
    (data / "models").mkdir()
    for path in (data / "voicebot.db", data / TRACKER_DB, data / "logs" / "rasa.log"):
        path.write_text("x")
        path.chmod(0o644)
    (data / "models" / "voice.onnx").write_text("shared")
    (data / "models" / "voice.onnx").chmod(0o644)
    data.chmod(0o755)
    make_private(data)
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert stat.S_IMODE((data / "logs").stat().st_mode) == 0o700
    for path in (data / "voicebot.db", data / TRACKER_DB, data / "logs" / "rasa.log"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert stat.S_IMODE((data / "models" / "voice.onnx").stat().st_mode) == 0o644


def test_a_call_s_rasa_conversation_is_deleted_with_its_record(tmp_path: Path) -> None:
    """Per call, not only by age: the purge that deletes a call's record deletes the Rasa
    conversation keyed by its id, even when the conversation's last event is recent (here a
    late event); conversations of calls still kept stay, and so do recent ones of no call."""
    from voicebot.gateway import Gateway
    from voicebot.store.calls import CallRecord, iso

    now = datetime.now(timezone.utc)
    expired, kept = "twilio-" + "a" * 32, "sip-" + "b" * 32
    recent = (now - timedelta(days=1)).timestamp()
    _tracker(
        tmp_path / TRACKER_DB,
        [(expired, recent), (kept, recent), ("rasa-shell", recent)],
    )

    async def scenario() -> tuple[list[str], int]:
        gateway = Gateway(Settings(data_dir=tmp_path, transcript_retention_days=30))
        await gateway.store.open()
        for call_id, days in ((expired, 31), (kept, 1)):
            started = iso(now - timedelta(days=days))
            await gateway.store.start_call(CallRecord(call_id, "twilio", "de", started))
        purged = await gateway.purge_expired(now)
        left = [c["call_id"] for c in await gateway.store.list_calls()]
        await gateway.store.close()
        return left, purged

    left, purged = asyncio.run(scenario())
    assert left == [kept] and purged == 1
    assert _senders(tmp_path / TRACKER_DB) == {kept, "rasa-shell"}


def test_purge_tracker_deletes_the_given_calls_and_old_ones_and_counts_each_once(
    tmp_path: Path,
) -> None:
    from voicebot.retention_files import purge_tracker

    now = datetime.now(timezone.utc)
    old, recent = (now - timedelta(days=40)).timestamp(), (now - timedelta(days=1)).timestamp()
    db = tmp_path / TRACKER_DB
    _tracker(db, [("c1", recent), ("c1", recent + 1), ("c2", old), ("c3", recent)])
    cutoff = now - timedelta(days=30)
    assert purge_tracker(db, cutoff, ["c1", "c2", "not-in-the-store"]) == 2
    assert _senders(db) == {"c3"}
    assert purge_tracker(tmp_path / "missing.db", cutoff, ["c3"]) == 0


def test_the_purge_reaches_a_rasa_tracker_store_on_postgresql(
    postgres: Any, tmp_path: Path
) -> None:
    """With [rasa] tracker_store_url the conversations live in PostgreSQL: the purge deletes
    the expired calls' and the old ones there (the SQLite file is not Rasa's then)."""
    import psycopg

    from voicebot.config import RasaSettings
    from voicebot.retention_files import purge_files

    name = "tracker_" + uuid.uuid4().hex[:10]
    with psycopg.connect(postgres.url(), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    url = postgres.url(name)
    now = datetime.now(timezone.utc)
    old, recent = (now - timedelta(days=40)).timestamp(), (now - timedelta(days=1)).timestamp()
    settings = Settings(data_dir=tmp_path, rasa=RasaSettings(tracker_store_url=url))
    cutoff = now - timedelta(days=30)
    assert purge_files(settings, cutoff, ["c1"]).conversations == 0  # Rasa made no table yet
    with psycopg.connect(url) as conn:
        conn.execute(EVENTS.replace("INTEGER PRIMARY KEY", "SERIAL PRIMARY KEY"))
        for sender, ts in [("c1", recent), ("c1", recent + 1), ("c2", old), ("c3", recent)]:
            conn.execute(
                "INSERT INTO events (sender_id, type_name, timestamp, data) "
                "VALUES (%s, 'user', %s, '{}')",
                (sender, ts),
            )
    assert purge_files(settings, cutoff, ["c1", "not-there"]).conversations == 2
    with psycopg.connect(url) as conn:
        left = {row[0] for row in conn.execute("SELECT sender_id FROM events")}
    assert left == {"c3"}


def test_a_tracker_store_that_cannot_be_reached_is_logged_not_raised(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import socket

    from voicebot.config import RasaSettings
    from voicebot.retention_files import purge_files

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"postgresql://rasa:secret@127.0.0.1:{port}/rasa"
    settings = Settings(data_dir=tmp_path, rasa=RasaSettings(tracker_store_url=url))
    purged = purge_files(settings, datetime.now(timezone.utc), ["c1"])
    assert purged.conversations == 0
    assert "could not be purged" in caplog.text and "secret" not in caplog.text
