"""Twilio Media Streams (bidirectional WebSocket JSON) as a sans-I/O parser and serializer.

Both sides are covered: the gateway parses what Twilio sends (`parse_message`, `TwilioSession`)
and serializes media/mark/clear back; a test caller plays Twilio (`start_message`, ...) and
parses what the gateway sends (`parse_server_message`). Every rejection is a `ProtocolError`
whose `status` is the WebSocket close code to answer with:

- 1003 unsupported data: a binary frame that is not UTF-8, or a `start` whose mediaFormat is
  not audio/x-mulaw, 8000 Hz, mono.
- 1007 invalid payload data: text that is not JSON, JSON that is not an object, or a media
  payload that is not strict base64.
- 1008 policy violation: a missing or unknown `event`, a missing or wrongly typed field, or a
  message out of order (media before start, a second start, anything after stop, or a
  streamSid/callSid that differs from the start's), or an id (callSid, streamSid,
  accountSid) or custom parameter that is not bounded printable text (`voicebot.protocol.ids`).

`sequenceNumber` is ignored on input; the caller-side serializers add it (as a string, like
Twilio) only when given `sequence_number`: Twilio numbers `start` 1 and counts up from there.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TypeAlias

from voicebot.errors import ProtocolError
from voicebot.protocol.ids import MAX_VALUE_CHARS, is_safe_id, is_safe_text

FRAME_MS = 20
SAMPLE_RATE = 8000
FRAME_BYTES = SAMPLE_RATE * FRAME_MS // 1000
ENCODING = "audio/x-mulaw"
CHANNELS = 1
DEFAULT_ACCOUNT_SID = "AC" + "0" * 32
DTMF_DIGITS = frozenset("0123456789*#ABCD")

CLOSE_UNSUPPORTED_DATA = 1003
CLOSE_INVALID_PAYLOAD = 1007
CLOSE_POLICY_VIOLATION = 1008
MAX_CUSTOM_PARAMETERS = 32


@dataclass(frozen=True)
class Connected:
    """First message after the WebSocket opens; names the protocol and its version."""

    protocol: str
    version: str


@dataclass(frozen=True)
class Start:
    """Stream metadata, sent once before any media."""

    stream_sid: str
    call_sid: str
    account_sid: str
    tracks: tuple[str, ...]
    encoding: str
    sample_rate: int
    channels: int
    custom_parameters: dict[str, str] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class Media:
    """One chunk of caller audio; `payload` is raw u-law bytes (already base64-decoded)."""

    stream_sid: str
    track: str
    chunk: int
    timestamp_ms: int
    payload: bytes


@dataclass(frozen=True)
class Dtmf:
    """A key the caller pressed."""

    stream_sid: str
    track: str
    digit: str


@dataclass(frozen=True)
class Mark:
    """Twilio's echo of a mark we sent: the audio queued before it has played (or was cleared)."""

    stream_sid: str
    name: str


@dataclass(frozen=True)
class Stop:
    """The stream ended (hang-up or stream stopped); nothing follows."""

    stream_sid: str
    call_sid: str
    account_sid: str


TwilioEvent: TypeAlias = Connected | Start | Media | Dtmf | Mark | Stop


@dataclass(frozen=True)
class OutMedia:
    """Audio the gateway asked Twilio to play; `payload` is raw u-law bytes."""

    payload: bytes


@dataclass(frozen=True)
class OutMark:
    """A mark the gateway queued behind its audio."""

    name: str


@dataclass(frozen=True)
class OutClear:
    """The gateway asked Twilio to drop all audio it has buffered (barge-in)."""


ServerMessage: TypeAlias = OutMedia | OutMark | OutClear


def _fail(reason: str, status: int = CLOSE_POLICY_VIOLATION) -> ProtocolError:
    """Build the error for one rejected message (policy violation unless told otherwise)."""
    return ProtocolError(f"Twilio media stream: {reason}", status)


