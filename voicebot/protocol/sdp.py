"""SDP (RFC 4566) parse/serialize and the offer/answer rules (RFC 3264) for one audio stream.

`answer_offer` accepts the first audio RTP/AVP stream that offers a codec of our preference
(G722, PCMA, PCMU; the order given decides, the gateway's `[sip] codec_preference`), keeps the
caller's payload type numbers (also for a dynamic PT whose rtpmap names the codec) and its
telephone-event type, and rejects every other stream with port 0. G.722 is written G722/8000
(RFC 3551 §4.5.2: its RTP clock is 8000 Hz while the audio is 16 kHz); an offer's G722/16000,
as some old phones write it, is taken too and answered as G722/8000.
No usable stream is `ProtocolError(..., 488)`; malformed SDP is a 400.
Hold: a=sendonly/recvonly/inactive are mirrored, and c=0.0.0.0 (RFC 2543 hold) means the caller
does not want to receive, so we must not send (`Negotiated.send` is False).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TypeAlias

from voicebot.errors import ProtocolError

Attributes: TypeAlias = tuple[tuple[str, str | None], ...]
DIRECTIONS = ("sendrecv", "sendonly", "recvonly", "inactive")
_MIRROR = {"sendrecv": "sendrecv", "sendonly": "recvonly", "recvonly": "sendonly",
           "inactive": "inactive"}  # fmt: skip
_NO_RECV = {"sendrecv": "sendonly", "recvonly": "inactive"}
STATIC_CODECS = {0: ("PCMU", 8000), 8: ("PCMA", 8000), 9: ("G722", 8000)}
G711 = ("PCMA", "PCMU")
CODECS = ("G722", *G711)  # all we can carry, the wideband one first
AUDIO_RATES = {"G722": 16000}  # audio sample rate where it is not the RTP clock rate (8000)
_CLOCK_RATES = {"G722": (8000, 16000)}  # rtpmap rates accepted in an offer; others: 8000
RTP_PROTOS = ("RTP/AVP", "RTP/AVPF")
_LINE_RE = re.compile(r"([a-z])=(.*)")
_MEDIA_RE = re.compile(r"([A-Za-z0-9\-_.]+) ([0-9]{1,5})(?:/([0-9]{1,5}))? (\S+)((?: \S+)*)")
_RTPMAP_RE = re.compile(r"([0-9]{1,3}) ([^/\s]+)/([0-9]{1,6})(?:/([0-9]{1,2}))?")


def _bad(reason: str) -> ProtocolError:
    """A malformed SDP body: 400."""
    return ProtocolError(f"SDP: {reason}", 400)


@dataclass(frozen=True)
class Connection:
    """A c= line: network type, address type and address (TTL/count suffix dropped)."""

    address: str
    addrtype: str = "IP4"
    nettype: str = "IN"

    @property
    def is_hold(self) -> bool:
        """Tell whether this is the RFC 2543 hold address (0.0.0.0 or ::)."""
        return self.address in ("0.0.0.0", "::")

    def __str__(self) -> str:
        """Serialize the c= value."""
        return f"{self.nettype} {self.addrtype} {self.address}"


@dataclass(frozen=True)
class Origin:
    """An o= line."""

    username: str
    session_id: str
    session_version: str
    address: str
    addrtype: str = "IP4"
    nettype: str = "IN"

    def __str__(self) -> str:
        """Serialize the o= value."""
        return (
            f"{self.username} {self.session_id} {self.session_version} "
            f"{self.nettype} {self.addrtype} {self.address}"
        )


@dataclass(frozen=True)
class Media:
    """One m= section; `other` keeps its i=/b=/k= lines verbatim."""

    kind: str
    port: int
    proto: str
    formats: tuple[str, ...]
    connection: Connection | None = None
    attributes: Attributes = ()
    port_count: int | None = None
    other: tuple[tuple[str, str], ...] = ()

    def attribute(self, name: str) -> str | None:
        """Return the first value of an attribute ('' for a flag), or None."""
        return next((v or "" for n, v in self.attributes if n == name), None)

    @property
    def direction(self) -> str | None:
        """The direction attribute written on this stream, or None."""
        return next((n for n, _ in self.attributes if n in DIRECTIONS), None)

    def rtpmaps(self) -> dict[int, tuple[str, int, int]]:
        """Payload type -> (upper-case encoding, clock rate, channels), static types included."""
        out = {pt: (name, rate, 1) for pt, (name, rate) in STATIC_CODECS.items()}
        for name, value in self.attributes:
            m = _RTPMAP_RE.fullmatch(value or "") if name == "rtpmap" else None
            if m:
                out[int(m[1])] = (m[2].upper(), int(m[3]), int(m[4] or 1))
        return out

    def fmtp(self, payload_type: int) -> str | None:
        """Return the fmtp parameters of one payload type, or None."""
        for name, value in self.attributes:
            pt, _, params = (value or "").partition(" ")
            if name == "fmtp" and pt == str(payload_type):
                return params
        return None


@dataclass(frozen=True)
class SessionDescription:
    """A whole SDP body."""

    origin: Origin
    session_name: str = "-"
    connection: Connection | None = None
    timing: tuple[str, ...] = ("0 0",)
    attributes: Attributes = ()
    media: tuple[Media, ...] = ()
    other: tuple[tuple[str, str], ...] = field(default=())

    def to_bytes(self) -> bytes:
        """Serialize with CRLF line ends (RFC 4566 §5)."""
        lines = ["v=0", f"o={self.origin}", f"s={self.session_name}"]
        lines += [f"{k}={v}" for k, v in self.other if k in "iuep"]
        lines += [f"c={self.connection}"] if self.connection else []
        lines += [f"{k}={v}" for k, v in self.other if k == "b"]
        lines += [f"t={t}" for t in self.timing]
        lines += [f"{k}={v}" for k, v in self.other if k not in "iuepb"]
        lines += [_attr(n, v) for n, v in self.attributes]
        for m in self.media:
            port = f"{m.port}/{m.port_count}" if m.port_count else str(m.port)
            lines.append(f"m={m.kind} {port} {m.proto} {' '.join(m.formats)}")
            lines += [f"{k}={v}" for k, v in m.other if k == "i"]
            lines += [f"c={m.connection}"] if m.connection else []
            lines += [f"{k}={v}" for k, v in m.other if k != "i"]
            lines += [_attr(n, v) for n, v in m.attributes]
        return ("\r\n".join(lines) + "\r\n").encode()


def _attr(name: str, value: str | None) -> str:
    """Serialize one a= line."""
    return f"a={name}" if value is None else f"a={name}:{value}"


def _connection(value: str) -> Connection:
    """Parse a c= value."""
    parts = value.split(" ")
    if len(parts) != 3 or not parts[2]:
        raise _bad(f"bad c= line {value!r}")
    return Connection(parts[2].split("/")[0], parts[1].upper(), parts[0].upper())


@dataclass
class _Section:
    """Lines collected for the session part or one m= section while parsing."""

    media: Media | None = None
    conn: Connection | None = None
    attrs: list[tuple[str, str | None]] = field(default_factory=list)
    other: list[tuple[str, str]] = field(default_factory=list)

    def build(self) -> Media:
        """The finished m= section."""
        assert self.media is not None
        return replace(
            self.media, connection=self.conn, attributes=tuple(self.attrs), other=tuple(self.other)
        )


def _small_number(text: str, below: int) -> bool:
    """Whether `text` is an ASCII decimal number under `below` (str.isdigit alone lets "²" in,
    which int() refuses)."""
    return text.isascii() and text.isdigit() and len(text) <= 6 and int(text) < below


def _media_line(value: str) -> Media:
    """Parse an m= value (without its attributes)."""
    m = _MEDIA_RE.fullmatch(value)
    if not m or int(m[2]) > 65535:
        raise _bad(f"malformed m= line {value!r}")
    formats = tuple(m[5].split())
    if m[4].upper().startswith("RTP/") and not all(_small_number(f, 128) for f in formats):
        raise _bad(f"RTP payload types must be 0-127: {value!r}")
    return Media(m[1], int(m[2]), m[4], formats, port_count=int(m[3]) if m[3] else None)


def parse_sdp(data: bytes | str) -> SessionDescription:
    """Parse an SDP body (CRLF or LF line ends) or raise ProtocolError(400)."""
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
    except UnicodeDecodeError:
        raise _bad("body is not UTF-8") from None
    lines = [line.rstrip("\r") for line in text.split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    if not lines or lines[0] != "v=0":
        raise _bad("must start with v=0")
    origin: Origin | None = None
    name, timing = "-", []
    session = _Section()
    sections: list[_Section] = []
    for line in lines[1:]:
        m = _LINE_RE.fullmatch(line)
        if not m:
            raise _bad(f"malformed line {line[:60]!r}")
        key, value = m.groups()
        where = sections[-1] if sections else session
        if key == "m":
            sections.append(_Section(_media_line(value)))
        elif key == "o" and not sections:
            parts = value.split(" ")
            if len(parts) != 6:
                raise _bad(f"malformed o= line {value!r}")
            origin = Origin(parts[0], parts[1], parts[2], parts[5], parts[4], parts[3])
        elif key == "s" and not sections:
            name = value
        elif key == "t" and not sections:
            timing.append(value)
        elif key == "c":
            where.conn = _connection(value)
        elif key == "a":
            attr, sep, val = value.partition(":")
            where.attrs.append((attr, val if sep else None))
        elif key in "ovst":
            raise _bad(f"{key}= line out of place")
        else:
            where.other.append((key, value))
    if origin is None:
        raise _bad("o= line is missing")
    return SessionDescription(
        origin, name, session.conn, tuple(timing) or ("0 0",), tuple(session.attrs),
        tuple(sec.build() for sec in sections), tuple(session.other),
    )  # fmt: skip


@dataclass(frozen=True)
class Negotiated:
    """The agreed audio stream, from our side: what to send where, and whether to send/receive."""

    codec: str
    payload_type: int
    dtmf_payload_type: int | None
    remote_address: str | None
    remote_port: int
    direction: str
    ptime: int = 20

    @property
    def sample_rate(self) -> int:
        """The audio's sample rate (16000 for G.722); the RTP clock is 8000 for every codec."""
        return AUDIO_RATES.get(self.codec, 8000)

    @property
    def send(self) -> bool:
        """Whether we send RTP (never to a hold address or port 0)."""
        ok = self.remote_address is not None and self.remote_port > 0
        return ok and self.direction in ("sendrecv", "sendonly")

    @property
    def receive(self) -> bool:
        """Whether we expect RTP from the peer."""
        return self.direction in ("sendrecv", "recvonly")


