"""RFC 4733 telephone-event byte tables and the one-digit-per-key-press receiver."""

from __future__ import annotations

import pytest

from voicebot.errors import ProtocolError
from voicebot.protocol.dtmf import (
    DtmfDigit,
    DtmfReceiver,
    TelephoneEvent,
    dtmf_packets,
    parse_telephone_event,
)
from voicebot.protocol.rtp import RtpPacket, RtpPacketizer, parse_rtp

# Key "5" as a phone sends it (PT 101, 20 ms updates, 100 ms long, three end packets):
# V=2, marker on the first packet only, one RTP timestamp for the whole event.
DIGIT_5 = [
    bytes.fromhex(h)
    for h in (
        "80e5 0a1b 0001f400 12345678 050a00a0",
        "8065 0a1c 0001f400 12345678 050a0140",
        "8065 0a1d 0001f400 12345678 050a01e0",
        "8065 0a1e 0001f400 12345678 050a0280",
        "8065 0a1f 0001f400 12345678 058a0320",
        "8065 0a20 0001f400 12345678 058a0320",
        "8065 0a21 0001f400 12345678 058a0320",
    )
]


def press(digit_event: int, ts: int, seq: int, ssrc: int = 0x12345678) -> list[RtpPacket]:
    """Packets for one 60 ms key press: start, update, three ends."""
    durations = [(160, False), (320, False), (480, True), (480, True), (480, True)]
    return [
        RtpPacket(
            101, seq + i, ts, ssrc, TelephoneEvent(digit_event, end, 10, d).to_bytes(), i == 0
        )
        for i, (d, end) in enumerate(durations)
    ]


def digits(receiver: DtmfReceiver, packets: list[RtpPacket]) -> list[str]:
    """Feed packets and collect the digits reported."""
    return [d.digit for p in packets if (d := receiver.feed(p)) is not None]


@pytest.mark.parametrize(
    ("payload", "event"),
    [
        ("050a00a0", TelephoneEvent(5, False, 10, 160)),
        ("0b8a0320", TelephoneEvent(11, True, 10, 800)),
        ("00bfffff", TelephoneEvent(0, True, 63, 65535)),
        ("0f000000", TelephoneEvent(15, False, 0, 0)),
        ("1000 0190", TelephoneEvent(16, False, 0, 400)),
    ],
    ids=["5-start", "hash-end", "extremes", "D", "flash"],
)
def test_event_byte_table(payload: str, event: TelephoneEvent) -> None:
    """Payloads parse to events and serialize back to the same bytes."""
    data = bytes.fromhex(payload)
    assert parse_telephone_event(data) == event and event.to_bytes() == data


def test_event_digits_and_errors() -> None:
    """Events 0-15 are 0-9 * # A-D, others no digit; short payloads are ProtocolErrors."""
    assert "".join(TelephoneEvent(e).digit or "" for e in range(17)) == "0123456789*#ABCD"
    assert parse_telephone_event(bytes.fromhex("054a00a0")).volume == 10  # R bit ignored
    with pytest.raises(ProtocolError):
        parse_telephone_event(b"\x05\x0a\x00")
    with pytest.raises(ValueError):
        TelephoneEvent(5, volume=64).to_bytes()


def test_captured_digit_5_is_one_event() -> None:
    """Start, updates and three end packets: exactly one '5'."""
    receiver = DtmfReceiver(payload_type=101)
    events = [receiver.feed(parse_rtp(p)) for p in DIGIT_5]
    assert events[0] == DtmfDigit("5", 0x1F400) and events[1:] == [None] * 6


def test_two_presses_are_two_events() -> None:
    """The same key twice (new timestamp) and two different keys are one event each."""
    receiver = DtmfReceiver(101)
    packets = press(5, 1000, 1) + press(5, 3000, 10) + press(1, 5000, 20) + press(11, 7000, 30)
    assert digits(receiver, packets) == ["5", "5", "1", "#"]


def test_lost_start_late_and_duplicate_packets() -> None:
    """Only end packets still give the digit; stragglers of an earlier press give nothing."""
    receiver = DtmfReceiver(101)
    first, second = press(2, 1000, 1), press(3, 2000, 10)
    assert digits(receiver, first[2:]) == ["2"]  # start and update lost
    assert digits(receiver, second[:1]) == ["3"]
    assert digits(receiver, first[:2] + second[1:] + second) == []  # late and duplicated


def test_timestamp_changes() -> None:
    """A new timestamp is a new press, unless it continues a long event (RFC 4733 §2.5.1.3)."""
    receiver = DtmfReceiver(101)
    long_start = RtpPacket(101, 1, 0, 9, TelephoneEvent(0, False, 10, 65535).to_bytes(), True)
    continued = RtpPacket(101, 2, 65535, 9, TelephoneEvent(0, False, 10, 800).to_bytes())
    ended = RtpPacket(101, 3, 65535, 9, TelephoneEvent(0, True, 10, 1600).to_bytes())
    assert digits(receiver, [long_start, continued, ended, ended, ended]) == ["0"]
    assert digits(receiver, press(0, 67135, 4, ssrc=9)) == ["0"]  # after the end: a new press
    wrapped = press(7, 0xFFFFFF00, 20, ssrc=9) + press(7, 0x00000100, 30, ssrc=9)
    assert digits(receiver, wrapped) == ["7", "7"]


def test_filters_and_stream_changes() -> None:
    """Other payload types are ignored; a new SSRC starts over; flash is not a digit."""
    receiver = DtmfReceiver(payload_type=101)
    audio = RtpPacket(8, 1, 1000, 1, b"\xd5" * 160)
    assert receiver.feed(audio) is None
    assert digits(receiver, press(4, 500, 1, ssrc=1)) == ["4"]
    assert digits(receiver, press(4, 500, 1, ssrc=2)) == ["4"]  # same timestamp, new stream
    assert digits(receiver, press(16, 900, 9, ssrc=2)) == []


def test_sender_round_trip() -> None:
    """dtmf_packets makes start/updates/3 ends in the stream's sequence; the receiver agrees."""
    stream = RtpPacketizer(8, ssrc=0xABC, sequence=100, timestamp=8000)
    stream.audio(b"\xd5" * 160)
    packets = dtmf_packets("#", stream, payload_type=101, duration_ms=100)
    assert [p.sequence for p in packets] == list(range(101, 108))
    assert {p.timestamp for p in packets} == {8160} and [p.marker for p in packets][:2] == [
        True, False,
    ]  # fmt: skip
    events = [parse_telephone_event(p.payload) for p in packets]
    assert [e.duration for e in events] == [160, 320, 480, 640, 800, 800, 800]
    assert [e.end for e in events] == [False] * 4 + [True] * 3
    assert digits(DtmfReceiver(101), packets) == ["#"]
    after = stream.audio(b"\xd5" * 160)
    assert (after.sequence, after.timestamp, after.marker) == (108, 8960, True)
    with pytest.raises(ValueError):
        dtmf_packets("x", stream)
