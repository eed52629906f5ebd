"""Retention per call against the real stack (issue 12, finding 5): the real Rasa keys a call's
conversation by the gateway's call id, and the purge that deletes the call's record deletes
that conversation, even while its last event is recent (by age alone it would stay).

The purge runs on a copy of the stack's data (sqlite backup), so the session's stack keeps its
calls for the other tests."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.support import Stack
from voicebot.caller import place_call
from voicebot.config import Settings
from voicebot.gateway import Gateway
from voicebot.retention_files import TRACKER_DB
from voicebot.store.calls import iso

pytestmark = pytest.mark.integration


def _copy(source: Path, target: Path) -> None:
    """A consistent copy of a SQLite file another process writes to."""
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)


def _senders(db: Path) -> set[str]:
    with sqlite3.connect(db) as conn:
        return {row[0] for row in conn.execute("SELECT DISTINCT sender_id FROM events")}


def test_a_call_s_conversation_goes_with_its_record(stack: Stack, tmp_path: Path) -> None:
    result = asyncio.run(place_call(stack.media_url, [], api_token=stack.token, dtmf="1"))
    call_id = result.call_sid
    assert result.record and call_id == result.record["call_id"] != result.platform_call_id
    copy = tmp_path / "data"
    copy.mkdir()
    _copy(stack.data_dir / "voicebot.db", copy / "voicebot.db")
    _copy(stack.data_dir / TRACKER_DB, copy / TRACKER_DB)
    assert call_id in _senders(copy / TRACKER_DB)  # Rasa's sender id is the gateway's call id
    others = _senders(copy / TRACKER_DB) - {call_id}
    # the call "started" 40 days ago; its conversation's events are minutes old
    with sqlite3.connect(copy / "voicebot.db") as conn:
        old = iso(datetime.now(timezone.utc) - timedelta(days=40))
        conn.execute("UPDATE calls SET started_at = ? WHERE call_id = ?", (old, call_id))

    async def purge() -> list[str]:
        gateway = Gateway(Settings(data_dir=copy, transcript_retention_days=30))
        await gateway.store.open()
        try:
            await gateway.purge_expired()
            return [c["call_id"] for c in await gateway.store.list_calls(500)]
        finally:
            await gateway.store.close()

    left = asyncio.run(purge())
    assert call_id not in left
    assert _senders(copy / TRACKER_DB) == others  # that conversation went, and only that one
