"""Playback and barge-in: paced frames to the sink, stopped and cleared when the caller speaks."""

from __future__ import annotations

import asyncio

from tests.unit.pipeline_fakes import FakeSink, FakeStore, FakeTts, prompts, until
from voicebot.pipeline.playback import Playback
from voicebot.pipeline.turns import TurnRecorder
from voicebot.services.tts import TtsError


def _playback(tts: FakeTts | None = None) -> tuple[Playback, FakeSink, FakeStore]:
    sink, store = FakeSink(), FakeStore()
    return Playback(sink, TurnRecorder("c1", store), tts or FakeTts(), prompts()), sink, store


def test_a_message_is_played_to_the_end_marked_and_recorded() -> None:
    playback, sink, store = _playback(FakeTts(frames=3))
    spoken = asyncio.run(playback.say("Guten Tag. Wie kann ich helfen?", "de", 1.0))
    assert len(sink.frames) == 6 and sink.marks == ["turn-1"] and sink.clears == 0
    assert not spoken.interrupted and spoken.first_audio is not None
    (turn,) = store.turns
    assert turn.speaker == "bot" and turn.text == "Guten Tag. Wie kann ich helfen?"
    assert turn.started_at is not None and turn.ended_at is not None and not turn.interrupted


def test_barge_in_stops_playback_and_clears_the_far_end() -> None:
    playback, sink, store = _playback(FakeTts(frames=200))

    async def scenario() -> bool:
        assert not playback.barge_in()  # nothing playing: nothing to stop
        speaking = asyncio.create_task(playback.say("Eine lange Antwort.", "de", 1.0))
        await until(lambda: len(sink.frames) >= 2)
        assert playback.speaking
        stopped = playback.barge_in()
        spoken = await speaking
        assert spoken.interrupted and not playback.speaking
        return stopped

    assert asyncio.run(scenario())
    assert len(sink.frames) < 200 and sink.clears == 1 and sink.marks == []
    assert store.turns[0].interrupted


def test_a_prompt_is_a_bot_turn_with_its_text() -> None:
    playback, sink, store = _playback()
    asyncio.run(playback.prompt("filler", "en"))
    assert [t.text for t in store.turns] == ["One moment, please."]
    assert len(sink.frames) == 2 and sink.marks == ["turn-1"]


def test_a_closing_message_cannot_be_interrupted() -> None:
    playback, sink, store = _playback(FakeTts(frames=20))

    async def scenario() -> None:
        closing = asyncio.create_task(playback.say_to_the_end("Nr. H7K2", "H 7 K 2", "de", 1.0))
        await until(lambda: len(sink.frames) >= 1)
        assert not playback.barge_in()
        await closing

    asyncio.run(scenario())
    assert len(sink.frames) == 40 and sink.clears == 0
    assert store.turns[0].text == "Nr. H7K2" and not store.turns[0].interrupted


def test_a_closing_message_that_fails_is_recorded_as_cut_off() -> None:
    playback, sink, store = _playback(FakeTts(fail=TtsError("no voice")))
    asyncio.run(playback.say_to_the_end("Nr. H7K2", "H 7 K 2", "de", 1.0))
    assert sink.frames == [] and store.turns[0].interrupted
