"""Table-driven tests for the sans-I/O Twilio Media Streams protocol (both directions)."""

from __future__ import annotations

import base64
import json

import pytest

from voicebot.errors import ProtocolError
from voicebot.protocol.media import twilio
from voicebot.protocol.media.twilio import (
    Connected,
    Dtmf,
    Mark,
    Media,
    OutClear,
    OutMark,
    OutMedia,
    Start,
    Stop,
    TwilioEvent,
    TwilioSession,
    parse_message,
    parse_server_message,
)

SID = "MZ18ad3ab5a668481ce02b83e7395059f0"
CALL = "CA7f2a3c0b9e1d4f5a6b7c8d9e0f1a2b3c"
ACCT = "AC25e16e9a716a4a1786a7c83f58e30482"
FRAME = bytes(range(0x60, 0x60 + 160))
FRAME_B64 = base64.b64encode(FRAME).decode()

# Frames shaped exactly like Twilio's documented examples (written by hand, not by our code).
CONNECTED = '{"event": "connected", "protocol": "Call", "version": "1.0.0"}'
START = (
    '{"event": "start", "sequenceNumber": "1", "start": {"accountSid": "' + ACCT + '",'
    ' "streamSid": "' + SID + '", "callSid": "' + CALL + '", "tracks": ["inbound"],'
    ' "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},'
    ' "customParameters": {"FirstName": "Jane", "RemoteParty": "Bob"}}, "streamSid": "' + SID + '"}'
)
MEDIA = (
    '{"event": "media", "sequenceNumber": "3", "media": {"track": "inbound", "chunk": "1",'
    ' "timestamp": "5", "payload": "' + FRAME_B64 + '"}, "streamSid": "' + SID + '"}'
)
DTMF = (
    '{"event": "dtmf", "streamSid": "' + SID + '", "sequenceNumber": "5",'
    ' "dtmf": {"track": "inbound_track", "digit": "1"}}'
)
MARK = (
    '{"event": "mark", "sequenceNumber": "4", "streamSid": "' + SID + '", "mark": {"name": "m1"}}'
)
STOP = (
    '{"event": "stop", "sequenceNumber": "5", "stop": {"accountSid": "' + ACCT + '",'
    ' "callSid": "' + CALL + '"}, "streamSid": "' + SID + '"}'
)

START_EVENT = Start(
    stream_sid=SID,
    call_sid=CALL,
    account_sid=ACCT,
    tracks=("inbound",),
    encoding="audio/x-mulaw",
    sample_rate=8000,
    channels=1,
    custom_parameters={"FirstName": "Jane", "RemoteParty": "Bob"},
)


def msg(**fields: object) -> str:
    """Serialize a hand-built message dict for malformed-input tables."""
    return json.dumps(fields)


def media_body(**overrides: object) -> dict[str, object]:
    """Return a valid inbound media body with some fields replaced or removed (None)."""
    body: dict[str, object] = {"track": "inbound", "chunk": "1", "timestamp": "0", "payload": ""}
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


