"""The segmenter's one owner: pushes, the end-of-turn switch and the flush run one at a time on
the VAD thread, and nothing touches the segmenter after the flush."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from tests.unit.pipeline_fakes import FakeSegmenter, until, utterance
from voicebot.audio.vad import SpeechStarted
from voicebot.pipeline.listening import Listener

AUDIO = np.ones(320, dtype=np.int16)


class SlowSegmenter(FakeSegmenter):
    """A push that blocks its thread until released, and notes overlapping jobs."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()
        self.busy = False
        self.overlaps = 0

    def push(self, audio: np.ndarray) -> list:  # type: ignore[override,type-arg]
        self.busy = True
        self.release.wait(10)
        events = super().push(audio)
        self.busy = False
        return events

    def flush(self):  # type: ignore[no-untyped-def]
        self.overlaps += self.busy
        return super().flush()


def test_the_flush_waits_for_the_push_in_flight_and_ends_the_stream() -> None:
    seg = SlowSegmenter()
    seg.leftover = utterance(0, 500, complete=False)
    pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="vad")  # two: no free ordering

    async def scenario() -> None:
        listener = Listener(seg, pool)
        pushing = asyncio.create_task(listener.push(AUDIO))
        await until(lambda: seg.busy)
        flushing = asyncio.create_task(listener.flush())
        await asyncio.sleep(0)
        assert not flushing.done()
        seg.release.set()
        await pushing
        assert await flushing == seg.leftover
        assert listener.closed and not listener.in_speech
        assert await listener.push(AUDIO) == []  # audio after the end is ignored
        assert await listener.flush() is None

    asyncio.run(scenario())
    pool.shutdown()
    assert seg.pushes == 1 and seg.overlaps == 0
    assert all(name.startswith("vad") for name in seg.threads)


def test_a_cancelled_push_still_finishes_before_the_flush() -> None:
    seg = SlowSegmenter()
    pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="vad")

    async def scenario() -> None:
        listener = Listener(seg, pool)
        pushing = asyncio.create_task(listener.push(AUDIO))
        await until(lambda: seg.busy)
        pushing.cancel()  # e.g. the RTP task stopped at the hang-up
        flushing = asyncio.create_task(listener.flush())
        await until(lambda: pushing.done())
        seg.release.set()
        await flushing

    asyncio.run(scenario())
    pool.shutdown()
    assert seg.overlaps == 0 and seg.flushed


def test_events_and_state_come_from_the_vad_thread() -> None:
    seg = FakeSegmenter()
    seg.script = [[SpeechStarted(0)]]
    seg.in_speech, seg.speech_end_ms = True, 640
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vad")

    async def scenario() -> None:
        listener = Listener(seg, pool)
        listener.expect_answer("yes_no")
        listener.expect_answer("long")  # only the latest switch matters
        assert seg.answers == []  # applied with the next audio, on the VAD thread
        assert await listener.push(AUDIO, typing=True) == [SpeechStarted(0)]
        assert (listener.in_speech, listener.speech_end_ms) == (True, 640)
        assert await listener.push(np.zeros(0, dtype=np.int16)) == []

    asyncio.run(scenario())
    pool.shutdown()
    assert seg.answers == ["long"] and seg.held == [True] and seg.pushes == 1
    assert seg.threads and all(name.startswith("vad") for name in seg.threads)
