"""RTP (RFC 3550) packets, a sequence-ordered jitter buffer and an outgoing packetizer.

`parse_rtp` checks version 2, the CSRC list, the header extension and the padding against the
datagram length; anything inconsistent is a `ProtocolError` (drop the datagram). The jitter
buffer works on 16-bit sequence numbers extended across wrap-around; the packetizer keeps one
stream's sequence, timestamp and SSRC and marks the first packet of every talk-spurt.
"""

from __future__ import annotations

import secrets
import struct
from dataclasses import dataclass

from voicebot.errors import ProtocolError

RTP_VERSION = 2
HEADER_SIZE = 12
_HEADER = struct.Struct("!BBHII")
MAX_PAYLOAD = 1500  # never more than an Ethernet MTU of payload
G711_BYTES_PER_MS = 8  # 8 kHz, one byte per sample


def max_payload(ptime_ms: int) -> int:
    """The largest G.711 payload accepted: three packets' worth at the signalled ptime (at
    least 20 ms), never more than 1500 bytes; anything bigger is dropped, not buffered."""
    return min(MAX_PAYLOAD, max(ptime_ms, 20) * G711_BYTES_PER_MS * 3)


def _bad(reason: str) -> ProtocolError:
    """A malformed RTP datagram."""
    return ProtocolError(f"RTP: {reason}", 400)