def _load(text: str | bytes) -> dict[str, object]:
    """Decode one WebSocket frame into a JSON object or raise with the right close code."""
    if isinstance(text, bytes | bytearray):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError:
            raise _fail("binary frame is not UTF-8 JSON", CLOSE_UNSUPPORTED_DATA) from None
    try:
        obj = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise _fail(f"message is not valid JSON ({exc})", CLOSE_INVALID_PAYLOAD) from None
    if not isinstance(obj, dict):
        raise _fail(f"JSON message is a {type(obj).__name__}, not an object", CLOSE_INVALID_PAYLOAD)
    return obj


def _obj(msg: dict[str, object], key: str, where: str) -> dict[str, object]:
    """Return the required JSON object `key` of `msg`."""
    value = msg.get(key)
    if not isinstance(value, dict):
        raise _fail(f"{where}: required object field {key!r} is missing or not an object")
    return value


def _str(msg: dict[str, object], key: str, where: str) -> str:
    """Return the required string field `key` of `msg`."""
    value = msg.get(key)
    if not isinstance(value, str):
        raise _fail(f"{where}: required string field {key!r} is missing or not a string")
    return value


def _id(msg: dict[str, object], key: str, where: str) -> str:
    """Return the required id field `key`: non-empty, bounded, printable text."""
    value = _str(msg, key, where)
    if not is_safe_id(value):
        raise _fail(f"{where}: {key} {value[:40]!r} is not a bounded printable id")
    return value


def _params(body: dict[str, object]) -> dict[str, str]:
    """Return `customParameters`: at most a few names and values, all bounded printable text."""
    params = body.get("customParameters", {})
    if not isinstance(params, dict) or not all(isinstance(v, str) for v in params.values()):
        raise _fail("start: field 'customParameters' must map names to strings")
    if len(params) > MAX_CUSTOM_PARAMETERS:
        raise _fail(f"start: more than {MAX_CUSTOM_PARAMETERS} customParameters")
    for name, value in params.items():
        if not is_safe_id(name) or not is_safe_text(value, MAX_VALUE_CHARS):
            raise _fail(f"start: customParameter {name[:40]!r} is not bounded printable text")
    return dict(params)


def _int(msg: dict[str, object], key: str, where: str) -> int:
    """Return the required non-negative integer field `key`, given as a number or digit string."""
    value = msg.get(key)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 19:
        return int(value)
    raise _fail(f"{where}: field {key!r} must be a non-negative integer, got {value!r}")


def _payload(msg: dict[str, object], where: str) -> bytes:
    """Return the strictly base64-decoded `payload` field of `msg`."""
    text = _str(msg, "payload", where)
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise _fail(f"{where}: payload is not valid base64", CLOSE_INVALID_PAYLOAD) from None


def _parse_start(msg: dict[str, object]) -> Start:
    """Parse a `start` message and insist on u-law 8 kHz mono."""
    body = _obj(msg, "start", "start")
    fmt = _obj(body, "mediaFormat", "start")
    tracks = body.get("tracks")
    if not isinstance(tracks, list) or not all(isinstance(t, str) for t in tracks):
        raise _fail("start: field 'tracks' must be a list of strings")
    params = _params(body)
    start = Start(
        stream_sid=_id(body, "streamSid", "start"),
        call_sid=_id(body, "callSid", "start"),
        account_sid=_id(body, "accountSid", "start"),
        tracks=tuple(tracks),
        encoding=_str(fmt, "encoding", "start.mediaFormat"),
        sample_rate=_int(fmt, "sampleRate", "start.mediaFormat"),
        channels=_int(fmt, "channels", "start.mediaFormat"),
        custom_parameters=params,
    )
    if (start.encoding, start.sample_rate, start.channels) != (ENCODING, SAMPLE_RATE, CHANNELS):
        raise _fail(
            f"unsupported mediaFormat {start.encoding} {start.sample_rate} Hz "
            f"{start.channels} channel(s); supported is {ENCODING} {SAMPLE_RATE} Hz mono",
            CLOSE_UNSUPPORTED_DATA,
        )
    outer = msg.get("streamSid", start.stream_sid)
    if outer != start.stream_sid:
        raise _fail(f"start: streamSid {outer!r} differs from start.streamSid")
    return start


