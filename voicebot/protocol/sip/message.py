"""SIP messages (RFC 3261 §7, §18.3): frozen requests/responses, parsing, framing, serializing.

Datagrams are parsed whole (`parse_datagram`): a body shorter than Content-Length is a 400, a
longer one is cut to Content-Length (§18.3), a missing Content-Length means "the rest of the
datagram". Streams go through `SipStreamFramer`, where Content-Length alone delimits the body.
Messages are capped at 16 KiB (413). Every failure is a `SipParseError` (a `ProtocolError`)
that carries the header fields it could still read, so the UAS can answer with
`error_response` when the input was a request whose Via/From/To/Call-ID/CSeq were readable.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import TypeAlias

from voicebot.errors import ProtocolError
from voicebot.protocol.sip.headers import (
    TOKEN_RE,
    Headers,
    NameAddr,
    Via,
    canonical_name,
    parse_name_addr,
    parse_via,
)
from voicebot.protocol.sip.values import CSeq, parse_content_length, parse_cseq

MAX_MESSAGE_SIZE = 16 * 1024
SIP_VERSION = "SIP/2.0"
BRANCH_COOKIE = "z9hG4bK"
REASONS = {
    100: "Trying", 180: "Ringing", 181: "Call Is Being Forwarded", 182: "Queued",
    183: "Session Progress", 200: "OK", 202: "Accepted", 400: "Bad Request",
    401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
    406: "Not Acceptable", 408: "Request Timeout", 413: "Request Entity Too Large",
    415: "Unsupported Media Type", 416: "Unsupported URI Scheme", 420: "Bad Extension",
    480: "Temporarily Unavailable", 481: "Call/Transaction Does Not Exist",
    482: "Loop Detected", 483: "Too Many Hops", 486: "Busy Here", 487: "Request Terminated",
    488: "Not Acceptable Here", 491: "Request Pending", 500: "Server Internal Error",
    501: "Not Implemented", 503: "Service Unavailable", 505: "Version Not Supported",
    513: "Message Too Large", 603: "Decline",
}  # fmt: skip
HeaderPairs: TypeAlias = Iterable[tuple[str, str]]

_VERSION_RE = re.compile(r"SIP/[0-9]+\.[0-9]+", re.IGNORECASE)
_STATUS_RE = re.compile(r"[1-6][0-9][0-9]")
_HEADER_NAME_RE = re.compile(rf"({TOKEN_RE.pattern})[ \t]*:[ \t]*")


class SipParseError(ProtocolError):
    """A malformed SIP message; `headers` is set when it was a request whose headers parsed."""

    def __init__(self, reason: str, status: int = 400, headers: Headers | None = None) -> None:
        """Keep the reason, the status to answer with and the request's readable headers."""
        super().__init__(reason, status)
        self.headers = headers


class _Message:
    """Accessors shared by requests and responses (each parses on use, raising ProtocolError)."""

    headers: Headers
    body: bytes

    def header(self, name: str) -> str | None:
        """Return the first value of a header, or None."""
        return self.headers.get(name)

    def _single(self, name: str) -> str:
        """Return the value of a mandatory single-valued header or raise 400."""
        values = self.headers.get_all(name)
        if len(values) != 1:
            what = "missing" if not values else "repeated"
            raise ProtocolError(f"{canonical_name(name)} header is {what}", 400)
        return values[0]

    @property
    def call_id(self) -> str:
        """The Call-ID (stripped)."""
        return self._single("Call-ID").strip()

    @property
    def cseq(self) -> CSeq:
        """The parsed CSeq."""
        return parse_cseq(self._single("CSeq"))

    @property
    def from_addr(self) -> NameAddr:
        """The parsed From header."""
        return parse_name_addr(self._single("From"), "From")

    @property
    def to_addr(self) -> NameAddr:
        """The parsed To header."""
        return parse_name_addr(self._single("To"), "To")

    @property
    def vias(self) -> list[Via]:
        """Every Via value, top first."""
        return [v for raw in self.headers.get_all("Via") for v in parse_via(raw)]

    @property
    def top_via(self) -> Via:
        """The topmost Via value (400 if there is none)."""
        vias = self.vias
        if not vias:
            raise ProtocolError("Via header is missing", 400)
        return vias[0]

    def to_bytes(self) -> bytes:
        """Serialize the message (see `serialize`)."""
        assert isinstance(self, SipRequest | SipResponse)
        return serialize(self)


