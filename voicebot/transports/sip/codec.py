"""The codec of one SIP call's audio, at the sample rate of the call's pipeline.

A call's pipeline runs at the rate of the codec its first SDP exchange chose: 16 kHz for G.722
(HD voice: VAD and ASR get the caller's audio without resampling, TTS speaks at 16 kHz), 8 kHz
for G.711. A re-INVITE may switch codecs mid-call (e.g. a PBX that moves the call to a G.711-only
leg); the pipeline keeps its rate and this codec converts 2:1 between the two, frame by frame
with a steady output size (soxr's streaming resampler hands out its output in bursts of a few
frames, which would break the 20 ms packet pacing).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from voicebot.audio.resample import Pcm16
from voicebot.protocol.g711 import alaw_decode, alaw_encode, ulaw_decode, ulaw_encode
from voicebot.protocol.g722 import G722Decoder, G722Encoder
from voicebot.protocol.sdp import AUDIO_RATES


def _lowpass(taps: int = 63, cutoff: float = 3700 / 16000) -> npt.NDArray[np.float64]:
    """A windowed-sinc low-pass for 16 kHz audio, below the 4 kHz of an 8 kHz stream."""
    n = np.arange(taps) - (taps - 1) / 2
    h = 2 * cutoff * np.sinc(2 * cutoff * n) * np.hamming(taps)
    return np.asarray(h / h.sum(), dtype=np.float64)


class HalfRate:
    """Converts a stream between 16 kHz and 8 kHz (`up` or down), keeping the filter state:
    every chunk gives exactly twice (half) its length, no burst, no click at frame edges."""

    _TAPS = _lowpass()

    def __init__(self, up: bool) -> None:
        self.up = up
        self._history = np.zeros(len(self._TAPS) - 1)

    def process(self, pcm: Pcm16) -> Pcm16:
        """One chunk (even length when going down)."""
        x = pcm.astype(np.float64)
        if self.up:
            stuffed = np.zeros(2 * len(x))
            stuffed[::2] = 2 * x  # zeros between the samples; the gain keeps the level
            x = stuffed
        buf = np.concatenate([self._history, x])
        self._history = buf[len(buf) - len(self._history) :]
        y = np.convolve(buf, self._TAPS, mode="valid")
        y = y if self.up else y[::2]
        return np.clip(np.round(y), -32768, 32767).astype(np.int16)


class _Same:
    """No conversion: the codec runs at the pipeline's rate."""

    @staticmethod
    def process(pcm: Pcm16) -> Pcm16:
        return pcm


class MediaCodec:
    """Encodes and decodes one negotiated codec (G722, PCMA, PCMU) at `pipeline_rate`."""

    def __init__(self, codec: str, pipeline_rate: int) -> None:
        self.codec = codec
        self.rate = AUDIO_RATES.get(codec, 8000)
        self.pipeline_rate = pipeline_rate
        same = self.rate == pipeline_rate
        self._to_pipeline = _Same() if same else HalfRate(up=pipeline_rate > self.rate)
        self._to_codec = _Same() if same else HalfRate(up=self.rate > pipeline_rate)
        self._g722_enc = G722Encoder() if codec == "G722" else None
        self._g722_dec = G722Decoder() if codec == "G722" else None

    def decode(self, payload: bytes) -> Pcm16:
        """One RTP payload to PCM at the pipeline's rate."""
        if self._g722_dec is not None:
            pcm = self._g722_dec.decode(payload)
        else:
            pcm = alaw_decode(payload) if self.codec == "PCMA" else ulaw_decode(payload)
        return self._to_pipeline.process(pcm)

    def encode(self, frame: Pcm16) -> bytes:
        """One frame of PCM at the pipeline's rate to an RTP payload."""
        pcm = self._to_codec.process(frame)
        if self._g722_enc is not None:
            return self._g722_enc.encode(pcm)
        return alaw_encode(pcm) if self.codec == "PCMA" else ulaw_encode(pcm)
