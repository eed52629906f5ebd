"""What the running gateway hears in a caller clip: u-law, VAD cut, Whisper with hot words.

A clip is streamed the way a call delivers it: 8 kHz u-law in 20 ms frames, resampled to
16 kHz, endpointed by Silero VAD (the gateway's Segmenter with default settings), and the
utterance it cuts is transcribed by the gateway's own AsrService (decoding options, token
budget, hallucination filter). Silero decides per 32 ms window, so where the speech onset
falls within a window changes the cut: `PHASES` leads of 0, 4, ... 28 ms cover every case.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from voicebot.audio.resample import Pcm16, StreamResampler
from voicebot.audio.vad import Segmenter, SileroVad, Utterance
from voicebot.config import AsrSettings, VadSettings
from voicebot.protocol.g711 import ulaw_decode, ulaw_encode
from voicebot.services.asr import AsrService

RATE = 8000
FRAME = 160  # 20 ms at 8 kHz, as RTP delivers it
PHASE_STEP = 32  # samples at 8 kHz: 4 ms, an eighth of Silero's 32 ms window
PHASES = 8
TAIL_S = 2.0  # silence after the clip, so the end of turn is reached
DESCRIPTION = (
    "gateway path: 8 kHz u-law in 20 ms frames, StreamResampler to 16 kHz, Silero VAD "
    "Segmenter (default VadSettings), AsrService (Whisper base int8, beam 1, temperature 0, "
    "hallucination filter); 8 onset phases (0-28 ms of extra lead in 4 ms steps)"
)


def utterances(vad: SileroVad, pcm: Pcm16, lead: int = 0) -> list[Utterance]:
    """The utterances the gateway's VAD cuts from an 8 kHz clip after `lead` silent samples."""
    segmenter = Segmenter(vad.stream(), VadSettings())
    resampler = StreamResampler(RATE, 16000)
    audio = np.concatenate(
        [np.zeros(lead, np.int16), pcm, np.zeros(round(TAIL_S * RATE), np.int16)]
    )
    found: list[Utterance] = []
    for i in range(0, len(audio), FRAME):
        frame = ulaw_decode(ulaw_encode(audio[i : i + FRAME]))
        found += [e for e in segmenter.push(resampler.process(frame)) if isinstance(e, Utterance)]
    return found


ONSET_TOLERANCE_MS = 200  # as tests/unit/test_vad.py: a later start cuts off speech


def voiced_start_ms(pcm: Pcm16) -> int:
    """Start of the first 10 ms block clearly above silence (RMS > 500), as the VAD tests."""
    blocks = pcm[: len(pcm) // 80 * 80].astype(np.float64).reshape(-1, 80)
    loud = np.flatnonzero(np.sqrt((blocks**2).mean(axis=1)) > 500)
    return int(loud[0]) * 10 if loud.size else 0


@dataclass(frozen=True)
class Heard:
    """One phase: how many utterances the VAD cut, how late the first one started after the
    speech (ms), and what Whisper made of them."""

    phase_ms: int
    utterances: int
    late_ms: int
    text: str

    @property
    def cut_well(self) -> bool:
        """One utterance that starts with the speech (no words lost to a late VAD start)."""
        return self.utterances == 1 and abs(self.late_ms) <= ONSET_TOLERANCE_MS


class GatewayEar:
    """The gateway's VAD and ASR, loaded once; `hear` runs one clip through every phase."""

    def __init__(self, model_dir: Path, hotwords: Sequence[str]) -> None:
        self.vad = SileroVad()
        self.hotwords = " ".join(hotwords) or None
        self.asr = AsrService(AsrSettings(), Path(model_dir), list(hotwords))
        self.asr.load()

    def hear(
        self, pcm: Pcm16, language: str, hotwords: bool = True, phases: int = PHASES
    ) -> list[Heard]:
        """Transcripts of the clip in each VAD phase, with or without the hot words."""
        self.asr.hotwords = self.hotwords if hotwords else None
        heard: list[Heard] = []
        start = voiced_start_ms(pcm)
        for phase in range(phases):
            cut = utterances(self.vad, pcm, phase * PHASE_STEP)
            texts = [self.asr._transcribe_blocking(u.pcm, language).text for u in cut]
            phase_ms = phase * PHASE_STEP // 8
            late = cut[0].start_ms - phase_ms - start if cut else 0
            heard.append(Heard(phase_ms, len(cut), late, " | ".join(texts)))
        self.asr.hotwords = self.hotwords
        return heard
