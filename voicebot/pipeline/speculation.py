"""Speculative ASR: start transcribing at a short pause, keep the result if the turn ends there.

At `speculative_silence_ms` the segmenter reports the utterance as it would end there. If the
caller then stays silent until the end of turn, the final utterance is the same audio and its
transcript is already (partly) done. If the caller speaks again, the guess is dropped. A guess
is only started on an idle ASR worker: under load it would delay other callers' transcriptions.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Protocol

from voicebot.audio.resample import Pcm16
from voicebot.audio.vad import Utterance
from voicebot.services.asr import Transcript


class Transcriber(Protocol):
    """The shared ASR service as the pipeline uses it."""

    @property
    def idle_workers(self) -> int:
        """Workers with nothing to do now."""
        ...

    @property
    def loaded(self) -> bool:
        """Whether the model is ready."""
        ...

    async def transcribe(self, pcm: Pcm16, language: str | None = None) -> Transcript:
        """Transcribes 16 kHz PCM."""
        ...

    async def recognize(self, pcm: Pcm16, language: str | None, expect: str | None) -> Transcript:
        """Transcribes 16 kHz PCM against an expected closed answer (constrained.py)."""
        ...


@dataclass
class _Guess:
    """ASR started at a short pause, for the utterance that ends at `speech_end_ms`."""

    start_ms: int
    speech_end_ms: int
    task: asyncio.Task[Transcript]


def _retrieve_exception(task: asyncio.Task[Transcript]) -> None:
    """Marks a dropped guess's error as seen (no "exception never retrieved" warnings)."""
    if not task.cancelled():
        task.exception()


class SpeculativeAsr:
    """Transcribes one call's utterances, reusing the transcript started at the last pause."""

    def __init__(self, asr: Transcriber) -> None:
        self._asr = asr
        self._guess: _Guess | None = None
        self.hits = 0  # utterances answered from the speculative transcript

    @property
    def pending(self) -> bool:
        """Whether a guess is kept for the current utterance."""
        return self._guess is not None

    def speculate(self, utt: Utterance, language: str) -> None:
        """Starts ASR of the utterance as it ends at this pause (only on an idle worker)."""
        self.drop()
        if self._asr.idle_workers == 0:
            return
        task = asyncio.create_task(self._asr.transcribe(utt.pcm, language))
        task.add_done_callback(_retrieve_exception)
        self._guess = _Guess(utt.start_ms, utt.speech_end_ms, task)

    def caller_spoke_until(self, speech_end_ms: int) -> None:
        """The utterance now ends at `speech_end_ms`: a guess of an earlier end is outdated."""
        if self._guess is not None and self._guess.speech_end_ms != speech_end_ms:
            self.drop()

    def drop(self) -> None:
        """Cancels the guess (still queued: it never runs; running: its result is ignored)."""
        if self._guess is not None:
            self._guess.task.cancel()
            self._guess = None

    async def transcribe(
        self, utt: Utterance, language: str, expect: str | None = None
    ) -> Transcript:
        """The guess when it is of the same audio, else a new transcription. When the dialogue
        expects a closed answer (`expect`), the utterance is recognised against it instead:
        one encoder pass for both, so the free guess is dropped."""
        if expect:
            self.drop()
            return await self._asr.recognize(utt.pcm, language, expect)
        guess, self._guess = self._guess, None
        if guess is not None and (guess.start_ms, guess.speech_end_ms) == (
            utt.start_ms,
            utt.speech_end_ms,
        ):
            self.hits += 1
            return await guess.task
        if guess is not None:
            guess.task.cancel()
        return await self._asr.transcribe(utt.pcm, language)
