"""RFC 4733 telephone-events: payload parse/serialize, a receiver and a sender.

One key press arrives as several packets sharing one RTP timestamp (the event's start): a first
packet (usually with the marker), updates with a growing duration, and three end packets. The
receiver reports the digit once, on the first packet it sees of a new timestamp, so a lost start
or lost end packets still yield exactly one digit; packets of an event already reported (late,
duplicated, retransmitted ends) and the continuation segments of a very long event (§2.5.1.3)
yield nothing.
"""

from __future__ import annotations

import struct
from collections import deque
from dataclasses import dataclass

from voicebot.errors import ProtocolError
from voicebot.protocol.rtp import RtpPacket, RtpPacketizer

DIGITS = "0123456789*#ABCD"
CLOCK_RATE = 8000
_EVENT = struct.Struct("!BBH")


@dataclass(frozen=True)
class TelephoneEvent:
    """One telephone-event payload: event code, end bit, volume (0..63 -dBm0), duration."""

    event: int
    end: bool = False
    volume: int = 10
    duration: int = 0

    @property
    def digit(self) -> str | None:
        """The DTMF key for events 0-15, else None (e.g. 16 is flash)."""
        return DIGITS[self.event] if self.event < len(DIGITS) else None

    def to_bytes(self) -> bytes:
        """Serialize the 4-byte payload (the reserved bit is zero)."""
        if not (0 <= self.event < 256 and 0 <= self.volume < 64 and 0 <= self.duration < 65536):
            raise ValueError(f"telephone-event field out of range in {self!r}")
        return _EVENT.pack(self.event, self.end << 7 | self.volume, self.duration)


def parse_telephone_event(payload: bytes) -> TelephoneEvent:
    """Parse the first event of a telephone-event payload or raise ProtocolError."""
    if len(payload) < 4:
        raise ProtocolError(f"telephone-event payload of {len(payload)} bytes, need 4", 400)
    event, flags, duration = _EVENT.unpack_from(payload)
    return TelephoneEvent(event, bool(flags & 0x80), flags & 0x3F, duration)


@dataclass(frozen=True)
class DtmfDigit:
    """A key press, reported once; `timestamp` is the event's RTP timestamp."""

    digit: str
    timestamp: int


class DtmfReceiver:
    """Turns the telephone-event packets of one stream into one `DtmfDigit` per key press."""

    def __init__(self, payload_type: int | None = None, remember: int = 16) -> None:
        """Listen to `payload_type` (None: every packet fed is an event); remember N events."""
        self.payload_type = payload_type
        self._seen: deque[int] = deque(maxlen=remember)
        self._ssrc: int | None = None
        self._last: tuple[int, TelephoneEvent] | None = None

    def feed(self, packet: RtpPacket) -> DtmfDigit | None:
        """Take one packet; return the digit when it starts a new key press."""
        if self.payload_type is not None and packet.payload_type != self.payload_type:
            return None
        event = parse_telephone_event(packet.payload)
        if packet.ssrc != self._ssrc:
            self._seen.clear()
            self._ssrc, self._last = packet.ssrc, None
        ts = packet.timestamp
        if ts in self._seen:
            if self._last and self._last[0] == ts:
                self._last = (ts, event)
            return None
        self._seen.append(ts)
        previous, self._last = self._last, (ts, event)
        if previous is not None:
            prev_ts, prev = previous
            continued = (prev_ts + prev.duration) & 0xFFFFFFFF == ts
            if continued and not prev.end and prev.event == event.event:
                return None  # the next segment of a long event, not a new press
        return DtmfDigit(event.digit, ts) if event.digit is not None else None


def dtmf_packets(
    digit: str,
    packetizer: RtpPacketizer,
    *,
    payload_type: int = 101,
    duration_ms: int = 100,
    interval_ms: int = 20,
    volume: int = 10,
) -> list[RtpPacket]:
    """The packets for one key press (send one per `interval_ms`); ends are sent three times.

    The event uses the stream's current timestamp and sequence; afterwards the stream's clock
    has moved on by the event's duration and its next audio packet starts a talk-spurt.
    """
    if len(digit) != 1 or digit.upper() not in DIGITS:
        raise ValueError(f"{digit!r} is not a DTMF key (0-9, *, #, A-D)")
    event = DIGITS.index(digit.upper())
    start = packetizer.timestamp
    step, total = CLOCK_RATE * interval_ms // 1000, CLOCK_RATE * duration_ms // 1000
    durations = list(range(step, total, step)) + [total] * 3
    packets = []
    for i, duration in enumerate(durations):
        payload = TelephoneEvent(event, i >= len(durations) - 3, volume, duration).to_bytes()
        packets.append(
            packetizer.event(payload, payload_type=payload_type, timestamp=start, marker=i == 0)
        )
    packetizer.silence(total)
    return packets
