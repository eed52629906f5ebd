"""Speculative ASR: started at a pause, reused for the same audio, dropped when outdated."""

from __future__ import annotations

import asyncio

from tests.unit.pipeline_fakes import FakeAsr, until, utterance
from voicebot.pipeline.speculation import SpeculativeAsr


def test_a_guess_of_the_same_audio_is_the_transcript() -> None:
    asr = FakeAsr()

    async def scenario() -> str:
        spec = SpeculativeAsr(asr)
        spec.speculate(utterance(0, 800), "de")
        spec.caller_spoke_until(800)  # silence since the pause: still the same utterance
        heard = await spec.transcribe(utterance(0, 800), "de")
        assert spec.hits == 1 and not spec.pending
        return heard.text

    assert asyncio.run(scenario()) == asr.text
    assert asr.calls == 1


def test_a_guess_of_other_audio_is_a_miss() -> None:
    asr = FakeAsr()
    asr.gate = asyncio.Event()

    async def scenario() -> int:
        spec = SpeculativeAsr(asr)
        spec.speculate(utterance(0, 800), "de")
        await until(lambda: asr.calls == 1)
        final = asyncio.create_task(spec.transcribe(utterance(0, 1400), "de"))
        await until(lambda: asr.cancelled == 1)  # the guess is cancelled
        assert asr.gate is not None
        asr.gate.set()
        await final
        return spec.hits

    assert asyncio.run(scenario()) == 0
    assert asr.calls == 2


def test_the_guess_is_dropped_when_the_caller_speaks_again() -> None:
    asr = FakeAsr()
    asr.gate = asyncio.Event()

    async def scenario() -> None:
        spec = SpeculativeAsr(asr)
        spec.speculate(utterance(0, 800), "de")
        await until(lambda: asr.calls == 1)
        spec.caller_spoke_until(1100)
        assert not spec.pending
        await until(lambda: asr.cancelled == 1)

    asyncio.run(scenario())


def test_no_guess_on_a_busy_worker() -> None:
    asr = FakeAsr()
    asr.idle_workers = 0

    async def scenario() -> bool:
        spec = SpeculativeAsr(asr)
        spec.speculate(utterance(0, 800), "de")
        return spec.pending

    assert asyncio.run(scenario()) is False
    assert asr.calls == 0
