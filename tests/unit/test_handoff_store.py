"""Handoff records, status changes, outbox and retention, against SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import datetime, timedelta, timezone
from pathlib import Path

from voicebot.config import Settings
from voicebot.store.calls import CallRecord, CallStore, TurnRecord, iso, utc_now
from voicebot.store.db import Database
from voicebot.store.handoffs import Handoff, HandoffStore

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=timezone.utc)


def make_handoff(handoff_id: str = "K7M42X", call_id: str = "CA1", at: datetime = NOW) -> Handoff:
    return Handoff(
        handoff_id=handoff_id,
        call_id=call_id,
        kind="transfer",
        status="open",
        created_at=iso(at),
        updated_at=iso(at),
        language="de",
        reason="caller_request",
        department="buergerbuero",
        topic="Öffnungszeiten",
        summary="Öffnungszeiten: „Wann?“",
        caller="+492141234",
        target="sip:buergerbuero@pbx.local",
        last_intent="request_human",
        last_intent_confidence=0.97,
        slots={"dtmf_choice": "human", "street": "Friedrich-Ebert-Platz"},
        transcript=[{"seq": 1, "speaker": "caller", "text": "Wann?", "asr_confidence": 0.8}],
    )


def test_round_trip_and_queue(database_target: str | Path) -> None:
    async def scenario() -> None:
        db = Database(database_target)
        await db.open()
        store = HandoffStore(db)
        assert await store.insert(make_handoff())
        assert not await store.insert(make_handoff()), "a taken id is refused, not overwritten"
        await store.insert(make_handoff("B2C3D4", "CA2", NOW + timedelta(minutes=1)))
        got = await store.get("K7M42X")
        assert got == make_handoff()
        assert [h.handoff_id for h in await store.active()] == ["B2C3D4", "K7M42X"]
        assert [h.handoff_id for h in await store.for_call("CA2")] == ["B2C3D4"]
        assert await store.get("ZZZZZZ") is None
        await db.close()

    asyncio.run(scenario())


def test_accept_then_close_only_by_the_accepting_agent(database_target: str | Path) -> None:
    async def scenario() -> None:
        db = Database(database_target)
        await db.open()
        store = HandoffStore(db)
        await store.insert(make_handoff())
        assert (await store.close("K7M42X", "anna", "zu früh", NOW))[0] == "conflict"
        result, handoff = await store.accept("K7M42X", "anna", NOW)
        assert result == "ok" and handoff and handoff.agent == "anna"
        assert (await store.accept("K7M42X", "anna", NOW))[0] == "ok"  # idempotent
        assert (await store.accept("K7M42X", "ben", NOW))[0] == "conflict"
        assert (await store.close("K7M42X", "ben", "fremd", NOW))[0] == "conflict"
        result, handoff = await store.close("K7M42X", "anna", "Termin vereinbart", NOW)
        assert result == "ok" and handoff and handoff.status == "closed"
        assert handoff.note == "Termin vereinbart" and handoff.closed_at
        assert (await store.close("K7M42X", "anna", "nochmal", NOW))[0] == "conflict"
        assert (await store.accept("nope", "anna", NOW))[0] == "not_found"
        assert await store.active() == []
        await db.close()

    asyncio.run(scenario())


def test_racing_agents_cannot_both_accept(database_target: str | Path) -> None:
    async def scenario() -> list[str]:
        db = Database(database_target)
        await db.open()
        store = HandoffStore(db)
        await store.insert(make_handoff())
        results = await asyncio.gather(
            *(store.accept("K7M42X", f"agent{i}", NOW) for i in range(8))
        )
        await db.close()
        return [r for r, _ in results]

    assert sorted(asyncio.run(scenario())) == ["conflict"] * 7 + ["ok"]


def test_outbox_is_claimed_and_marked_delivered_once(database_target: str | Path) -> None:
    async def scenario() -> None:
        db = Database(database_target)
        await db.open()
        store = HandoffStore(db)
        await store.insert(make_handoff(), ("handoff.created", '{"x": 1}'))
        claimed = await store.claim_due(NOW, NOW + timedelta(seconds=60))
        assert [e["handoff_id"] for e in claimed] == ["K7M42X"]
        assert await store.claim_due(NOW, NOW + timedelta(seconds=60)) == [], "claimed once"
        entry = claimed[0]["id"]
        await store.mark_failed(entry, "HTTP 503", NOW + timedelta(seconds=2))
        assert await store.claim_due(NOW, NOW) == [], "not due before the backoff"
        later = NOW + timedelta(seconds=3)
        assert [e["attempts"] for e in await store.claim_due(later, later)] == [1]
        assert await store.mark_delivered(entry, later)
        assert not await store.mark_delivered(entry, later), "marking is idempotent"
        assert await store.outbox() == []
        (row,) = await store.outbox(undelivered_only=False)
        assert row["attempts"] == 2 and row["delivered_at"] and row["last_error"] is None
        await db.close()

    asyncio.run(scenario())


def test_call_store_works_on_both_backends(database_target: str | Path) -> None:
    async def scenario() -> CallRecord | None:
        store = CallStore(Database(database_target))
        await store.open()
        await store.start_call(CallRecord("CA9", "twilio", "de", utc_now(), caller="+49214"))
        await store.add_turn(TurnRecord("CA9", 2, "caller", "Wann?", asr_confidence=0.5))
        await store.add_turn(TurnRecord("CA9", 1, "bot", "Guten Tag", interrupted=True))
        await store.add_turn(TurnRecord("CA9", 2, "caller", "Wann genau?", asr_confidence=0.6))
        await store.end_call("CA9", "handoff", "buergerbuero", "caller_request")
        call = await store.get_call("CA9")
        assert [c["call_id"] for c in await store.list_calls()] == ["CA9"]
        assert await store.ping()
        await store.close()
        return call

    call = asyncio.run(scenario())
    assert call is not None and call.end_reason == "handoff"
    assert [(t.seq, t.text) for t in call.turns] == [(1, "Guten Tag"), (2, "Wann genau?")]
    assert call.turns[0].interrupted is True and call.turns[1].asr_confidence == 0.6


def test_retention_purges_calls_and_handoffs_by_moving_the_clock(
    database_target: str | Path, tmp_path: Path
) -> None:
    from voicebot.gateway import Gateway

    settings = Settings(data_dir=tmp_path, transcript_retention_days=30)
    if isinstance(database_target, str):
        settings = dataclasses.replace(settings, database_url=database_target)
    else:
        settings = dataclasses.replace(settings, database_path=database_target)

    async def scenario() -> tuple[int, int, object, object, int]:
        gateway = Gateway(settings)
        await gateway.store.open()
        now = datetime.now(timezone.utc)
        await gateway.store.start_call(CallRecord("CA1", "twilio", "de", iso(now)))
        await gateway.store.add_turn(TurnRecord("CA1", 1, "caller", "Wann?"))
        await gateway.handoff_store.insert(make_handoff(at=now), ("handoff.created", "{}"))
        kept = await gateway.purge_expired(now + timedelta(days=29))
        purged = await gateway.purge_expired(now + timedelta(days=31))
        call = await gateway.store.get_call("CA1")
        handoff = await gateway.handoff_store.get("K7M42X")
        outbox = len(await gateway.handoff_store.outbox(undelivered_only=False))
        await gateway.store.close()
        return kept, purged, call, handoff, outbox

    kept, purged, call, handoff, outbox = asyncio.run(scenario())
    assert (kept, purged) == (0, 2)
    assert call is None and handoff is None and outbox == 0