def _stream_connection(sdp: SessionDescription, media: Media) -> Connection | None:
    """The media-level c= line, else the session-level one."""
    return media.connection or sdp.connection


def media_address(conn: Connection | None) -> str | None:
    """Where the stream's RTP goes: an IPv4/IPv6 literal, None on hold (or without c=).

    A host name is refused with 488, never resolved: resolving it would block the event loop
    (a sendto per 20 ms packet) and let the caller point our media anywhere DNS says."""
    if conn is None or conn.is_hold:
        return None
    try:
        ip = ipaddress.ip_address(conn.address)
    except ValueError:
        raise ProtocolError("SDP c= must be an IP address, not a host name", 488) from None
    return ip.compressed


def _telephone_event(media: Media) -> int | None:
    """The first telephone-event/8000 payload type listed in a stream, or None."""
    maps = media.rtpmaps()
    for f in media.formats:
        if (
            _small_number(f, 128)
            and maps.get(int(f), ("",))[0] == "TELEPHONE-EVENT"
            and maps[int(f)][1] == 8000
        ):
            return int(f)
    return None


def _choose(media: Media, preference: Sequence[str]) -> tuple[str, int, int | None] | None:
    """Pick (codec, payload type, telephone-event type) from one offered stream, or None."""
    maps = media.rtpmaps()
    offered = [(int(f), maps.get(int(f))) for f in media.formats if _small_number(f, 128)]
    dtmf = _telephone_event(media)
    for codec in preference:
        for pt, m in offered:
            rates = _CLOCK_RATES.get(codec.upper(), (8000,))
            if m and m[0] == codec.upper() and m[1] in rates and m[2] == 1:
                return codec.upper(), pt, dtmf
    return None