@dataclass(frozen=True)
class SipRequest(_Message):
    """A SIP request; `uri` is the raw Request-URI text."""

    method: str
    uri: str
    headers: Headers = field(default_factory=Headers)
    body: bytes = b""
    version: str = SIP_VERSION

    @property
    def start_line(self) -> str:
        """The Request-Line without CRLF."""
        return f"{self.method} {self.uri} {self.version}"


@dataclass(frozen=True)
class SipResponse(_Message):
    """A SIP response."""

    status: int
    reason: str
    headers: Headers = field(default_factory=Headers)
    body: bytes = b""
    version: str = SIP_VERSION

    @property
    def start_line(self) -> str:
        """The Status-Line without CRLF."""
        return f"{self.version} {self.status} {self.reason}"


SipMessage: TypeAlias = SipRequest | SipResponse


def serialize(msg: SipMessage) -> bytes:
    """Encode a message; Content-Length is always (re)written to the body's real length."""
    headers = msg.headers.set("Content-Length", str(len(msg.body)))
    lines = [msg.start_line, *(f"{name}: {value}" for name, value in headers)]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8") + msg.body


def _parse_start(line: str) -> SipMessage:
    """Parse a Request-Line or Status-Line into a message without headers and body."""
    if line[:4].upper() == "SIP/":
        version, _, rest = line.partition(" ")
        code, sp, reason = rest.partition(" ")
        if version.upper() != SIP_VERSION or not sp or not _STATUS_RE.fullmatch(code):
            raise SipParseError(f"Status-Line must be 'SIP/2.0 SP 3DIGIT SP reason': {line!r}")
        return SipResponse(int(code), reason)
    parts = line.split(" ")
    if len(parts) != 3 or not TOKEN_RE.fullmatch(parts[0]) or not _VERSION_RE.fullmatch(parts[2]):
        raise SipParseError(f"Request-Line must be 'Method SP Request-URI SP SIP/2.0': {line!r}")
    if not parts[1]:
        raise SipParseError(f"empty Request-URI: {line!r}")
    if parts[2].upper() != SIP_VERSION:
        raise SipParseError(f"unsupported SIP version {parts[2]!r}", 505)
    return SipRequest(parts[0], parts[1])


def _parse_headers(lines: list[str]) -> Headers:
    """Unfold continuation lines (folding is one SP, RFC 3261 §7.3.1), split `name: value`."""
    fields: list[tuple[str, str]] = []
    for line in lines:
        if line[:1] in (" ", "\t"):
            if not fields:
                raise SipParseError("continuation line before the first header")
            name, value = fields[-1]
            fields[-1] = (name, (value.rstrip(" \t") + " " + line.strip(" \t")).strip(" "))
            continue
        m = _HEADER_NAME_RE.match(line)
        if not m:
            raise SipParseError(f"malformed header line {line[:80]!r}")
        fields.append((m.group(1), line[m.end() :].rstrip(" \t")))
    return Headers(tuple(fields))


def _parse_head(head: bytes) -> SipMessage:
    """Parse the start line and header fields (everything before the empty line)."""
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        raise SipParseError("header section is not valid UTF-8") from None
    if "\r" in text.replace("\r\n", "") or "\n" in text.replace("\r\n", ""):
        raise SipParseError("header lines must end in CRLF")
    first, *lines = text.split("\r\n")
    headers = _parse_headers(lines)
    try:
        msg = _parse_start(first)
    except SipParseError as exc:
        is_request = first[:4].upper() != "SIP/"
        raise SipParseError(exc.reason, exc.status, headers if is_request else None) from None
    return replace(msg, headers=headers)


