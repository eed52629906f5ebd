"""G.722 (ITU-T, 64 kbit/s sub-band ADPCM, 16 kHz audio) for HD voice calls, via PyAV.

The codec is FFmpeg's `adpcm_g722` (derived from SpanDSP's G.722 code), reached through PyAV,
which the gateway already installs for faster-whisper: no hand-written DSP and no new wheel.
Both directions are stateful (ADPCM predictors, QMF filter), so a call keeps one encoder and
one decoder for its lifetime.

RTP (RFC 3551 §4.5.2): static payload type 9, and the RTP clock runs at 8000 Hz although the
audio is sampled at 16 kHz (an error in RFC 1890 that was kept for compatibility), so 20 ms are
160 timestamp units and 160 bytes, like G.711, but 320 PCM samples.
"""

from __future__ import annotations

import av
import numpy as np
import numpy.typing as npt

Pcm16 = npt.NDArray[np.int16]

SAMPLE_RATE = 16000  # the audio
RTP_CLOCK_RATE = 8000  # the RTP timestamps and the SDP rtpmap (RFC 3551's quirk)
PAYLOAD_TYPE = 9
FRAME_SAMPLES = 320  # what the FFmpeg encoder takes per frame: 20 ms at 16 kHz


class G722Encoder:
    """16 kHz int16 PCM to G.722 bytes (one byte per two samples)."""

    def __init__(self) -> None:
        ctx = av.CodecContext.create("g722", "w")
        assert isinstance(ctx, av.AudioCodecContext)
        ctx.sample_rate = SAMPLE_RATE
        ctx.format = "s16"
        ctx.layout = "mono"
        ctx.open()
        self._ctx = ctx
        self._pending = np.zeros(0, dtype=np.int16)
        self._pts = 0

    def encode(self, pcm: Pcm16) -> bytes:
        """Encodes whole 320-sample frames; a remainder waits for the next call."""
        pcm = np.concatenate([self._pending, pcm.astype(np.int16, copy=False)])
        whole = len(pcm) - len(pcm) % FRAME_SAMPLES
        self._pending = pcm[whole:]
        out = bytearray()
        for start in range(0, whole, FRAME_SAMPLES):
            chunk = np.ascontiguousarray(pcm[start : start + FRAME_SAMPLES]).reshape(1, -1)
            frame = av.AudioFrame.from_ndarray(chunk, format="s16", layout="mono")
            frame.sample_rate = SAMPLE_RATE
            frame.pts = self._pts
            self._pts += FRAME_SAMPLES
            for packet in self._ctx.encode(frame):
                out += bytes(packet)
        return bytes(out)


class G722Decoder:
    """G.722 bytes to 16 kHz int16 PCM (two samples per byte)."""

    def __init__(self) -> None:
        ctx = av.CodecContext.create("g722", "r")
        assert isinstance(ctx, av.AudioCodecContext)
        ctx.sample_rate = SAMPLE_RATE
        ctx.layout = "mono"
        ctx.open()
        self._ctx = ctx

    def decode(self, payload: bytes) -> Pcm16:
        """Decodes one RTP payload; an empty payload is no audio."""
        if not payload:
            return np.zeros(0, dtype=np.int16)
        frames = [f.to_ndarray().reshape(-1) for f in self._ctx.decode(av.Packet(payload))]
        if not frames:
            return np.zeros(0, dtype=np.int16)
        return np.concatenate(frames).astype(np.int16, copy=False)