def _offer_direction(sdp: SessionDescription, media: Media) -> str:
    """The offerer's direction, with c=0.0.0.0 meaning 'do not send to me' (RFC 3264 §8.4)."""
    session_dir = next((n for n, _ in sdp.attributes if n in DIRECTIONS), None)
    direction = media.direction or session_dir or "sendrecv"
    conn = _stream_connection(sdp, media)
    return _NO_RECV.get(direction, direction) if conn and conn.is_hold else direction


def _audio_media(codec: str, pt: int, dtmf: int | None, fmtp: str | None, port: int,
                 proto: str, direction: str, ptime: int) -> Media:  # fmt: skip
    """Our m=audio section for one codec and optional telephone-event."""
    attrs: list[tuple[str, str | None]] = [("rtpmap", f"{pt} {codec}/8000")]
    if dtmf is not None:
        attrs += [("rtpmap", f"{dtmf} telephone-event/8000"), ("fmtp", f"{dtmf} {fmtp or '0-16'}")]
    attrs += [("ptime", str(ptime)), (direction, None)]
    formats = (str(pt),) if dtmf is None else (str(pt), str(dtmf))
    return Media("audio", port, proto, formats, attributes=tuple(attrs))


def _session(media: Sequence[Media], address: str, session_id: int, version: int,
             username: str) -> SessionDescription:  # fmt: skip
    """Our session-level lines around the given m= sections."""
    addrtype = "IP6" if ":" in address else "IP4"
    origin = Origin(username, str(session_id), str(version), address, addrtype)
    return SessionDescription(origin, "-", Connection(address, addrtype), media=tuple(media))


