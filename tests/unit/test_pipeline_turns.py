"""The turn recorder: numbered turns, written once, and a record closed whatever happens."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from tests.unit.pipeline_fakes import FakeStore
from voicebot.pipeline.turns import TurnRecorder


def test_turns_are_numbered_in_order_and_written_once() -> None:
    store = FakeStore()
    recorder = TurnRecorder("c1", store)

    async def scenario() -> None:
        first = recorder.new("bot", "Guten Tag")
        second = recorder.new("caller", "Hallo")
        assert (first.seq, second.seq) == (1, 2)
        await recorder.write(second)
        await recorder.write(second)
        assert recorder.open_turns == [first]
        await recorder.close("hangup")

    asyncio.run(scenario())
    assert [(t.seq, t.speaker) for t in store.turns] == [(2, "caller"), (1, "bot")]
    assert store.ends == [("c1", "hangup", None, None)]


def test_leftovers_are_closed_at_the_end_and_a_bot_turn_counts_as_cut_off() -> None:
    store = FakeStore()
    recorder = TurnRecorder("c1", store)

    async def scenario() -> None:
        recorder.new("caller", "Ich möchte")
        recorder.new("bot", "Einen Moment")
        await recorder.close("handoff", "buergerbuero", "asked_for_human")
        await recorder.close("hangup")  # idempotent

    asyncio.run(scenario())
    caller, bot = store.turns
    assert not caller.interrupted and caller.ended_at is None
    assert bot.interrupted and bot.ended_at is not None
    assert store.ends == [("c1", "handoff", "buergerbuero", "asked_for_human")]


def test_the_call_row_is_closed_even_when_turns_cannot_be_written() -> None:
    store = FakeStore(fail_turns=ConnectionError("database gone"))
    recorder = TurnRecorder("c1", store)

    async def scenario() -> None:
        recorder.new("bot", "Guten Tag")
        recorder.new("bot", "Wie kann ich helfen?")
        await recorder.close("hangup")

    asyncio.run(scenario())
    assert store.ends == [("c1", "hangup", None, None)]


def test_stream_time_maps_to_wall_clock_time() -> None:
    recorder = TurnRecorder("c1", FakeStore())
    start = datetime.fromisoformat(recorder.wall(0))
    t0 = recorder.t0_wall
    assert start == t0.replace(microsecond=t0.microsecond // 1000 * 1000)
    assert datetime.fromisoformat(recorder.wall(1500)) - start == timedelta(milliseconds=1500)
