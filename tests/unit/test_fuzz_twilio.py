"""Fuzzing the Twilio media messages (issue 12): any frame gives an event or `ProtocolError`
with a WebSocket close code (1003, 1007, 1008), never another exception, within the deadline
(tests/unit/fuzzing.py); a stream of them through `TwilioSession` likewise, and the state it
keeps is only ever set from messages it accepted."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

import tests.unit.fuzzing  # noqa: F401 - the fuzz profile
from voicebot.errors import ProtocolError
from voicebot.protocol.ids import is_safe_id
from voicebot.protocol.media import twilio

CLOSE_CODES = {
    twilio.CLOSE_UNSUPPORTED_DATA,
    twilio.CLOSE_INVALID_PAYLOAD,
    twilio.CLOSE_POLICY_VIOLATION,
}
VALID = [
    twilio.connected_message(),
    twilio.start_message("MZ1", "CA1", custom_parameters={"caller": "+49221", "token": "t"}),
    twilio.media_in_message("MZ1", 1, 20, b"\xff" * 160),
    twilio.dtmf_message("MZ1", "5"),
    twilio.mark_in_message("MZ1", "turn-1"),
    twilio.stop_message("MZ1", "CA1"),
]
TEXT = st.one_of(
    st.sampled_from(["MZ1", "CA1", "", "\ud800", "\x00", "a" * 300, "inbound", "audio/x-mulaw"]),
    st.text(max_size=20),
)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=20,
)


def _replace(message: dict[str, Any], path: list[str], value: Any) -> dict[str, Any]:
    """`message` with the field at `path` (into nested objects) set to `value`."""
    node = message
    for key in path[:-1]:
        child = node.get(key)
        if not isinstance(child, dict):
            return message
        node = child
    node[path[-1]] = value
    return message


@st.composite
def bent(draw: st.DrawFn) -> str:
    """A valid message with a few fields replaced by any JSON (wrong types, hostile text)."""
    message = json.loads(draw(st.sampled_from(VALID)))
    for _ in range(draw(st.integers(1, 3))):
        keys = ["event", "streamSid", "start", "media", "dtmf", "mark", "stop", "x"]
        inner = ["callSid", "streamSid", "accountSid", "payload", "track", "chunk", "timestamp",
                 "digit", "name", "tracks", "customParameters", "mediaFormat", "sampleRate",
                 "encoding", "channels"]  # fmt: skip
        path = [draw(st.sampled_from(keys))]
        if draw(st.booleans()):
            path.append(draw(st.sampled_from(inner)))
        message = _replace(message, path, draw(JSON))
    return json.dumps(message)


FRAMES = st.one_of(
    st.binary(max_size=512),
    st.text(max_size=200),
    JSON.map(json.dumps),
    bent(),
    st.sampled_from(VALID),
)


def parses_or_refuses(frame: str | bytes) -> None:
    try:
        twilio.parse_message(frame)
    except ProtocolError as exc:
        assert exc.status in CLOSE_CODES


@given(FRAMES)
@example('{"event": "start", "start": {"callSid": "\\ud800"}}')  # a lone surrogate
@example("[" * 100_000)  # nesting deeper than the JSON decoder's recursion limit
@example(b"\xff\xfe")
def test_any_frame_is_an_event_or_a_close_code(frame: str | bytes) -> None:
    parses_or_refuses(frame)


@given(st.lists(st.one_of(FRAMES, st.sampled_from(VALID)), max_size=12))
def test_any_stream_of_frames_is_followed_or_closed(frames: list[str | bytes]) -> None:
    session = twilio.TwilioSession()
    for frame in frames:
        try:
            event = session.receive(frame)
        except ProtocolError as exc:
            assert exc.status in CLOSE_CODES
            return  # the stream is closed
        if isinstance(event, twilio.Start):
            assert is_safe_id(event.call_sid) and is_safe_id(event.stream_sid)
    if session.start_event is not None:
        assert session.call_sid == session.start_event.call_sid


@given(st.data())
def test_a_server_message_parser_takes_any_frame(data: st.DataObject) -> None:
    """The caller side (voicebot call, the tests) reads what the gateway sends: same rule."""
    frame = data.draw(FRAMES)
    try:
        twilio.parse_server_message(frame, "MZ1")
    except ProtocolError as exc:
        assert exc.status in CLOSE_CODES
