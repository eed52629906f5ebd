"""Call records in SQLite: round trip, order, retention purge, and no loss on a full disk."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

from voicebot.store.calls import CallRecord, CallStore, TurnRecord, call_to_json, iso, utc_now


def run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(coro)


def test_call_round_trip_keeps_turn_order_and_fields(tmp_path: Path) -> None:
    async def scenario() -> dict[str, object]:
        store = CallStore(tmp_path / "calls.db")
        await store.open()
        await store.start_call(CallRecord("CA1", "twilio", "de", utc_now(), caller="+49214"))
        await store.add_turn(
            TurnRecord(
                "CA1",
                2,
                "caller",
                "Wann?",
                asr_confidence=0.8,
                intent="ask_opening_hours",
                asr_ms=600.0,
            )
        )
        await store.add_turn(TurnRecord("CA1", 1, "bot", "Guten Tag"))
        await store.end_call("CA1", "handoff", "buergerbuero", "caller_request")
        call = await store.get_call("CA1")
        await store.close()
        assert call is not None
        return call_to_json(call)

    data = run(scenario())
    assert [t["seq"] for t in data["turns"]] == [1, 2]  # type: ignore[index]
    caller = data["turns"][1]  # type: ignore[index]
    assert caller["intent"] == "ask_opening_hours" and caller["asr_ms"] == 600.0
    assert data["end_reason"] == "handoff" and data["handoff_department"] == "buergerbuero"
    assert data["caller"] == "+49214" and data["ended_at"]


def test_purge_deletes_old_calls_with_their_turns(tmp_path: Path) -> None:
    async def scenario() -> tuple[int, object, object]:
        store = CallStore(tmp_path / "calls.db")
        await store.open()
        old = iso(datetime.now(timezone.utc) - timedelta(days=40))
        await store.start_call(CallRecord("OLD", "twilio", "de", old))
        await store.add_turn(TurnRecord("OLD", 1, "bot", "x"))
        await store.start_call(CallRecord("NEW", "twilio", "de", utc_now()))
        purged = await store.purge_older_than(datetime.now(timezone.utc) - timedelta(days=30))
        result = purged, await store.get_call("OLD"), await store.get_call("NEW")
        await store.close()
        return result

    purged, old, new = run(scenario())
    assert purged == 1 and old is None and new is not None
    rows = sqlite3.connect(tmp_path / "calls.db").execute("SELECT count(*) FROM turns").fetchone()
    assert rows[0] == 0


def test_full_disk_keeps_writes_and_retries_them(tmp_path: Path, caplog) -> None:  # type: ignore[no-untyped-def]
    async def scenario() -> dict[str, object]:
        store = CallStore(tmp_path / "calls.db")
        await store.open()
        await store.start_call(CallRecord("CA2", "twilio", "de", utc_now()))
        db = store._db()
        pages = db.execute("PRAGMA page_count").fetchone()[0]
        await store._run(lambda: db.execute(f"PRAGMA max_page_count = {pages}"))  # disk "full"
        for seq in range(1, 40):
            await store.add_turn(TurnRecord("CA2", seq, "caller", "x" * 2000))
        assert store._backlog, "writes that did not fit are kept in memory"
        await store._run(lambda: db.execute("PRAGMA max_page_count = 1073741823"))  # space again
        await store.end_call("CA2", "hangup")
        call = await store.get_call("CA2")
        await store.close()
        assert call is not None
        return call_to_json(call)

    data = run(scenario())
    assert len(data["turns"]) == 39  # type: ignore[arg-type]
    assert data["end_reason"] == "hangup"
    assert any("free disk space" in r.getMessage() for r in caplog.records)


def test_gateway_retention_purge_by_moving_the_clock(tmp_path: Path) -> None:
    from voicebot.config import Settings
    from voicebot.gateway import Gateway

    settings = Settings(data_dir=tmp_path, transcript_retention_days=30)

    async def scenario() -> tuple[int, int, object]:
        gateway = Gateway(settings)
        await gateway.store.open()
        await gateway.store.start_call(CallRecord("CA3", "twilio", "de", utc_now()))
        now = datetime.now(timezone.utc)
        kept = await gateway.purge_expired(now + timedelta(days=29))
        purged = await gateway.purge_expired(now + timedelta(days=31))
        left = await gateway.store.get_call("CA3")
        await gateway.store.close()
        return kept, purged, left

    kept, purged, left = run(scenario())
    assert (kept, purged, left) == (0, 1, None)
