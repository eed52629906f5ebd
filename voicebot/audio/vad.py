"""Streaming Silero VAD (the ONNX model bundled with faster-whisper) and utterance endpointing.

The segmenter sees 16 kHz PCM in any chunk size, scores 32 ms windows and turns them into
events: `SpeechStarted` once enough voiced audio has accumulated (the barge-in trigger) and
`Utterance` once the caller has been silent for the end-of-turn time. That time follows the
answer the dialogue expects (`expect_answer`): longer for an address, a name or an e-mail
address, shorter for a yes or no; and it stands still while the caller types digits
(`hold_end_of_turn`).
"""

from __future__ import annotations

import os
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt

from voicebot.audio.resample import Pcm16
from voicebot.config import VadSettings
from voicebot.errors import ModelError

SAMPLE_RATE = 16000
WINDOW = 512  # samples per VAD decision (32 ms at 16 kHz)
CONTEXT = 64  # samples of the previous window the v6 model expects in front
WINDOW_MS = WINDOW * 1000 // SAMPLE_RATE
DIGITAL_SILENCE = 2 / 32768  # peak below two LSBs: nothing but quantisation noise
RESET_AFTER_WINDOWS = 32  # about a second of digital silence
Answer = Literal["normal", "long", "yes_no"]  # what the dialogue expects the caller to say


def bundled_vad_model_path() -> Path:
    """The Silero VAD ONNX file that ships inside faster-whisper."""
    from faster_whisper.vad import get_assets_path

    path = Path(get_assets_path()) / "silero_vad_v6.onnx"
    if not path.is_file():
        raise ModelError(
            f"Silero VAD model not found at {path}; reinstall faster-whisper "
            "(`make run` does it, or `.venv/bin/pip install --force-reinstall faster-whisper`)"
        )
    return path


class SileroVad:
    """One ONNX session; `Stream` objects carry the per-call recurrent state."""

    def __init__(self, model_path: Path | None = None) -> None:
        import onnxruntime

        opts = onnxruntime.SessionOptions()
        opts.inter_op_num_threads = 1
        opts.intra_op_num_threads = 1
        opts.log_severity_level = 4
        self.session = onnxruntime.InferenceSession(
            os.fspath(model_path or bundled_vad_model_path()),
            providers=["CPUExecutionProvider"],
            sess_options=opts,
        )

    def stream(self) -> VadStream:
        """A fresh per-call scorer."""
        return VadStream(self)


class VadStream:
    """Scores consecutive 512-sample windows, keeping the model state and context."""

    def __init__(self, vad: SileroVad) -> None:
        self._session = vad.session
        self._h = np.zeros((1, 1, 128), dtype=np.float32)
        self._c = np.zeros((1, 1, 128), dtype=np.float32)
        self._context = np.zeros(CONTEXT, dtype=np.float32)
        self._silent_windows = 0

    def probability(self, window: npt.NDArray[np.float32]) -> float:
        """Speech probability of one 512-sample float window in [-1, 1]."""
        if float(np.abs(window).max()) < DIGITAL_SILENCE:
            self._silent_windows += 1
        else:
            self._silent_windows = 0
        if self._silent_windows >= RESET_AFTER_WINDOWS:
            # Long runs of exact zeros (a muted or idle line) drift the model's recurrent state
            # until it misses the next soft onset: after a second of them, start afresh.
            self._h.fill(0.0)
            self._c.fill(0.0)
            self._context = np.zeros(CONTEXT, dtype=np.float32)
            return 0.0
        frame = np.concatenate([self._context, window])[np.newaxis, :]
        out, self._h, self._c = self._session.run(
            None, {"input": frame, "h": self._h, "c": self._c}
        )
        self._context = window[-CONTEXT:]
        return float(out.reshape(-1)[0])


@dataclass(frozen=True)
class SpeechStarted:
    """The caller has been speaking for at least `barge_in_min_ms` (the barge-in trigger)."""

    start_ms: int  # stream time of the first voiced window


