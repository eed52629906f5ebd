"""G.722 HD voice: the codec (PyAV/FFmpeg), a call's media codec and its RTP endpoint at 16 kHz."""

from __future__ import annotations

import asyncio
import socket
from collections import Counter

import numpy as np
import numpy.typing as npt
import pytest

from voicebot.audio.resample import Pcm16
from voicebot.protocol.g722 import G722Decoder, G722Encoder
from voicebot.protocol.rtp import RtpPacket, parse_rtp
from voicebot.protocol.sdp import Negotiated
from voicebot.transports.sip.codec import HalfRate, MediaCodec
from voicebot.transports.sip.rtp import PortAllocator, RtpCallbacks

RATE = 16000


def tones(seconds: float, freqs: tuple[int, ...], rate: int = RATE) -> Pcm16:
    """A sum of sine tones at about -12 dBFS."""
    t = np.arange(int(seconds * rate)) / rate
    wave: npt.NDArray[np.float64] = np.mean([np.sin(2 * np.pi * f * t) for f in freqs], axis=0)
    return (8000 * wave).astype(np.int16)


def snr_db(sent: Pcm16, got: Pcm16, max_delay: int = 64) -> float:
    """SNR of `got` against `sent`, after finding the codec's delay (G.722's QMF filters)."""
    x, y = sent.astype(np.float64), got.astype(np.float64)
    n = min(len(x), len(y)) - max_delay
    delay = max(range(max_delay), key=lambda k: float(np.dot(x[:n], y[k : k + n])))
    noise = x[:n] - y[delay : delay + n]
    return float(10 * np.log10(np.sum(x[:n] ** 2) / np.sum(noise**2)))


def band_energy(pcm: Pcm16, low: float, high: float, rate: int = RATE) -> float:
    """Energy of the spectrum between `low` and `high` Hz."""
    spectrum = np.abs(np.fft.rfft(pcm.astype(np.float64))) ** 2
    freqs = np.fft.rfftfreq(len(pcm), 1 / rate)
    return float(spectrum[(freqs >= low) & (freqs < high)].sum())


def round_trip(pcm: Pcm16, chunk: int) -> tuple[bytes, Pcm16]:
    """Encodes in chunks of `chunk` samples, decodes in 160-byte (20 ms) payloads."""
    enc, dec = G722Encoder(), G722Decoder()
    data = b"".join(enc.encode(pcm[i : i + chunk]) for i in range(0, len(pcm), chunk))
    out = [dec.decode(data[i : i + 160]) for i in range(0, len(data), 160)]
    return data, np.concatenate(out)


def test_round_trip_keeps_wideband_speech_band() -> None:
    """1 kHz + 5 kHz: 64 kbit/s (one byte per two samples), SNR well above 20 dB, and the 5 kHz
    tone (gone in G.711's 4 kHz band) survives."""
    pcm = tones(1.0, (1000, 5000))
    data, out = round_trip(pcm, 320)
    assert len(data) == len(pcm) // 2 == 8000
    assert len(out) == len(pcm) and out.dtype == np.int16
    assert snr_db(pcm, out) > 20
    assert band_energy(out, 4500, 5500) > 0.2 * band_energy(pcm, 4500, 5500)


def test_encoder_buffers_partial_frames() -> None:
    """Odd chunk sizes come out as the same bytes as 20 ms frames (the state runs on)."""
    pcm = tones(0.2, (700,))
    whole, _ = round_trip(pcm, 320)
    enc = G722Encoder()
    parts = [enc.encode(pcm[:100]), enc.encode(pcm[100:1000]), enc.encode(pcm[1000:])]
    assert parts[0] == b""  # under one frame: waits
    assert b"".join(parts) == whole


def test_silence_and_empty_payloads() -> None:
    """Digital silence stays (near) silent; an empty payload decodes to no samples."""
    data, out = round_trip(np.zeros(3200, dtype=np.int16), 320)
    assert len(data) == 1600 and int(np.abs(out).max()) < 64
    assert len(G722Decoder().decode(b"")) == 0


