"""Fuzzing RTP (RFC 3550) and RFC 4733 telephone-events (issue 12): any datagram gives a packet
or `ProtocolError` (drop it), never another exception, within the deadline (tests/unit/
fuzzing.py); whatever parses goes through the jitter buffer and the DTMF receiver unharmed,
and a packet we build survives the round trip."""

from __future__ import annotations

import contextlib

from hypothesis import example, given
from hypothesis import strategies as st

import tests.unit.fuzzing  # noqa: F401 - the fuzz profile
from voicebot.errors import ProtocolError
from voicebot.protocol.dtmf import DIGITS, DtmfReceiver, parse_telephone_event
from voicebot.protocol.rtp import JitterBuffer, RtpPacket, parse_rtp

HEADER = st.builds(
    lambda first, second, rest: bytes([first, second]) + rest,
    st.one_of(st.integers(0, 255), st.sampled_from([0x80, 0x90, 0xA0, 0xB0, 0x8F, 0xBF])),
    st.integers(0, 255),
    st.binary(min_size=10, max_size=10),
)
DATAGRAMS = st.one_of(
    st.binary(max_size=1600),
    st.tuples(HEADER, st.binary(max_size=300)).map(lambda p: p[0] + p[1]),
)
PACKETS = st.builds(
    RtpPacket,
    payload_type=st.integers(0, 127),
    sequence=st.integers(0, 0xFFFF),
    timestamp=st.integers(0, 0xFFFFFFFF),
    ssrc=st.integers(0, 0xFFFFFFFF),
    payload=st.binary(max_size=200),
    marker=st.booleans(),
    csrcs=st.lists(st.integers(0, 0xFFFFFFFF), max_size=15).map(tuple),
    extension=st.none() | st.tuples(st.integers(0, 0xFFFF), st.binary(max_size=12).map(
        lambda b: b[: len(b) // 4 * 4]
    )),
    padding=st.integers(0, 255),
)  # fmt: skip


@given(DATAGRAMS)
@example(b"\xa0" + b"\x00" * 11)  # padding bit, pad count 0
@example(b"\x9f" + b"\x00" * 11)  # 15 CSRCs and an extension announced, none there
def test_any_datagram_is_a_packet_or_refused(data: bytes) -> None:
    try:
        packet = parse_rtp(data)
    except ProtocolError:
        return
    assert len(packet.payload) <= len(data) - 12
    assert 0 <= packet.payload_type < 128


@given(st.lists(DATAGRAMS, max_size=40), st.integers(1, 5), st.integers(4, 64))
def test_any_stream_goes_through_the_jitter_buffer_and_the_dtmf_receiver(
    datagrams: list[bytes], depth: int, capacity: int
) -> None:
    buffer, receiver = JitterBuffer(depth, capacity), DtmfReceiver(payload_type=None)
    for data in datagrams:
        try:
            packet = parse_rtp(data)
        except ProtocolError:
            continue
        buffer.put(packet)
        assert len(buffer) <= capacity
        buffer.get()
        with contextlib.suppress(ProtocolError):
            digit = receiver.feed(packet)
            assert digit is None or digit.digit in DIGITS


@given(st.binary(max_size=16))
def test_any_telephone_event_payload_is_an_event_or_refused(payload: bytes) -> None:
    try:
        event = parse_telephone_event(payload)
    except ProtocolError:
        assert len(payload) < 4
        return
    assert 0 <= event.volume < 64 and event.digit in (None, *DIGITS)


@given(PACKETS)
def test_a_packet_we_build_parses_back_the_same(packet: RtpPacket) -> None:
    parsed = parse_rtp(packet.to_bytes())
    assert parsed == packet