@dataclass(frozen=True)
class RtpPacket:
    """One RTP packet; `extension` is (profile, data) and `padding` the pad length, 0 for none."""

    payload_type: int
    sequence: int
    timestamp: int
    ssrc: int
    payload: bytes = b""
    marker: bool = False
    csrcs: tuple[int, ...] = ()
    extension: tuple[int, bytes] | None = None
    padding: int = 0

    def to_bytes(self) -> bytes:
        """Serialize; padding is zeros ending in the pad count (RFC 3550 §5.1)."""
        if not 0 <= self.payload_type < 128 or len(self.csrcs) > 15 or not 0 <= self.padding < 256:
            raise ValueError(f"RTP field out of range in {self!r}")
        first = RTP_VERSION << 6 | bool(self.padding) << 5 | bool(self.extension) << 4
        out = [
            _HEADER.pack(
                first | len(self.csrcs),
                self.marker << 7 | self.payload_type,
                self.sequence & 0xFFFF,
                self.timestamp & 0xFFFFFFFF,
                self.ssrc & 0xFFFFFFFF,
            ),
            b"".join(struct.pack("!I", c) for c in self.csrcs),
        ]
        if self.extension is not None:
            profile, data = self.extension
            if len(data) % 4:
                raise ValueError("RTP header extension data must be a multiple of 4 bytes")
            out.append(struct.pack("!HH", profile, len(data) // 4) + data)
        out.append(self.payload)
        if self.padding:
            out.append(bytes(self.padding - 1) + bytes([self.padding]))
        return b"".join(out)


def parse_rtp(data: bytes) -> RtpPacket:
    """Parse one RTP datagram or raise ProtocolError."""
    if len(data) < HEADER_SIZE:
        raise _bad(f"{len(data)} bytes is shorter than the 12-byte header")
    first, second, seq, ts, ssrc = _HEADER.unpack_from(data)
    if first >> 6 != RTP_VERSION:
        raise _bad(f"version {first >> 6}, expected 2")
    offset = HEADER_SIZE + 4 * (first & 0x0F)
    if offset > len(data):
        raise _bad(f"CSRC count {first & 0x0F} runs past the end of the packet")
    csrcs = struct.unpack_from(f"!{first & 0x0F}I", data, HEADER_SIZE)
    extension = None
    if first & 0x10:
        if offset + 4 > len(data):
            raise _bad("header extension runs past the end of the packet")
        profile, words = struct.unpack_from("!HH", data, offset)
        end = offset + 4 + 4 * words
        if end > len(data):
            raise _bad(f"header extension of {words} words runs past the end of the packet")
        extension = (profile, bytes(data[offset + 4 : end]))
        offset = end
    padding = 0
    if first & 0x20:
        padding = data[-1]
        if padding == 0 or offset + padding > len(data):
            raise _bad(f"padding count {padding} does not fit the {len(data) - offset} bytes left")
    payload = bytes(data[offset : len(data) - padding])
    return RtpPacket(
        second & 0x7F, seq, ts, ssrc, payload, bool(second & 0x80), csrcs, extension, padding
    )


def seq_delta(a: int, b: int) -> int:
    """The signed distance from sequence number b to a, modulo 2**16 (-32768..32767)."""
    return ((a - b + 0x8000) & 0xFFFF) - 0x8000


class JitterBuffer:
    """Reorders one SSRC's packets by sequence number; `get` is called once per packet time.

    Playback starts once `depth` packets are buffered. `get` returns the next packet in
    sequence, or None for a gap (lost packet: conceal it) or an empty buffer (underrun: playback
    pauses until `depth` packets are back). Duplicates and packets older than the playout
    point are dropped, as is a stray number more than `capacity` away; three such numbers in
    a row, or a new SSRC, restart the buffer (RFC 3550 A.1 probation, simplified).
    """

    def __init__(self, depth: int = 3, capacity: int = 64) -> None:
        """Buffer `depth` packets before playing; keep at most `capacity`."""
        self.depth, self.capacity = depth, capacity
        self.duplicates = self.late = self.lost = self.reordered = 0
        self.reset()

    def reset(self) -> None:
        """Forget everything buffered (new stream); counters are kept."""
        self._packets: dict[int, RtpPacket] = {}
        self._next: int | None = None
        self._highest: int | None = None
        self._ssrc: int | None = None
        self._playing = False
        self._far = 0

    def __len__(self) -> int:
        """Packets waiting to be played."""
        return len(self._packets)

    def put(self, packet: RtpPacket) -> None:
        """Add a received packet."""
        if self._ssrc is not None and packet.ssrc != self._ssrc:
            self.reset()
        self._ssrc = packet.ssrc
        ext = packet.sequence + 0x10000  # room below for reordered packets
        if self._highest is not None:
            delta = seq_delta(packet.sequence, self._highest & 0xFFFF)
            self._far = self._far + 1 if abs(delta) > self.capacity else 0
            if 0 < self._far < 3:  # a stray number: drop; three in a row: the stream restarted
                self.late += 1
                return
            if self._far:
                self.reset()
                self._ssrc = packet.ssrc
            else:
                ext = self._highest + delta
        if self._next is not None and ext < self._next:
            self.late += 1
            return
        if ext in self._packets:
            self.duplicates += 1
            return
        if self._highest is not None and ext < self._highest:
            self.reordered += 1
        self._packets[ext] = packet
        self._highest = ext if self._highest is None else max(self._highest, ext)
        while len(self._packets) > self.capacity:
            oldest = min(self._packets)
            del self._packets[oldest]
            self._next = oldest + 1
            self.lost += 1

    def get(self) -> RtpPacket | None:
        """Return the packet to play now, or None (still buffering, lost, or underrun)."""
        if not self._playing:
            if len(self._packets) < self.depth:
                return None
            first = min(self._packets)
            if self._next is not None and first > self._next:
                self.lost += first - self._next
            self._next, self._playing = first, True
        if not self._packets or self._next is None:
            self._playing = False
            return None
        packet = self._packets.pop(self._next, None)
        if packet is None:
            self.lost += 1
        self._next += 1
        return packet


class RtpPacketizer:
    """Numbers one outgoing stream: sequence +1 per packet, timestamp + samples, fixed SSRC."""

    def __init__(
        self,
        payload_type: int,
        *,
        ssrc: int | None = None,
        sequence: int | None = None,
        timestamp: int | None = None,
    ) -> None:
        """Start a stream; unset numbers are random, as RFC 3550 §5.1 recommends."""
        self.payload_type = payload_type
        self.ssrc = secrets.randbits(32) if ssrc is None else ssrc
        self.sequence = secrets.randbits(16) if sequence is None else sequence & 0xFFFF
        self.timestamp = secrets.randbits(32) if timestamp is None else timestamp & 0xFFFFFFFF
        self._talk_spurt = True  # the first packet starts a talk-spurt

    def _take_sequence(self) -> int:
        """Return the next sequence number and advance it."""
        seq, self.sequence = self.sequence, (self.sequence + 1) & 0xFFFF
        return seq

    def audio(self, payload: bytes, samples: int | None = None) -> RtpPacket:
        """Packetize one frame (G.711: one sample per byte); marker set at talk-spurt start."""
        packet = RtpPacket(
            self.payload_type, self._take_sequence(), self.timestamp, self.ssrc, payload,
            marker=self._talk_spurt,
        )  # fmt: skip
        self._talk_spurt = False
        self.timestamp = (self.timestamp + (len(payload) if samples is None else samples)) & (
            0xFFFFFFFF
        )
        return packet

    def silence(self, samples: int) -> None:
        """Let time pass without sending (silence suppression); the next packet gets the marker."""
        self.timestamp = (self.timestamp + samples) & 0xFFFFFFFF
        self._talk_spurt = True

    def event(
        self, payload: bytes, *, payload_type: int, timestamp: int, marker: bool = False
    ) -> RtpPacket:
        """A packet with its own type and timestamp (RFC 4733 events) in this stream's sequence."""
        return RtpPacket(
            payload_type, self._take_sequence(), timestamp & 0xFFFFFFFF, self.ssrc, payload, marker
        )
