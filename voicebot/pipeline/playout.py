"""Paced playout: bot audio leaves in 20 ms frames at real time, never in bursts."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Protocol

import numpy as np

from voicebot.audio.resample import Pcm16

FRAME_MS = 20


class MediaSink(Protocol):
    """What a transport offers the pipeline for the way back to the caller."""

    sample_rate: int

    @property
    def on_hold(self) -> bool:
        """Whether the caller holds the call (silence then is not a caller who says nothing)."""
        ...

    async def send_audio(self, frame: Pcm16) -> None:
        """Sends exactly one 20 ms frame of PCM at `sample_rate`."""

    async def send_mark(self, name: str) -> None:
        """Marks the end of a bot utterance in the outgoing stream."""

    async def clear(self) -> None:
        """Asks the far end to drop audio it has buffered (barge-in)."""

    async def close(self, reason: str) -> None:
        """Ends the media stream (hang-up or transfer)."""

    async def transfer(self, target: str, handoff_id: str) -> bool:
        """Hands the call to `target` (SIP: REFER with the handoff id); True if it was taken.

        A transport whose platform transfers on its own (the stream closes with the reason
        "handoff") returns True.
        """
        ...


def frames(pcm: Pcm16, sample_rate: int, frame_ms: int = FRAME_MS) -> Iterator[Pcm16]:
    """Cuts PCM into frames of `frame_ms`, padding the last one with silence."""
    size = sample_rate * frame_ms // 1000
    for start in range(0, len(pcm), size):
        frame = pcm[start : start + size]
        if len(frame) < size:
            frame = np.concatenate([frame, np.zeros(size - len(frame), dtype=np.int16)])
        yield frame


class Pacer:
    """Waits until the next frame is due; after a pause it restarts from the current time."""

    def __init__(self, frame_ms: int = FRAME_MS) -> None:
        self._period = frame_ms / 1000
        self._next: float | None = None

    def reset(self) -> None:
        """Forgets the schedule, e.g. after a gap between sentences or a barge-in."""
        self._next = None

    async def wait(self) -> None:
        """Sleeps until the next frame slot (the first slot is now)."""
        loop = asyncio.get_running_loop()
        now = loop.time()
        if self._next is None or self._next < now - self._period:
            self._next = now  # we fell behind (TTS gap): never catch up with a burst
        delay = self._next - now
        if delay > 0:
            await asyncio.sleep(delay)
        self._next += self._period
