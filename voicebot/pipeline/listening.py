"""The one owner of a call's segmenter: every access runs as a job on the VAD thread, in order.

Silero scoring is inference, so the segmenter runs off the event loop. Its state must then be
touched by one thread at a time: pushing audio, flushing the last utterance when the call ends,
switching the end-of-turn silence to the answer the dialogue expects, and holding it while the
caller types digits all go through this runner, one job after the other. The listener also keeps
which closed answer the dialogue expects (`recognition`: yes or no, a postcode, a phone
number), so that the utterance is recognised against it (voicebot/services/constrained.py).
After `flush()` the stream is over and further audio is ignored. The loop reads the segmenter's
state only from the snapshot each job returns.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any, Protocol, TypeVar

from voicebot.audio.resample import Pcm16
from voicebot.audio.vad import Answer, Utterance, VadEvent
from voicebot.services.constrained_text import RECOGNITIONS

T = TypeVar("T")
# the end-of-turn silence for an expected kind of answer: digits come with pauses between groups
END_OF_TURN: dict[str, Answer] = {
    "long": "long",
    "yes_no": "yes_no",
    "normal": "normal",
    "postcode": "long",
    "phone": "long",
    "digits": "long",
    "house_number": "normal",
}


class SegmenterLike(Protocol):
    """The endpointing state machine (voicebot.audio.vad.Segmenter)."""

    @property
    def in_speech(self) -> bool:
        """Whether an utterance is being collected."""
        ...

    @property
    def speech_end_ms(self) -> int:
        """Stream time just after the last voiced window."""
        ...

    def expect_answer(self, answer: Answer) -> None:
        """The end-of-turn silence for the answer expected next (long, yes_no, normal)."""

    def hold_end_of_turn(self, hold: bool) -> None:
        """Pauses the end-of-turn timer (keypad entry in progress) or lets it run again."""

    def push(self, pcm: Pcm16) -> list[VadEvent]:
        """Feeds 16 kHz audio; returns the events it completed."""
        ...

    def flush(self) -> Utterance | None:
        """Ends the stream: the utterance in progress, marked incomplete."""
        ...


def _retrieve(future: asyncio.Future[Any]) -> None:
    """Marks a job's error as seen when its caller was cancelled and nobody awaits it."""
    if not future.cancelled():
        future.exception()


class Listener:
    """Runs one call's segmenter jobs serially on the VAD executor."""

    def __init__(self, segmenter: SegmenterLike, executor: Executor) -> None:
        self._segmenter = segmenter
        self._executor = executor
        self._lock = asyncio.Lock()
        self._running: asyncio.Future[Any] | None = None  # the job on the VAD thread
        self._answer: Answer | None = None  # to apply with the next push
        self.recognition: str | None = None  # the closed answer expected next, if any
        self._closed = False
        self.in_speech = False  # as of the last job
        self.speech_end_ms = 0  # as of the last job

    @property
    def closed(self) -> bool:
        """Whether the stream has been flushed (the call is over)."""
        return self._closed

    def expect_answer(self, answer: str) -> None:
        """Switches the end-of-turn silence from the next audio on, and the closed answer the
        next utterance is recognised against ("normal", "long": none)."""
        self._answer = END_OF_TURN.get(answer, "normal")
        self.recognition = answer if answer in RECOGNITIONS else None

    async def push(self, audio: Pcm16, typing: bool = False) -> list[VadEvent]:
        """Scores 16 kHz audio; the events it completed (none once the stream is over).
        `typing`: the caller is keying digits, so silence does not end the utterance."""
        if self._closed or len(audio) == 0:
            return []
        async with self._lock:
            if self._closed:
                return []
            answer, self._answer = self._answer, None
            events, self.in_speech, self.speech_end_ms = await self._run(
                self._push_job, audio, answer, typing
            )
            return events

    async def flush(self) -> Utterance | None:
        """Ends the stream after any job in flight: the utterance the caller had begun."""
        async with self._lock:
            if self._closed:
                return None
            self._closed = True
            utterance = await self._run(self._segmenter.flush)
            self.in_speech = False
            return utterance

    async def _run(self, job: Callable[..., T], *args: Any) -> T:
        """One job on the VAD thread, strictly after the previous one (lock held)."""
        if self._running is not None and not self._running.done():
            # its caller was cancelled, but the thread still runs it: wait for the end
            await asyncio.wait({self._running})
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self._executor, job, *args)
        self._running = future
        future.add_done_callback(_retrieve)
        return await asyncio.shield(future)  # cancelled or not, `_running` ends with the job

    def _push_job(
        self, audio: Pcm16, answer: Answer | None, typing: bool
    ) -> tuple[list[VadEvent], bool, int]:
        """VAD thread: applies a pending end-of-turn switch and the keypad hold, pushes,
        snapshots the state."""
        seg = self._segmenter
        if answer is not None:
            seg.expect_answer(answer)
        seg.hold_end_of_turn(typing)
        events = seg.push(audio)
        return events, seg.in_speech, seg.speech_end_ms