def parse_message(text: str | bytes) -> TwilioEvent:
    """Parse one frame Twilio sent into an event, or raise ProtocolError with a close code."""
    msg = _load(text)
    event = msg.get("event")
    if event == "connected":
        return Connected(_str(msg, "protocol", "connected"), _str(msg, "version", "connected"))
    if event == "start":
        return _parse_start(msg)
    if event == "media":
        body = _obj(msg, "media", "media")
        return Media(
            stream_sid=_str(msg, "streamSid", "media"),
            track=_str(body, "track", "media"),
            chunk=_int(body, "chunk", "media"),
            timestamp_ms=_int(body, "timestamp", "media"),
            payload=_payload(body, "media"),
        )
    if event == "dtmf":
        body = _obj(msg, "dtmf", "dtmf")
        digit = _str(body, "digit", "dtmf")
        if digit not in DTMF_DIGITS:
            raise _fail(f"dtmf: digit {digit!r} is not one of 0-9 * # A-D")
        return Dtmf(_str(msg, "streamSid", "dtmf"), _str(body, "track", "dtmf"), digit)
    if event == "mark":
        name = _str(_obj(msg, "mark", "mark"), "name", "mark")
        return Mark(_str(msg, "streamSid", "mark"), name)
    if event == "stop":
        body = _obj(msg, "stop", "stop")
        return Stop(
            stream_sid=_str(msg, "streamSid", "stop"),
            call_sid=_str(body, "callSid", "stop"),
            account_sid=_str(body, "accountSid", "stop"),
        )
    if event is None:
        raise _fail("message has no 'event' field")
    raise _fail(f"unknown event {event!r}")


class TwilioSession:
    """Parses one stream's frames and enforces order: connected?, start, media/dtmf/mark*, stop."""

    def __init__(self) -> None:
        """Start in the state before any message."""
        self.start_event: Start | None = None
        self.stopped = False
        self._seen_any = False

    @property
    def stream_sid(self) -> str | None:
        """The streamSid from `start`, or None before it."""
        return self.start_event.stream_sid if self.start_event else None

    @property
    def call_sid(self) -> str | None:
        """The callSid from `start`, or None before it."""
        return self.start_event.call_sid if self.start_event else None

    def receive(self, text: str | bytes) -> TwilioEvent:
        """Parse one frame and check it against the stream so far."""
        return self.accept(parse_message(text))

    def accept(self, event: TwilioEvent) -> TwilioEvent:
        """Check an already parsed event against the stream so far; state changes only if valid."""
        name = type(event).__name__.lower()
        if self.stopped:
            raise _fail(f"{name} received after stop")
        if isinstance(event, Connected):
            if self._seen_any:
                raise _fail("connected must be the first message")
        elif isinstance(event, Start):
            if self.start_event is not None:
                raise _fail(f"second start for stream {event.stream_sid!r}")
            self.start_event = event
        elif self.start_event is None:
            raise _fail(f"{name} received before start")
        elif event.stream_sid != self.start_event.stream_sid:
            raise _fail(f"{name} streamSid {event.stream_sid!r} != {self.start_event.stream_sid!r}")
        elif isinstance(event, Stop):
            if event.call_sid != self.start_event.call_sid:
                raise _fail(f"stop callSid {event.call_sid!r} != {self.start_event.call_sid!r}")
            self.stopped = True
        self._seen_any = True
        return event


def _dump(event: str, body: Mapping[str, object], seq: int | None = None) -> str:
    """Serialize one message compactly, with sequenceNumber as a string when given."""
    msg: dict[str, object] = {"event": event}
    if seq is not None:
        msg["sequenceNumber"] = str(seq)
    msg.update(body)
    return json.dumps(msg, separators=(",", ":"))


