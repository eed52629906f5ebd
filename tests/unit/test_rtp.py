"""RTP byte tables, malformed packets, the jitter buffer and the packetizer."""

from __future__ import annotations

import random

import pytest

from voicebot.errors import ProtocolError
from voicebot.protocol.rtp import (
    JitterBuffer,
    RtpPacket,
    RtpPacketizer,
    max_payload,
    parse_rtp,
    seq_delta,
)

HEADER = bytes.fromhex("80 08 1234 deadbeef 01020304")

TABLE = [
    (HEADER + b"\xd5\xd5\xd5\xd5", RtpPacket(8, 0x1234, 0xDEADBEEF, 0x01020304, b"\xd5" * 4)),
    (bytes.fromhex("80 80 ffff 00000000 ffffffff 7f"),
     RtpPacket(0, 0xFFFF, 0, 0xFFFFFFFF, b"\x7f", marker=True)),
    (bytes.fromhex("82 e5 0001 000000a0 0000abcd 11111111 22222222 aa"),
     RtpPacket(101, 1, 160, 0xABCD, b"\xaa", True, (0x11111111, 0x22222222))),
    (bytes.fromhex("90 08 0002 00000140 0000abcd bede0001 10ff0000 d5d5"),
     RtpPacket(8, 2, 320, 0xABCD, b"\xd5\xd5", extension=(0xBEDE, bytes.fromhex("10ff0000")))),
    (bytes.fromhex("a0 08 0003 000001e0 0000abcd d5d5 000003"),
     RtpPacket(8, 3, 480, 0xABCD, b"\xd5\xd5", padding=3)),
    (bytes.fromhex("b1 88 0004 00000280 0000abcd 33333333 1000 0000 d5 01"),
     RtpPacket(8, 4, 640, 0xABCD, b"\xd5", True, (0x33333333,), (0x1000, b""), 1)),
    (bytes.fromhex("80 08 0005 00000320 0000abcd"), RtpPacket(8, 5, 800, 0xABCD)),
]  # fmt: skip


IDS = ["plain", "marker-wrap", "csrc", "extension", "padding", "all", "empty"]


@pytest.mark.parametrize(("data", "packet"), TABLE, ids=IDS)
def test_parse_and_serialize(data: bytes, packet: RtpPacket) -> None:
    """Each byte string parses to the packet and the packet serializes to the same bytes."""
    assert parse_rtp(data) == packet
    assert packet.to_bytes() == data


@pytest.mark.parametrize(
    "data",
    [
        b"",
        HEADER[:11],
        bytes.fromhex("40 08 0001 00000000 00000001"),
        bytes.fromhex("00 08 0001 00000000 00000001 d5"),
        bytes.fromhex("c0 08 0001 00000000 00000001 d5"),
        bytes.fromhex("8f 08 0001 00000000 00000001 11111111"),
        bytes.fromhex("82 08 0001 00000000 00000001 11111111 2222"),
        bytes.fromhex("90 08 0001 00000000 00000001 bede"),
        bytes.fromhex("90 08 0001 00000000 00000001 bede0002 00000000"),
        bytes.fromhex("a0 08 0001 00000000 00000001 d5d5 00"),
        bytes.fromhex("a0 08 0001 00000000 00000001 d5 05"),
        bytes.fromhex("a1 08 0001 00000000 00000001 11111111 06"),
    ],
    ids=["empty", "short-header", "version-1", "version-0", "version-3", "csrc-15-past-end",
         "csrc-2-past-end", "ext-header-past-end", "ext-data-past-end", "padding-zero",
         "padding-longer-than-payload", "padding-into-csrc"],
)  # fmt: skip
def test_malformed_packets(data: bytes) -> None:
    """Wrong version, CSRCs/extension past the end and bad padding are ProtocolErrors."""
    with pytest.raises(ProtocolError):
        parse_rtp(data)


def test_fuzz_only_protocol_errors() -> None:
    """Random datagrams either parse and re-serialize identically or raise ProtocolError."""
    rng = random.Random(3550)
    for _ in range(3000):
        data = bytes(rng.randrange(256) for _ in range(rng.randrange(40)))
        if rng.random() < 0.7 and data:
            data = bytes([0x80 | data[0] & 0x3F]) + data[1:]  # mostly version 2
        try:
            packet = parse_rtp(data)
        except ProtocolError:
            continue
        if not packet.padding:
            assert packet.to_bytes() == data


def test_serialize_rejects_impossible_fields() -> None:
    """Programming errors (out-of-range fields) are ValueErrors, not wire bytes."""
    for bad in (RtpPacket(128, 0, 0, 0), RtpPacket(0, 0, 0, 0, csrcs=(1,) * 16),
                RtpPacket(0, 0, 0, 0, extension=(1, b"abc"))):  # fmt: skip
        with pytest.raises(ValueError):
            bad.to_bytes()


def pkt(seq: int, ssrc: int = 7) -> RtpPacket:
    """A 20 ms A-law packet with the given sequence number."""
    return RtpPacket(8, seq & 0xFFFF, (seq * 160) & 0xFFFFFFFF, ssrc, bytes([seq & 0xFF]) * 160)