@dataclass(frozen=True)
class Utterance:
    """One caller utterance, cut at the end-of-turn silence."""

    pcm: Pcm16 = field(repr=False)  # 16 kHz, including a little audio before the speech start
    start_ms: int  # stream time of the first voiced window
    speech_end_ms: int  # stream time just after the last voiced window
    endpoint_ms: int  # stream time at which the end of turn was decided
    voiced_ms: int
    complete: bool = True  # False when flushed because the call ended mid-utterance

    @property
    def duration_s(self) -> float:
        """Length of the audio handed to ASR."""
        return len(self.pcm) / SAMPLE_RATE


@dataclass(frozen=True)
class SpeechPaused:
    """A short pause (`speculative_silence_ms`): the utterance as it would end here, so that
    ASR can start before the end of turn. The final Utterance has the same `start_ms` and
    `speech_end_ms` (and the same audio) if the caller did not speak again."""

    utterance: Utterance


VadEvent = SpeechStarted | SpeechPaused | Utterance
TAIL_MS = 600  # silence put after the last loud sample for Whisper
ONSET_LEVEL = 0.05  # of the utterance's peak: where the speech itself begins and ends


def align_to_onset(audio: npt.NDArray[np.float32], pre_ms: int) -> npt.NDArray[np.float32]:
    """Cuts the utterance a fixed time before its first and after its last loud sample.

    VAD decisions fall on a 32 ms grid, so where that grid lies relative to the speech would
    otherwise change what Whisper sees (and, on poor audio, what it hears) from call to call.
    """
    peak = float(np.abs(audio).max()) if audio.size else 0.0
    if peak == 0.0:
        return audio
    loud = np.flatnonzero(np.abs(audio) >= ONSET_LEVEL * peak)
    pre = pre_ms * SAMPLE_RATE // 1000
    tail = TAIL_MS * SAMPLE_RATE // 1000
    body = audio[loud[0] : loud[-1] + 1]
    lead = np.zeros(pre, dtype=np.float32)
    end = np.zeros(tail, dtype=np.float32)
    return np.concatenate([lead, body, end])


