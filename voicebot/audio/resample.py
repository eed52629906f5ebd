"""Sample-rate conversion with soxr, for whole buffers and for streams of frames."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import soxr

Pcm16 = npt.NDArray[np.int16]


def resample(pcm: Pcm16, from_rate: int, to_rate: int) -> Pcm16:
    """Resamples a whole int16 buffer (HQ quality); returns the input when the rates match."""
    if from_rate == to_rate or pcm.size == 0:
        return pcm.astype(np.int16, copy=False)
    out = soxr.resample(pcm.astype(np.float32) / 32768.0, from_rate, to_rate, quality="HQ")
    return to_int16(out)


def to_int16(samples: npt.NDArray[np.floating]) -> Pcm16:
    """Converts float samples in [-1, 1] to int16 with clipping."""
    return np.clip(np.round(samples * 32768.0), -32768, 32767).astype(np.int16)


class StreamResampler:
    """Resamples a stream chunk by chunk, keeping the filter state between chunks."""

    def __init__(self, from_rate: int, to_rate: int) -> None:
        self.from_rate = from_rate
        self.to_rate = to_rate
        self._stream = (
            None
            if from_rate == to_rate
            else soxr.ResampleStream(from_rate, to_rate, 1, dtype="float32", quality="HQ")
        )

    def process(self, pcm: Pcm16, last: bool = False) -> Pcm16:
        """Feeds one chunk; returns whatever output is ready (possibly empty)."""
        if self._stream is None:
            return pcm.astype(np.int16, copy=False)
        out = self._stream.resample_chunk(pcm.astype(np.float32) / 32768.0, last=last)
        return to_int16(out)