def _fail_for(msg: SipMessage, reason: str, status: int = 400) -> SipParseError:
    """Build a parse error that keeps a request's headers (a response is never answered)."""
    return SipParseError(reason, status, msg.headers if isinstance(msg, SipRequest) else None)


def _content_length(msg: SipMessage) -> int | None:
    """Return the single Content-Length, None when absent; several or malformed are a 400."""
    values = msg.headers.get_all("Content-Length")
    if len(values) > 1:
        raise _fail_for(msg, "several Content-Length headers")
    try:
        return parse_content_length(values[0]) if values else None
    except ProtocolError as exc:
        raise _fail_for(msg, exc.reason) from None


def _too_big(head: bytes | None) -> SipParseError:
    """The 413 error, with the headers when the header section could be read, else a 400."""
    reason = f"message exceeds {MAX_MESSAGE_SIZE} bytes"
    if head is None:
        return SipParseError(reason)
    try:
        return _fail_for(_parse_head(head), reason, 413)
    except SipParseError:
        return SipParseError(reason)


def is_keepalive(data: bytes) -> bool:
    """Tell whether a datagram is only CRLFs (RFC 5626 keep-alive): ignore it, do not parse."""
    return not data.strip(b"\r\n")


def parse_datagram(data: bytes) -> SipMessage:
    """Parse one UDP datagram into a request or response, or raise SipParseError."""
    data = data.lstrip(b"\r\n")
    end = data.find(b"\r\n\r\n")
    if len(data) > MAX_MESSAGE_SIZE:
        raise _too_big(data[:end] if 0 <= end < MAX_MESSAGE_SIZE else None)
    if end < 0:
        raise SipParseError("no empty line after the header section")
    msg = _parse_head(data[:end])
    length = _content_length(msg)
    body = data[end + 4 :]
    if length is not None:
        if length > len(body):
            raise _fail_for(msg, f"Content-Length {length} exceeds the {len(body)} bytes received")
        body = body[:length]  # §18.3: octets past Content-Length in a datagram are discarded
    return replace(msg, body=body)


class SipStreamFramer:
    """Cuts a TCP byte stream into messages by Content-Length; after an error, close the stream.

    `feed` raises the first framing error. When good messages came before it in the same
    chunk, they are returned first and the error is kept in `error` and raised by the next
    `feed`: check `error` after every call.
    """

    def __init__(self) -> None:
        """Start with an empty buffer."""
        self._buf = bytearray()
        self.error: SipParseError | None = None

    @property
    def buffered(self) -> int:
        """Bytes received but not yet part of a complete message."""
        return len(self._buf)

    def feed(self, data: bytes) -> list[SipMessage]:
        """Add received bytes and return every message they complete, in order."""
        if self.error is not None:
            raise self.error
        self._buf += data
        out: list[SipMessage] = []
        try:
            while msg := self._next():
                out.append(msg)
        except SipParseError as exc:
            self.error = exc  # framing is lost for good: the stream must be closed
            if not out:
                raise
        return out

    def _next(self) -> SipMessage | None:
        """Take one complete message off the buffer, or None if more bytes are needed."""
        while self._buf[:2] == b"\r\n":  # CRLF keep-alives before a start line (§7.5)
            del self._buf[:2]
        end = self._buf.find(b"\r\n\r\n")
        if end < 0 and len(self._buf) <= MAX_MESSAGE_SIZE:
            return None
        if end < 0 or end > MAX_MESSAGE_SIZE:
            raise _too_big(None)
        head = bytes(self._buf[:end])
        msg = _parse_head(head)
        length = _content_length(msg) or 0  # absent on a stream: no body (§20.14)
        if end + 4 + length > MAX_MESSAGE_SIZE:
            raise _too_big(head)
        if len(self._buf) < end + 4 + length:
            return None
        body = bytes(self._buf[end + 4 : end + 4 + length])
        del self._buf[: end + 4 + length]
        return replace(msg, body=body)