@pytest.mark.parametrize(
    ("codec", "pipeline_rate", "payload_bytes", "samples"),
    [
        ("G722", 16000, 160, 320),  # HD voice: 16 kHz end to end
        ("PCMA", 8000, 160, 160),
        ("PCMU", 8000, 160, 160),
        ("PCMA", 16000, 160, 320),  # a G.722 call moved to G.711 by a re-INVITE
        ("G722", 8000, 160, 160),  # a G.711 call moved to G.722
    ],
)
def test_media_codec_frame_sizes(
    codec: str, pipeline_rate: int, payload_bytes: int, samples: int
) -> None:
    """20 ms at the pipeline's rate in, 160 bytes (8000 Hz RTP clock) out, and back, frame by
    frame with no burst; a codec at another rate than the pipeline's is converted 2:1."""
    mc = MediaCodec(codec, pipeline_rate)
    frame = tones(0.02, (440,), pipeline_rate)
    payloads = [mc.encode(frame) for _ in range(20)]
    assert {len(p) for p in payloads} == {payload_bytes}
    assert {len(mc.decode(p)) for p in payloads} == {samples}


def test_half_rate_conversion_keeps_speech_and_drops_what_8_khz_cannot_carry() -> None:
    """16 -> 8 -> 16 kHz in 20 ms chunks: a 1 kHz tone comes back clean (SNR > 25 dB); a 6 kHz
    tone is filtered out before decimation instead of folding back as a 2 kHz alias."""
    down, up = HalfRate(up=False), HalfRate(up=True)
    speech = tones(0.5, (1000,))
    back = np.concatenate(
        [up.process(down.process(speech[i : i + 320])) for i in range(0, 8000, 320)]
    )
    assert snr_db(speech[:7000], back[:7000]) > 25
    high = tones(0.5, (6000,))
    low = np.concatenate(
        [HalfRate(up=False).process(high[i : i + 320]) for i in range(0, 8000, 320)]
    )
    assert band_energy(low, 1500, 2500, 8000) < 0.01 * band_energy(high, 5500, 6500)


def test_rtp_endpoint_runs_a_g722_call_at_16_khz() -> None:
    """A G.722 call: payload type 9 in and out, 320-sample frames to the pipeline, 160-byte
    payloads and 160 timestamp units per 20 ms on the wire (RFC 3551's 8000 Hz clock)."""

    async def main() -> None:
        peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        peer.bind(("127.0.0.1", 0))
        peer.setblocking(False)
        loop = asyncio.get_running_loop()
        endpoint = await PortAllocator("127.0.0.1", 41000, 41998).open(Counter(), 30)
        peer_port = peer.getsockname()[1]
        endpoint.negotiate(Negotiated("G722", 9, 101, "127.0.0.1", peer_port, "sendrecv"))
        assert endpoint.sample_rate == 16000
        heard: list[Pcm16] = []
        all_heard = asyncio.Event()

        async def audio(pcm: Pcm16) -> None:
            heard.append(pcm)
            if len([p for p in heard if p.any()]) >= 20:
                all_heard.set()

        endpoint.start(RtpCallbacks(audio, lambda d: None, lambda: None))
        speech = tones(0.4, (1000, 5000))
        payload = G722Encoder().encode(speech)
        for n in range(20):
            chunk = payload[n * 160 : (n + 1) * 160]
            packet = RtpPacket(9, 100 + n, 1000 + 160 * n, 0x1234, chunk)
            peer.sendto(packet.to_bytes(), ("127.0.0.1", endpoint.port))
        for _ in range(3):
            endpoint.send_frame(tones(0.02, (1000,)))
        deadline = loop.time() + 5
        await asyncio.wait_for(all_heard.wait(), 5)
        sent: list[RtpPacket] = []
        while len(sent) < 3 and loop.time() < deadline:
            try:
                sent.append(parse_rtp(peer.recv(2048)))
            except BlockingIOError:
                await asyncio.sleep(0.01)
        await endpoint.close()
        peer.close()
        assert endpoint.received == 20
        assert {len(pcm) for pcm in heard} == {320}
        caller = np.concatenate([pcm for pcm in heard if pcm.any()])
        assert band_energy(caller, 4500, 5500) > 0.1 * band_energy(caller, 500, 1500)
        assert [(p.payload_type, len(p.payload)) for p in sent] == [(9, 160)] * 3
        assert [p.timestamp - sent[0].timestamp for p in sent] == [0, 160, 320]

    asyncio.run(main())
