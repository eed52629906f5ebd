"""Playback and barge-in: bot audio paced to the sink, stopped when the caller speaks.

Every piece of bot audio (a TTS answer, a fixed prompt, the closing handoff message) is one bot
turn. While it plays with barge-in, `barge_in()` (caller speech or a key) stops it at the next
frame; the far end is then asked to drop what it has buffered, otherwise the turn ends with a
mark. Either way the bot turn is written with its times and whether it was cut off.

A message may begin with sentences the caller cannot interrupt (the AI disclosure of the
greeting, EU AI Act Art. 50): they always play to the end, followed by the mark
`turn-<n>-held`; a barge-in during them stops the message right after them.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol

from voicebot.audio.resample import Pcm16
from voicebot.errors import VoicebotError
from voicebot.pipeline.playout import MediaSink, Pacer, frames
from voicebot.pipeline.prompts import Prompts
from voicebot.pipeline.turns import TurnRecorder
from voicebot.services.tts import split_sentences
from voicebot.store.calls import TurnRecord, utc_now

log = logging.getLogger(__name__)


# A piece of one bot turn: its audio chunks and whether barge-in may stop it.
Part = tuple[AsyncIterator[Pcm16], bool]


class Speaker(Protocol):
    """Streaming speech synthesis, one chunk per sentence (the TTS service)."""

    def stream(
        self, text: str, language: str, out_rate: int, length_scale: float | None = None
    ) -> AsyncIterator[Pcm16]:
        """Yields PCM at `out_rate`, sentence by sentence."""
        ...


@dataclass
class Spoken:
    """What happened while one piece of bot audio was played."""

    first_audio: float | None = None  # perf_counter() when the first frame left
    interrupted: bool = False


async def one_chunk(audio: Pcm16) -> AsyncIterator[Pcm16]:
    """A fixed prompt as a one-chunk stream for `play`."""
    yield audio


class Playback:
    """Plays bot audio to one call's sink; knows whether the bot is speaking now."""

    def __init__(
        self, sink: MediaSink, recorder: TurnRecorder, tts: Speaker, prompts: Prompts
    ) -> None:
        self._sink = sink
        self._recorder = recorder
        self._tts = tts
        self._prompts = prompts
        self._interrupt = asyncio.Event()
        self._speaking = False  # playing audio that the caller may interrupt (now or soon)

    @property
    def speaking(self) -> bool:
        """Whether bot audio is playing that barge-in stops (at once, or after the sentences
        the caller cannot interrupt)."""
        return self._speaking

    def barge_in(self) -> bool:
        """The caller spoke or pressed a key: stops interruptible playback (after its
        uninterruptible sentences); True if it will."""
        if not self._speaking:
            return False
        self._interrupt.set()
        return True

    async def say(
        self, text: str, language: str, length_scale: float, uninterruptible: int = 0
    ) -> Spoken:
        """Speaks a bot message sentence by sentence, as one bot turn; interruptible after its
        first `uninterruptible` sentences."""
        turn = self._recorder.new("bot", text)
        rate = self._sink.sample_rate
        sentences = split_sentences(text) if uninterruptible > 0 else []
        if not sentences:
            return await self.play(self._tts.stream(text, language, rate, length_scale), turn)
        held, rest = sentences[:uninterruptible], sentences[uninterruptible:]
        parts: list[Part] = [
            (self._tts.stream(" ".join(held), language, rate, length_scale), False)
        ]
        if rest:  # synthesised only once the held sentences are out
            parts.append((self._tts.stream(" ".join(rest), language, rate, length_scale), True))
        return await self._play(parts, turn)

    async def prompt(self, name: str, language: str, barge_in: bool = True) -> Spoken:
        """Plays one of the pre-synthesised prompts, as one bot turn; interruptible unless
        `barge_in` is False."""
        turn = self._recorder.new("bot", self._prompts.text(name, language))
        audio = self._prompts.get(name, language, self._sink.sample_rate)
        return await self.play(one_chunk(audio), turn, barge_in)

    async def say_to_the_end(
        self, text: str, spoken: str, language: str, length_scale: float
    ) -> None:
        """Speaks a closing message without barge-in (the caller must hear the handoff id);
        the turn records `text`, the voice says `spoken`. A failure is logged, not raised."""
        turn = self._recorder.new("bot", text)
        chunks = self._tts.stream(spoken, language, self._sink.sample_rate, length_scale)
        try:
            await self.play(chunks, turn, barge_in=False)
        except (VoicebotError, ConnectionError) as exc:
            log.warning("call %s: closing message not played: %s", turn.call_id, exc)
            turn.interrupted = True
            await self._recorder.write(turn)

    async def play(
        self, chunks: AsyncIterator[Pcm16], turn: TurnRecord, barge_in: bool = True
    ) -> Spoken:
        """Paces audio chunks to the sink, stopping on barge-in (unless `barge_in` is False);
        then writes the bot turn."""
        return await self._play([(chunks, barge_in)], turn)

    async def _play(self, parts: list[Part], turn: TurnRecord) -> Spoken:
        """Plays the parts of one turn in order: an uninterruptible part to its end (then the
        `-held` mark), an interruptible one until barge-in; then writes the bot turn."""
        spoken = Spoken()
        pacer = Pacer()
        self._interrupt.clear()
        self._speaking = any(interruptible for _, interruptible in parts)
        try:
            for n, (chunks, interruptible) in enumerate(parts):
                if interruptible and self._interrupt.is_set():
                    spoken.interrupted = True  # the caller spoke during the held part
                    break
                await self._send(chunks, interruptible, pacer, spoken, turn)
                if spoken.interrupted:
                    break
                if not interruptible and n < len(parts) - 1:
                    await self._sink.send_mark(f"turn-{turn.seq}-held")
        finally:
            self._speaking = False
            turn.ended_at = utc_now()
            turn.interrupted = spoken.interrupted
        if spoken.interrupted:
            await self._sink.clear()
        else:
            await self._sink.send_mark(f"turn-{turn.seq}")
        await self._recorder.write(turn)
        return spoken

    async def _send(
        self,
        chunks: AsyncIterator[Pcm16],
        interruptible: bool,
        pacer: Pacer,
        spoken: Spoken,
        turn: TurnRecord,
    ) -> None:
        """Paces one part's chunks to the sink frame by frame; an interruptible part stops at
        the first frame after a barge-in (`spoken.interrupted`)."""
        rate = self._sink.sample_rate
        async for chunk in chunks:
            for frame in frames(chunk, rate):
                if interruptible and self._interrupt.is_set():
                    spoken.interrupted = True
                    return
                await pacer.wait()
                if spoken.first_audio is None:
                    spoken.first_audio = time.perf_counter()
                    turn.started_at = utc_now()
                await self._sink.send_audio(frame)
            pacer.reset()