class Segmenter:
    """Turns a 16 kHz PCM stream into SpeechStarted and Utterance events."""

    def __init__(self, vad: VadStream, settings: VadSettings) -> None:
        self._vad = vad
        self._settings = settings
        self.end_silence_ms = settings.end_silence_ms
        self._pending = np.zeros(0, dtype=np.float32)
        self._pre: deque[npt.NDArray[np.float32]] = deque(
            maxlen=max(1, settings.pre_speech_ms // WINDOW_MS)
        )
        self._speech: list[npt.NDArray[np.float32]] = []
        self._clock_ms = 0  # stream time at the end of the last scored window
        self._in_speech = False
        self._started_sent = False
        self._start_ms = 0
        self._last_voiced_end_ms = 0
        self._voiced_ms = 0
        self._silence_ms = 0
        self._end_held = False  # the caller is typing digits: silence does not end the turn

    @property
    def in_speech(self) -> bool:
        """Whether an utterance is being collected."""
        return self._in_speech

    def expect_answer(self, answer: Answer) -> None:
        """The end-of-turn silence for the next answer: long (an address, a name, an e-mail
        address, free text), yes_no (short, a "ja" needs no long wait), or normal."""
        s = self._settings
        silences = {"long": s.long_end_silence_ms, "yes_no": s.yes_no_end_silence_ms}
        self.end_silence_ms = silences.get(answer, s.end_silence_ms)

    def hold_end_of_turn(self, hold: bool) -> None:
        """While held (keypad entry in progress) silence is not counted: the end-of-turn timer
        pauses and goes on from where it stood once released."""
        self._end_held = hold

    def push(self, pcm: Pcm16) -> list[VadEvent]:
        """Feeds audio; returns the events it completed."""
        samples = np.concatenate([self._pending, pcm.astype(np.float32) / 32768.0])
        events: list[VadEvent] = []
        n_windows = len(samples) // WINDOW
        for i in range(n_windows):
            window = samples[i * WINDOW : (i + 1) * WINDOW]
            event = self._step(window, self._vad.probability(window))
            if event is not None:
                events.append(event)
        self._pending = samples[n_windows * WINDOW :]
        return events

    def _step(self, window: npt.NDArray[np.float32], prob: float) -> VadEvent | None:
        """Advances the endpointing state machine by one window."""
        s = self._settings
        self._clock_ms += WINDOW_MS
        voiced = prob >= s.threshold
        if not self._in_speech:
            if not voiced:
                self._pre.append(window)
                return None
            self._in_speech = True
            self._started_sent = False
            self._start_ms = self._clock_ms - WINDOW_MS
            self._speech = list(self._pre)
            self._pre.clear()
            self._voiced_ms = 0
            self._silence_ms = 0
        self._speech.append(window)
        # hysteresis: once speaking, a dip just below the threshold still counts as speech
        if voiced or prob >= s.threshold - 0.15:
            self._voiced_ms += WINDOW_MS if voiced else 0
            self._silence_ms = 0
            self._last_voiced_end_ms = self._clock_ms
        elif not self._end_held:
            self._silence_ms += WINDOW_MS
        if not self._started_sent and self._voiced_ms >= s.barge_in_min_ms:
            self._started_sent = True
            return SpeechStarted(self._start_ms)
        if self._clock_ms - self._start_ms >= s.max_utterance_s * 1000:
            return self._finish(complete=True)
        if self._end_held:
            return None  # the timer stands still (and no speculative pause either)
        if self._silence_ms >= self.end_silence_ms:
            return self._finish(complete=True)
        if 0 < s.speculative_silence_ms < self.end_silence_ms and (
            self._silence_ms == s.speculative_silence_ms // WINDOW_MS * WINDOW_MS
        ):
            snapshot = self._snapshot(self._speech, complete=True)
            return SpeechPaused(snapshot) if snapshot is not None else None
        return None

    @property
    def speech_end_ms(self) -> int:
        """Stream time just after the last voiced window of the current (or last) utterance."""
        return self._last_voiced_end_ms

    def _finish(self, complete: bool) -> Utterance | None:
        """Closes the current utterance; a sound shorter than min_speech_ms is dropped."""
        self._in_speech = False
        speech, self._speech = self._speech, []
        return self._snapshot(speech, complete)

    def _snapshot(self, speech: list[npt.NDArray[np.float32]], complete: bool) -> Utterance | None:
        """The utterance made of `speech` windows, or None when it is too short to be one.

        Its length runs from the onset to the last window above the lower (hysteresis)
        threshold, as in Silero's own segmentation. Counting only the windows above the onset
        threshold made a short "Ja" depend on where the 32 ms windows happened to fall: from a
        fresh model state a few windows land just below it, and the answer was lost."""
        if self._last_voiced_end_ms - self._start_ms < self._settings.min_speech_ms or not speech:
            return None
        # keep only a little of the trailing silence: Whisper does not need it
        keep_ms = self._last_voiced_end_ms - self._start_ms + self._settings.pre_speech_ms + 200
        audio = align_to_onset(
            np.concatenate(speech)[: keep_ms * SAMPLE_RATE // 1000], self._settings.pre_speech_ms
        )
        return Utterance(
            pcm=np.clip(np.round(audio * 32768.0), -32768, 32767).astype(np.int16),
            start_ms=self._start_ms,
            speech_end_ms=self._last_voiced_end_ms,
            endpoint_ms=self._clock_ms,
            voiced_ms=self._voiced_ms,
            complete=complete,
        )

    def flush(self) -> Utterance | None:
        """Ends the stream: returns the utterance in progress, marked incomplete."""
        if not self._in_speech:
            return None
        if len(self._pending):
            self._speech.append(self._pending)
            self._pending = np.zeros(0, dtype=np.float32)
        return self._finish(complete=False)