def start_body(**overrides: object) -> dict[str, object]:
    """Return a valid start body with some fields replaced or removed (None)."""
    body: dict[str, object] = {
        "accountSid": ACCT,
        "streamSid": SID,
        "callSid": CALL,
        "tracks": ["inbound"],
        "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


def test_constants() -> None:
    """One 20 ms frame of 8 kHz u-law is 160 bytes."""
    assert (twilio.FRAME_MS, twilio.SAMPLE_RATE, twilio.FRAME_BYTES) == (20, 8000, 160)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (CONNECTED, Connected("Call", "1.0.0")),
        (START, START_EVENT),
        (MEDIA, Media(SID, "inbound", 1, 5, FRAME)),
        (DTMF, Dtmf(SID, "inbound_track", "1")),
        (MARK, Mark(SID, "m1")),
        (STOP, Stop(SID, CALL, ACCT)),
        (CONNECTED.encode(), Connected("Call", "1.0.0")),
        (msg(event="media", streamSid=SID, media=media_body(chunk=7, timestamp=140)),
         Media(SID, "inbound", 7, 140, b"")),
        (msg(event="start", start=start_body(mediaFormat={
            "encoding": "audio/x-mulaw", "sampleRate": "8000", "channels": "1"})),
         Start(SID, CALL, ACCT, ("inbound",), "audio/x-mulaw", 8000, 1, {})),
        (msg(event="dtmf", streamSid=SID, dtmf={"track": "inbound_track", "digit": "#"}),
         Dtmf(SID, "inbound_track", "#")),
    ],
    ids=["connected", "start", "media", "dtmf", "mark", "stop", "bytes", "int-fields",
         "string-format-no-params", "dtmf-hash"],
)  # fmt: skip
def test_parse_valid(raw: str | bytes, expected: TwilioEvent) -> None:
    """Real-shaped Twilio frames parse to the expected events."""
    assert parse_message(raw) == expected


BAD_MEDIA_FORMAT = {"encoding": "audio/x-mulaw", "sampleRate": 16000, "channels": 1}