def new_tag() -> str:
    """A random tag for From/To (RFC 3261 §19.3: at least 32 bits of randomness)."""
    return secrets.token_hex(6)


def new_branch() -> str:
    """A random RFC 3261 branch, starting with the magic cookie."""
    return BRANCH_COOKIE + secrets.token_hex(8)


def new_call_id(host: str) -> str:
    """A random Call-ID for requests this UA originates."""
    return f"{secrets.token_hex(12)}@{host}"


def _add_tag(to_value: str, tag: str) -> str:
    """Append a tag to a To value unless it already has one."""
    try:
        if parse_name_addr(to_value, "To").tag is not None:
            return to_value
    except ProtocolError:
        pass
    return f"{to_value};tag={tag}"


def response_from_headers(
    headers: Headers,
    status: int,
    reason: str | None = None,
    extra_headers: HeaderPairs = (),
    *,
    to_tag: str | None = None,
    body: bytes = b"",
    content_type: str | None = None,
) -> SipResponse:
    """Build a response from a request's headers (see `response_for`)."""
    fields: list[tuple[str, str]] = [("Via", v) for v in headers.get_all("Via")]
    for name in ("From", "To", "Call-ID", "CSeq"):
        for value in headers.get_all(name):
            if name == "To" and status > 100:
                value = _add_tag(value, to_tag or new_tag())
            fields.append((name, value))
    if status == 100 and "Timestamp" in headers:
        fields.append(("Timestamp", headers.get("Timestamp") or ""))
    fields.extend(extra_headers)
    if content_type is not None:
        fields.append(("Content-Type", content_type))
    return SipResponse(
        status, reason or REASONS.get(status, "Unknown"), Headers(tuple(fields)), body
    )


def response_for(
    request: SipRequest,
    status: int,
    reason: str | None = None,
    extra_headers: HeaderPairs = (),
    *,
    to_tag: str | None = None,
    body: bytes = b"",
    content_type: str | None = None,
) -> SipResponse:
    """Build a response per RFC 3261 §8.2.6: copy Via, From, To, Call-ID, CSeq; tag To.

    A To tag is added to every response but 100 when the request's To has none: `to_tag`
    (the dialog's local tag; it must be the same in every response of one dialog) or a new one.
    """
    return response_from_headers(
        request.headers, status, reason, extra_headers,
        to_tag=to_tag, body=body, content_type=content_type,
    )  # fmt: skip


def error_response(error: SipParseError) -> SipResponse | None:
    """Build the answer to a malformed request, or None when none can be formed (then drop).

    None for responses, for ACK (never answered) and without one From/To/Call-ID/CSeq and Via.
    """
    headers = error.headers
    if headers is None or any(
        len(headers.get_all(name)) != 1 for name in ("From", "To", "Call-ID", "CSeq")
    ):
        return None
    try:
        if parse_cseq(headers.get("CSeq") or "").method == "ACK":
            return None
        if not [v for raw in headers.get_all("Via") for v in parse_via(raw)]:
            return None
    except ProtocolError:
        return None
    return response_from_headers(headers, error.status)


def with_received(request: SipRequest, host: str, port: int) -> SipRequest:
    """Add received= (and fill rport) in the top Via, as a server transport must (§18.2.1).

    A missing or malformed Via is left alone: `check_request` answers that request 400, and
    the transport sends the answer back to the packet's source.
    """
    raw = request.headers.get_all("Via")
    try:
        top, *others = parse_via(raw[0]) if raw else []
    except (ProtocolError, ValueError):
        return request
    params = [(n, str(port) if n.lower() == "rport" else v) for n, v in top.params]
    if top.host.strip("[]") != host:
        params = [(n, v) for n, v in params if n.lower() != "received"] + [("received", host)]
    first = ", ".join(str(v) for v in (replace(top, params=tuple(params)), *others))
    fields = list(request.headers)
    index = next(i for i, (name, _) in enumerate(fields) if canonical_name(name) == "Via")
    fields[index] = (fields[index][0], first)
    return replace(request, headers=Headers(tuple(fields)))