def answer_offer(
    offer: SessionDescription,
    *,
    local_address: str,
    local_port: int,
    session_id: int,
    session_version: int,
    preference: Sequence[str] = G711,
    username: str = "voicebot",
    ptime: int = 20,
    protos: Sequence[str] = RTP_PROTOS,
) -> tuple[SessionDescription, Negotiated]:
    """Answer an offer (RFC 3264 §6): one audio stream (G.722 or G.711), all others port 0."""
    answer: list[Media] = []
    result: Negotiated | None = None
    for media in offer.media:
        choice = None
        if result is None and media.kind == "audio" and media.port and media.proto in protos:
            choice = _choose(media, preference)
        if choice is None:
            answer.append(Media(media.kind, 0, media.proto, media.formats))
            continue
        codec, pt, dtmf = choice
        offered = _offer_direction(offer, media)
        direction = _MIRROR[offered]
        remote = media_address(_stream_connection(offer, media))
        their_ptime = media.attribute("ptime") or ""
        result = Negotiated(
            codec, pt, dtmf, remote, media.port, direction,
            int(their_ptime) if _small_number(their_ptime, 1000) else 20,
        )  # fmt: skip
        fmtp = media.fmtp(dtmf) if dtmf is not None else None
        answer.append(
            _audio_media(codec, pt, dtmf, fmtp, local_port, media.proto, direction, ptime)
        )
    if result is None:
        raise ProtocolError(f"SDP offer has no audio stream with {'/'.join(preference)}", 488)
    return _session(answer, local_address, session_id, session_version, username), result


def create_offer(
    *,
    local_address: str,
    local_port: int,
    session_id: int,
    session_version: int,
    codecs: Sequence[str] = G711,
    dtmf_payload_type: int | None = 101,
    direction: str = "sendrecv",
    username: str = "voicebot",
    ptime: int = 20,
) -> SessionDescription:
    """Our own offer (late offer in a 2xx, or a re-INVITE): static types in our order."""
    pts = {name: pt for pt, (name, _) in STATIC_CODECS.items()}
    formats = [str(pts[c.upper()]) for c in codecs]
    attrs: list[tuple[str, str | None]] = [("rtpmap", f"{pts[c.upper()]} {c.upper()}/8000")
                                           for c in codecs]  # fmt: skip
    if dtmf_payload_type is not None:
        formats.append(str(dtmf_payload_type))
        attrs += [("rtpmap", f"{dtmf_payload_type} telephone-event/8000"),
                  ("fmtp", f"{dtmf_payload_type} 0-16")]  # fmt: skip
    attrs += [("ptime", str(ptime)), (direction, None)]
    media = Media("audio", local_port, "RTP/AVP", tuple(formats), attributes=tuple(attrs))
    return _session([media], local_address, session_id, session_version, username)


def accept_answer(offer: SessionDescription, answer: SessionDescription) -> Negotiated:
    """Read the peer's answer to our offer; its first G722/PCMA/PCMU type is the codec."""
    for sent, media in zip(offer.media, answer.media, strict=False):
        if sent.kind != "audio" or not media.port:
            continue
        maps = media.rtpmaps()
        kept = [int(f) for f in media.formats if _small_number(f, 128) and f in sent.formats]
        usable = [pt for pt in kept if maps.get(pt) in {(c, 8000, 1) for c in CODECS}]
        if not usable:
            continue
        return Negotiated(
            maps[usable[0]][0], usable[0], _telephone_event(media),
            media_address(_stream_connection(answer, media)),
            media.port, _MIRROR[_offer_direction(answer, media)],
        )  # fmt: skip
    raise ProtocolError("SDP answer accepted no G722/PCMA/PCMU audio stream", 488)