def media_message(stream_sid: str, payload: bytes) -> str:
    """Gateway to Twilio: play these u-law bytes."""
    b64 = base64.b64encode(payload).decode()
    return _dump("media", {"streamSid": stream_sid, "media": {"payload": b64}})


def mark_message(stream_sid: str, name: str) -> str:
    """Gateway to Twilio: echo `name` back once the audio queued so far has played."""
    return _dump("mark", {"streamSid": stream_sid, "mark": {"name": name}})


def clear_message(stream_sid: str) -> str:
    """Gateway to Twilio: drop all buffered audio now (barge-in)."""
    return _dump("clear", {"streamSid": stream_sid})


def parse_server_message(text: str | bytes, stream_sid: str | None = None) -> ServerMessage:
    """Caller side: parse what the gateway sent; if `stream_sid` is given, it must match."""
    msg = _load(text)
    event = msg.get("event")
    if event not in ("media", "mark", "clear"):
        raise _fail("message has no 'event' field" if event is None else f"unknown event {event!r}")
    where = str(event)
    sid = _str(msg, "streamSid", where)
    if stream_sid is not None and sid != stream_sid:
        raise _fail(f"{where} streamSid {sid!r} != {stream_sid!r}")
    if event == "media":
        return OutMedia(_payload(_obj(msg, "media", where), where))
    if event == "mark":
        return OutMark(_str(_obj(msg, "mark", where), "name", where))
    return OutClear()


def connected_message() -> str:
    """Twilio to gateway: the first frame on a new stream."""
    return _dump("connected", {"protocol": "Call", "version": "1.0.0"})


def start_message(
    stream_sid: str,
    call_sid: str,
    account_sid: str = DEFAULT_ACCOUNT_SID,
    custom_parameters: dict[str, str] | None = None,
    *,
    sequence_number: int | None = None,
    media_format: dict[str, object] | None = None,
) -> str:
    """Twilio to gateway: stream metadata; `media_format` overrides u-law/8000/mono for tests."""
    fmt = media_format or {"encoding": ENCODING, "sampleRate": SAMPLE_RATE, "channels": CHANNELS}
    body = {
        "accountSid": account_sid,
        "streamSid": stream_sid,
        "callSid": call_sid,
        "tracks": ["inbound"],
        "mediaFormat": fmt,
        "customParameters": dict(custom_parameters or {}),
    }
    return _dump("start", {"start": body, "streamSid": stream_sid}, sequence_number)


def media_in_message(
    stream_sid: str,
    chunk: int,
    timestamp_ms: int,
    payload: bytes,
    *,
    sequence_number: int | None = None,
) -> str:
    """Twilio to gateway: one chunk of caller audio on the inbound track."""
    b64 = base64.b64encode(payload).decode()
    media = {
        "track": "inbound",
        "chunk": str(chunk),
        "timestamp": str(timestamp_ms),
        "payload": b64,
    }
    return _dump("media", {"media": media, "streamSid": stream_sid}, sequence_number)


def dtmf_message(stream_sid: str, digit: str, *, sequence_number: int | None = None) -> str:
    """Twilio to gateway: the caller pressed `digit`."""
    body = {"streamSid": stream_sid, "dtmf": {"track": "inbound_track", "digit": digit}}
    return _dump("dtmf", body, sequence_number)


def mark_in_message(stream_sid: str, name: str, *, sequence_number: int | None = None) -> str:
    """Twilio to gateway: the audio before mark `name` has played."""
    return _dump("mark", {"streamSid": stream_sid, "mark": {"name": name}}, sequence_number)


def stop_message(
    stream_sid: str,
    call_sid: str,
    account_sid: str = DEFAULT_ACCOUNT_SID,
    *,
    sequence_number: int | None = None,
) -> str:
    """Twilio to gateway: the stream has ended."""
    body = {"accountSid": account_sid, "callSid": call_sid}
    return _dump("stop", {"stop": body, "streamSid": stream_sid}, sequence_number)
