"""Speech recognition with faster-whisper in a dedicated thread pool.

The segments generator is consumed inside the worker thread, so the event loop never runs
inference. Options follow the measurements in docs/architecture.md ("Models"): greedy
decoding at temperature 0, no timestamps, no second VAD pass, a token budget proportional to
the audio length.

When the dialogue expects a closed answer (yes or no, a postcode, a phone number), `recognize`
runs constrained recognition (voicebot/services/constrained.py) on the same pool: one encoder
pass, the free transcript, and the expected answers scored against the audio.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import math
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from voicebot.audio.resample import Pcm16
from voicebot.config import AsrSettings
from voicebot.errors import ModelError, VoicebotError
from voicebot.services.constrained import ConstrainedRecognizer, Heard

log = logging.getLogger(__name__)

# Whisper's well-known inventions on noise and silence (subtitle credits and the like)
HALLUCINATIONS = (
    "untertitel",
    "copyright",
    "vielen dank fürs zuschauen",
    "amara.org",
    "swr 20",
    "zdf",
)

NO_SPEECH_DROP = 0.6  # with low confidence too, Whisper heard no speech
LOW_CONFIDENCE = 0.4


class AsrError(VoicebotError):
    """Transcription failed; the call falls back to an apology and a handoff."""


@dataclass(frozen=True)
class Transcript:
    """What Whisper heard in one utterance."""

    text: str
    language: str
    confidence: float  # exp(mean token log-probability), 0..1
    no_speech_prob: float
    queue_ms: float  # waiting for a free worker
    asr_ms: float  # inference time
    constrained: bool = False  # an expected answer replaced the free transcript (`recognize`)


def _accepted(text: str, confidence: float, no_speech: float) -> str:
    """The transcript, or "" for noise and Whisper's inventions (never given to the dialogue)."""
    invented = any(h in text.lower() for h in HALLUCINATIONS)
    if not text or invented or (no_speech > NO_SPEECH_DROP and confidence < LOW_CONFIDENCE):
        return ""
    return text


class AsrService:
    """One shared Whisper model; transcriptions queue for `num_workers` threads."""

    def __init__(self, settings: AsrSettings, model_dir: Path, hotwords: list[str]) -> None:
        self.settings = settings
        self.model_dir = model_dir
        self.hotwords = " ".join(hotwords) or None
        self._model: Any = None
        self._constrained: ConstrainedRecognizer | None = None
        self._pool = ThreadPoolExecutor(
            max_workers=max(1, settings.num_workers), thread_name_prefix="asr"
        )
        self._in_flight = 0  # transcriptions queued or running (event-loop side)

    @property
    def idle_workers(self) -> int:
        """Workers with nothing to do now: speculative ASR only runs on one of them."""
        return max(0, max(1, self.settings.num_workers) - self._in_flight)

    @property
    def loaded(self) -> bool:
        """Whether the model is ready for calls."""
        return self._model is not None

    def load(self) -> float:
        """Loads the model (blocking: call it in a thread); returns the seconds it took."""
        from faster_whisper import WhisperModel

        started = time.perf_counter()
        try:
            self._model = WhisperModel(
                str(self.model_dir),
                device=self.settings.device,
                compute_type=self.settings.compute_type,
                cpu_threads=self.settings.cpu_threads,
                num_workers=max(1, self.settings.num_workers),
            )
        except (RuntimeError, ValueError, OSError) as exc:
            raise ModelError(
                f"cannot load the Whisper model from {self.model_dir}: {exc}. "
                "Run `voicebot models prepare --force` or set VOICEBOT_ASR_MODEL_PATH."
            ) from exc
        # one tiny warm-up so the first caller does not pay for lazy initialisation
        self._transcribe_blocking(np.zeros(16000, dtype=np.int16), self.settings.language)
        self._constrained = ConstrainedRecognizer(
            self._model, self.settings.language, self.hotwords, self.settings.beam_size
        )
        return time.perf_counter() - started

    async def transcribe(self, pcm: Pcm16, language: str | None = None) -> Transcript:
        """Transcribes 16 kHz PCM without blocking the event loop."""
        lang = language or self.settings.language
        return await self._run(lambda: self._transcribe_blocking(pcm, lang))

    async def recognize(self, pcm: Pcm16, language: str | None, expect: str | None) -> Transcript:
        """Transcribes 16 kHz PCM; an answer of the expected kind ("yes_no", "postcode",
        "phone", "house_number", "digits") that scores as well as the free transcript replaces
        it. Runs on the same pool as `transcribe`, never on the event loop."""
        if not expect:
            return await self.transcribe(pcm, language)
        lang = language or self.settings.language
        return await self._run(lambda: self._recognize_blocking(pcm, lang, expect))

    async def _run(self, blocking: Callable[[], Transcript]) -> Transcript:
        """One ASR job on the worker pool, with its queue and inference times."""
        if self._model is None:
            raise AsrError("the Whisper model is not loaded yet")
        submitted = time.perf_counter()
        loop = asyncio.get_running_loop()

        def job() -> tuple[float, Transcript]:
            return time.perf_counter(), blocking()

        self._in_flight += 1
        try:
            started, result = await loop.run_in_executor(self._pool, job)
        except (RuntimeError, ValueError) as exc:
            raise AsrError(f"Whisper failed: {exc}") from exc
        finally:
            self._in_flight -= 1
        done = time.perf_counter()
        return dataclasses.replace(
            result, queue_ms=(started - submitted) * 1000, asr_ms=(done - started) * 1000
        )

    def _recognize_blocking(self, pcm: Pcm16, language: str, expect: str) -> Transcript:
        """Constrained recognition (worker thread only)."""
        if self._constrained is None:
            raise AsrError("the Whisper model is not loaded yet")
        audio = pcm.astype(np.float32) / 32768.0
        heard: Heard = self._constrained.recognize(audio, language, expect)
        if heard.constrained:
            log.info(
                "constrained recognition (%s): an expected answer replaced the free transcript",
                expect,
            )
            return Transcript(
                heard.text,
                language,
                heard.confidence,
                heard.no_speech_prob,
                0.0,
                0.0,
                constrained=True,
            )
        text = _accepted(heard.text, heard.confidence, heard.no_speech_prob)
        return Transcript(text, language, heard.confidence, heard.no_speech_prob, 0.0, 0.0)

    def _transcribe_blocking(self, pcm: Pcm16, language: str) -> Transcript:
        """Runs Whisper and consumes its segment generator (worker thread only)."""
        audio = pcm.astype(np.float32) / 32768.0
        seconds = len(audio) / 16000
        segments, info = self._model.transcribe(
            audio,
            language=language,
            beam_size=self.settings.beam_size,
            temperature=0.0,
            without_timestamps=True,
            condition_on_previous_text=False,
            vad_filter=False,
            hotwords=self.hotwords,
            max_new_tokens=int(10 * seconds + 10),
        )
        texts: list[str] = []
        logprob_sum = 0.0
        tokens = 0
        no_speech = 1.0
        for segment in segments:
            texts.append(segment.text.strip())
            n = max(1, len(segment.tokens))
            logprob_sum += segment.avg_logprob * n
            tokens += n
            no_speech = min(no_speech, segment.no_speech_prob)
        text = " ".join(t for t in texts if t).strip()
        confidence = math.exp(logprob_sum / tokens) if tokens else 0.0
        no_speech = no_speech if tokens else 1.0
        text = _accepted(text, confidence, no_speech)
        return Transcript(text, info.language, confidence, no_speech, 0.0, 0.0)

    def close(self) -> None:
        """Stops the worker threads."""
        self._pool.shutdown(wait=False, cancel_futures=True)