MALFORMED = [
    ("binary-not-utf8", b"\xff\xfe\x00{", 1003, "UTF-8"),
    ("not-json", "hello", 1007, "JSON"),
    ("truncated-json", CONNECTED[:-3], 1007, "JSON"),
    ("json-array", "[1, 2]", 1007, "object"),
    ("json-string", '"media"', 1007, "object"),
    ("json-null", "null", 1007, "object"),
    ("too-deep", "[" * 200_000, 1007, "JSON"),
    ("bad-base64-chars", msg(event="media", streamSid=SID, media=media_body(payload="!!!!")),
     1007, "base64"),
    ("bad-base64-padding", msg(event="media", streamSid=SID, media=media_body(payload="AAA")),
     1007, "base64"),
    ("base64-non-ascii", msg(event="media", streamSid=SID, media=media_body(payload="ÄÄÄÄ")),
     1007, "base64"),
    ("no-event", msg(streamSid=SID), 1008, "event"),
    ("unknown-event", msg(event="hello", streamSid=SID), 1008, "unknown event"),
    ("event-not-string", msg(event=5), 1008, "unknown event"),
    ("media-no-sid", msg(event="media", media=media_body()), 1008, "streamSid"),
    ("media-no-body", msg(event="media", streamSid=SID), 1008, "media"),
    ("media-body-list", msg(event="media", streamSid=SID, media=[]), 1008, "media"),
    ("media-no-track", msg(event="media", streamSid=SID, media=media_body(track=None)),
     1008, "track"),
    ("media-chunk-word", msg(event="media", streamSid=SID, media=media_body(chunk="one")),
     1008, "chunk"),
    ("media-chunk-negative", msg(event="media", streamSid=SID, media=media_body(chunk=-1)),
     1008, "chunk"),
    ("media-chunk-bool", msg(event="media", streamSid=SID, media=media_body(chunk=True)),
     1008, "chunk"),
    ("media-chunk-huge", msg(event="media", streamSid=SID, media=media_body(chunk="9" * 5000)),
     1008, "chunk"),
    ("media-timestamp-float", msg(event="media", streamSid=SID, media=media_body(timestamp=1.5)),
     1008, "timestamp"),
    ("media-payload-number", msg(event="media", streamSid=SID, media=media_body(payload=7)),
     1008, "payload"),
    ("connected-no-version", msg(event="connected", protocol="Call"), 1008, "version"),
    ("start-no-body", msg(event="start", streamSid=SID), 1008, "start"),
    ("start-no-format", msg(event="start", start=start_body(mediaFormat=None)),
     1008, "mediaFormat"),
    ("start-no-callsid", msg(event="start", start=start_body(callSid=None)), 1008, "callSid"),
    ("start-tracks-string", msg(event="start", start=start_body(tracks="inbound")),
     1008, "tracks"),
    ("start-params-not-strings", msg(event="start", start=start_body(customParameters={"a": 1})),
     1008, "customParameters"),
    ("start-sid-mismatch", msg(event="start", streamSid="MZother", start=start_body()),
     1008, "streamSid"),
    ("start-16khz", msg(event="start", start=start_body(mediaFormat=BAD_MEDIA_FORMAT)),
     1003, "16000 Hz"),
    ("start-alaw", msg(event="start", start=start_body(mediaFormat={
        "encoding": "audio/x-alaw", "sampleRate": 8000, "channels": 1})), 1003, "audio/x-alaw"),
    ("start-stereo", msg(event="start", start=start_body(mediaFormat={
        "encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 2})), 1003, "mono"),
    ("dtmf-bad-digit", msg(event="dtmf", streamSid=SID, dtmf={"track": "t", "digit": "x"}),
     1008, "digit"),
    ("dtmf-no-body", msg(event="dtmf", streamSid=SID), 1008, "dtmf"),
    ("mark-no-name", msg(event="mark", streamSid=SID, mark={}), 1008, "name"),
    ("stop-no-callsid", msg(event="stop", streamSid=SID, stop={"accountSid": ACCT}),
     1008, "callSid"),
]  # fmt: skip


@pytest.mark.parametrize(("raw", "status", "word"), [m[1:] for m in MALFORMED],
                         ids=[m[0] for m in MALFORMED])  # fmt: skip
def test_parse_malformed(raw: str | bytes, status: int, word: str) -> None:
    """Every malformed frame raises ProtocolError with the documented close code."""
    with pytest.raises(ProtocolError) as info:
        parse_message(raw)
    assert info.value.status == status
    assert word in info.value.reason


def test_unsupported_format_reason_names_received_and_supported() -> None:
    """The 1003 reason says what arrived and what would be accepted."""
    with pytest.raises(ProtocolError) as info:
        parse_message(msg(event="start", start=start_body(mediaFormat=BAD_MEDIA_FORMAT)))
    assert "audio/x-mulaw 16000 Hz 1 channel" in info.value.reason
    assert "supported is audio/x-mulaw 8000 Hz mono" in info.value.reason


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (twilio.media_message(SID, b"\x00\xff"),
         {"event": "media", "streamSid": SID, "media": {"payload": "AP8="}}),
        (twilio.mark_message(SID, "utt-1"),
         {"event": "mark", "streamSid": SID, "mark": {"name": "utt-1"}}),
        (twilio.clear_message(SID), {"event": "clear", "streamSid": SID}),
        (twilio.connected_message(),
         {"event": "connected", "protocol": "Call", "version": "1.0.0"}),
        (twilio.start_message(SID, CALL, ACCT, {"lang": "de"}, sequence_number=1),
         {"event": "start", "sequenceNumber": "1", "streamSid": SID, "start": {
             "accountSid": ACCT, "streamSid": SID, "callSid": CALL, "tracks": ["inbound"],
             "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
             "customParameters": {"lang": "de"}}}),
        (twilio.start_message(SID, CALL, media_format={"encoding": "audio/l16"}),
         {"event": "start", "streamSid": SID, "start": {
             "accountSid": twilio.DEFAULT_ACCOUNT_SID, "streamSid": SID, "callSid": CALL,
             "tracks": ["inbound"], "mediaFormat": {"encoding": "audio/l16"},
             "customParameters": {}}}),
        (twilio.media_in_message(SID, 2, 20, b"\xff", sequence_number=3),
         {"event": "media", "sequenceNumber": "3", "streamSid": SID, "media": {
             "track": "inbound", "chunk": "2", "timestamp": "20", "payload": "/w=="}}),
        (twilio.dtmf_message(SID, "7", sequence_number=4),
         {"event": "dtmf", "sequenceNumber": "4", "streamSid": SID,
          "dtmf": {"track": "inbound_track", "digit": "7"}}),
        (twilio.mark_in_message(SID, "utt-1"),
         {"event": "mark", "streamSid": SID, "mark": {"name": "utt-1"}}),
        (twilio.stop_message(SID, CALL, ACCT, sequence_number=9),
         {"event": "stop", "sequenceNumber": "9", "streamSid": SID,
          "stop": {"accountSid": ACCT, "callSid": CALL}}),
    ],
    ids=["media", "mark", "clear", "connected", "start", "start-format-override", "media-in",
         "dtmf", "mark-in", "stop"],
)  # fmt: skip
def test_serializers_exact_json(text: str, expected: dict[str, object]) -> None:
    """Serializers produce exactly the expected JSON objects, as str."""
    assert isinstance(text, str)
    assert json.loads(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (twilio.media_message(SID, FRAME), OutMedia(FRAME)),
        (twilio.media_message(SID, b""), OutMedia(b"")),
        (twilio.mark_message(SID, "bye"), OutMark("bye")),
        (twilio.clear_message(SID), OutClear()),
        ('{"event":"clear","streamSid":"' + SID + '"}', OutClear()),
    ],
)
def test_parse_server_message(text: str, expected: object) -> None:
    """What the gateway sends parses back on the caller side."""
    assert parse_server_message(text) == expected
    assert parse_server_message(text, stream_sid=SID) == expected


SERVER_MALFORMED = [
    ("binary", b"\x80", 1003, "UTF-8"),
    ("not-json", "{", 1007, "JSON"),
    ("array", "[]", 1007, "object"),
    ("no-event", msg(streamSid=SID), 1008, "event"),
    ("inbound-only-event", msg(event="stop", streamSid=SID), 1008, "unknown event"),
    ("no-sid", msg(event="clear"), 1008, "streamSid"),
    ("media-no-payload", msg(event="media", streamSid=SID, media={}), 1008, "payload"),
    ("media-bad-base64", msg(event="media", streamSid=SID, media={"payload": "*"}), 1007, "base64"),
    ("mark-no-body", msg(event="mark", streamSid=SID), 1008, "mark"),
]


@pytest.mark.parametrize(
    ("raw", "status", "word"),
    [m[1:] for m in SERVER_MALFORMED],
    ids=[m[0] for m in SERVER_MALFORMED],
)
def test_parse_server_message_malformed(raw: str | bytes, status: int, word: str) -> None:
    """Junk from the gateway raises ProtocolError with the documented close code."""
    with pytest.raises(ProtocolError) as info:
        parse_server_message(raw)
    assert (info.value.status, word in info.value.reason) == (status, True)


def test_parse_server_message_checks_stream_sid() -> None:
    """A message for another stream is a policy violation when the caller names its stream."""
    with pytest.raises(ProtocolError) as info:
        parse_server_message(twilio.clear_message("MZother"), stream_sid=SID)
    assert info.value.status == 1008
    assert "streamSid" in info.value.reason


def test_session_happy_path() -> None:
    """A full stream parses in order and exposes the start's ids."""
    session = TwilioSession()
    assert (session.stream_sid, session.call_sid) == (None, None)
    events = [session.receive(m) for m in (CONNECTED, START, MEDIA, DTMF, MARK, STOP)]
    assert [type(e) for e in events] == [Connected, Start, Media, Dtmf, Mark, Stop]
    assert (session.stream_sid, session.call_sid, session.stopped) == (SID, CALL, True)
    assert session.start_event == START_EVENT


def test_session_connected_is_optional() -> None:
    """A stream may begin directly with start."""
    session = TwilioSession()
    assert session.receive(START) == START_EVENT
    assert session.receive(MEDIA) == Media(SID, "inbound", 1, 5, FRAME)


OTHER_SID_MEDIA = twilio.media_in_message("MZother", 1, 0, b"")
OTHER_CALL_STOP = twilio.stop_message(SID, "CAother", ACCT)

ORDERING = [
    ("media-before-start", [CONNECTED, MEDIA], "before start"),
    ("dtmf-before-start", [DTMF], "before start"),
    ("mark-before-start", [CONNECTED, MARK], "before start"),
    ("stop-before-start", [STOP], "before start"),
    ("second-start", [START, START], "second start"),
    ("connected-twice", [CONNECTED, CONNECTED], "first"),
    ("connected-after-start", [START, CONNECTED], "first"),
    ("media-after-stop", [START, STOP, MEDIA], "after stop"),
    ("stop-after-stop", [START, STOP, STOP], "after stop"),
    ("start-after-stop", [START, STOP, START], "after stop"),
    ("other-stream-media", [START, OTHER_SID_MEDIA], "streamSid"),
    ("other-call-stop", [START, OTHER_CALL_STOP], "callSid"),
]


@pytest.mark.parametrize(
    ("frames", "word"), [o[1:] for o in ORDERING], ids=[o[0] for o in ORDERING]
)
def test_session_ordering_violations(frames: list[str], word: str) -> None:
    """Out-of-order frames raise 1008 on the last frame; earlier frames are accepted."""
    session = TwilioSession()
    for frame in frames[:-1]:
        session.receive(frame)
    with pytest.raises(ProtocolError) as info:
        session.receive(frames[-1])
    assert info.value.status == 1008
    assert word in info.value.reason


def test_session_state_unchanged_after_rejection() -> None:
    """A rejected frame leaves the session usable with its original start."""
    session = TwilioSession()
    session.receive(START)
    other = twilio.start_message("MZother", "CAother", ACCT)
    with pytest.raises(ProtocolError):
        session.receive(other)
    with pytest.raises(ProtocolError):
        session.receive(OTHER_SID_MEDIA)
    assert session.stream_sid == SID
    assert isinstance(session.receive(MEDIA), Media)
    assert not session.stopped


def test_session_propagates_parse_errors() -> None:
    """Malformed JSON through the session keeps its own close code."""
    with pytest.raises(ProtocolError) as info:
        TwilioSession().receive("{oops")
    assert info.value.status == 1007


def test_round_trip_caller_to_session() -> None:
    """Caller-side frames for a whole call parse back to the same values on the server side."""
    session = TwilioSession()
    frames = [
        twilio.connected_message(),
        twilio.start_message(SID, CALL, ACCT, {"lang": "de"}, sequence_number=1),
        *(
            twilio.media_in_message(SID, n, (n - 1) * 20, FRAME, sequence_number=n + 1)
            for n in range(1, 4)
        ),
        twilio.dtmf_message(SID, "*", sequence_number=5),
        twilio.mark_in_message(SID, "greeting", sequence_number=6),
        twilio.stop_message(SID, CALL, ACCT, sequence_number=7),
    ]
    events = [session.receive(f) for f in frames]
    assert events == [
        Connected("Call", "1.0.0"),
        Start(SID, CALL, ACCT, ("inbound",), "audio/x-mulaw", 8000, 1, {"lang": "de"}),
        Media(SID, "inbound", 1, 0, FRAME),
        Media(SID, "inbound", 2, 20, FRAME),
        Media(SID, "inbound", 3, 40, FRAME),
        Dtmf(SID, "inbound_track", "*"),
        Mark(SID, "greeting"),
        Stop(SID, CALL, ACCT),
    ]


def test_round_trip_format_override_is_rejected() -> None:
    """A caller that announces 16 kHz is refused with 1003, as a real server would."""
    fmt = {"encoding": "audio/x-mulaw", "sampleRate": 16000, "channels": 1}
    with pytest.raises(ProtocolError) as info:
        TwilioSession().receive(twilio.start_message(SID, CALL, media_format=fmt))
    assert info.value.status == 1003


@pytest.mark.parametrize("payload", [b"", b"\x00", FRAME, bytes(range(256)) * 4])
def test_round_trip_server_media(payload: bytes) -> None:
    """Any payload survives the gateway serializer and the caller parser byte for byte."""
    assert parse_server_message(twilio.media_message(SID, payload)) == OutMedia(payload)