def played(buffer: JitterBuffer, n: int) -> list[int | None]:
    """Call get() n times; return the sequence numbers (None for gaps)."""
    return [p.sequence if (p := buffer.get()) else None for _ in range(n)]


def test_jitter_buffer_reorders_after_prefill() -> None:
    """Nothing plays before `depth` packets; then strictly in sequence order."""
    jb = JitterBuffer(depth=3)
    for seq in (10, 12):
        jb.put(pkt(seq))
    assert played(jb, 1) == [None] and len(jb) == 2
    for seq in (11, 14, 13):
        jb.put(pkt(seq))
    assert played(jb, 5) == [10, 11, 12, 13, 14] and jb.reordered == 2


def test_jitter_buffer_loss_duplicates_late() -> None:
    """A gap plays as None and counts as lost; duplicates and late packets are dropped."""
    jb = JitterBuffer(depth=2)
    for seq in (1, 2, 2, 4, 5):
        jb.put(pkt(seq))
    assert jb.duplicates == 1
    assert played(jb, 3) == [1, 2, None] and jb.lost == 1
    jb.put(pkt(3))  # arrives after its slot was concealed
    assert jb.late == 1 and played(jb, 2) == [4, 5]


def test_jitter_buffer_wraps_sequence_numbers() -> None:
    """65534, 65535, 0, 1 arriving out of order play in order across the wrap."""
    jb = JitterBuffer(depth=4)
    for seq in (65535, 0, 65534, 1, 2):
        jb.put(pkt(seq))
    assert played(jb, 5) == [65534, 65535, 0, 1, 2] and jb.lost == 0
    assert seq_delta(0, 65535) == 1 and seq_delta(65535, 0) == -1


def test_jitter_buffer_underrun_and_restarts() -> None:
    """Underrun pauses playback until refilled; a new SSRC or a real jump restarts it."""
    jb = JitterBuffer(depth=2)
    for seq in (1, 2):
        jb.put(pkt(seq))
    assert played(jb, 3) == [1, 2, None]  # underrun: buffering again
    jb.put(pkt(3))
    assert played(jb, 1) == [None]
    jb.put(pkt(4))
    assert played(jb, 2) == [3, 4]
    jb.put(pkt(1000, ssrc=8))
    jb.put(pkt(1001, ssrc=8))
    assert played(jb, 2) == [1000, 1001]
    jb.put(pkt(30000, ssrc=8))  # one stray number: dropped
    assert jb.late == 1 and len(jb) == 0
    for seq in (30001, 30002):
        jb.put(pkt(seq, ssrc=8))  # the third far packet restarts the stream
    jb.put(pkt(30003, ssrc=8))
    assert played(jb, 2) == [30002, 30003]


def test_jitter_buffer_capacity() -> None:
    """More than `capacity` buffered packets: the oldest are given up as lost."""
    jb = JitterBuffer(depth=2, capacity=4)
    for seq in range(6):
        jb.put(pkt(seq))
    assert len(jb) == 4 and jb.lost == 2 and played(jb, 4) == [2, 3, 4, 5]


def test_packetizer_progression() -> None:
    """Sequence +1 (wrapping), timestamp +160 per 20 ms, marker at each talk-spurt start."""
    p = RtpPacketizer(8, ssrc=0xCAFE, sequence=65534, timestamp=0xFFFFFF00)
    frames = [p.audio(b"\xd5" * 160) for _ in range(3)]
    assert [(f.sequence, f.timestamp, f.marker) for f in frames] == [
        (65534, 0xFFFFFF00, True), (65535, 0xFFFFFFA0, False), (0, 0x40, False),
    ]  # fmt: skip
    p.silence(160 * 10)  # 200 ms not sent
    spurt = p.audio(b"\xd5" * 160)
    assert (spurt.sequence, spurt.timestamp, spurt.marker) == (1, 0x40 + 160 * 11, True)
    event = p.event(b"\x05\x0a\x00\xa0", payload_type=101, timestamp=1234, marker=True)
    assert (event.sequence, event.timestamp, event.payload_type) == (2, 1234, 101)
    assert p.audio(b"\xd5" * 160).timestamp == 0x40 + 160 * 12  # events do not move the clock
    assert frames[0].to_bytes()[:12] == bytes.fromhex("80 88 fffe ffffff00 0000cafe")
    r = RtpPacketizer(0)
    assert 0 <= r.sequence < 65536 and 0 <= r.timestamp < 2**32 and 0 <= r.ssrc < 2**32


@pytest.mark.parametrize(
    ("ptime", "bound"),
    [(20, 480), (10, 480), (0, 480), (30, 720), (60, 1440), (63, 1500), (200, 1500)],
)
def test_payload_bound_is_three_frames_at_most_1500(ptime: int, bound: int) -> None:
    """G.711 at the signalled ptime (at least 20 ms), three packets' worth, capped at 1500."""
    assert max_payload(ptime) == bound
