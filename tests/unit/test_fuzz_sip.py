"""Fuzzing the SIP message parser and header parsers (issue 12): any bytes give a message or a
`SipParseError`/`ProtocolError`, never another exception, within the deadline (tests/unit/
fuzzing.py). Seeds: the RFC 4475 torture messages, mutated."""

from __future__ import annotations

import contextlib

from hypothesis import example, given
from hypothesis import strategies as st

from tests.unit.fuzzing import lines, mutated, torture_seeds
from voicebot.errors import ProtocolError
from voicebot.protocol.sip.headers import parse_contacts, parse_name_addr, parse_uri, parse_via
from voicebot.protocol.sip.message import (
    SipMessage,
    SipParseError,
    SipRequest,
    SipStreamFramer,
    error_response,
    parse_datagram,
    serialize,
)
from voicebot.protocol.sip.values import (
    parse_call_id,
    parse_content_length,
    parse_cseq,
    parse_max_forwards,
    parse_media_type,
    parse_token_list,
)

HEADER_NAMES = [
    *("Via", "v", "From", "f", "To", "t", "Call-ID", "i", "CSeq", "Contact", "m"),
    *("Content-Length", "l", "Content-Type", "c", "Max-Forwards", "Route", "X-Odd"),
]
# pieces of SIP's grammar, and characters it must survive
SIP_PIECES = st.sampled_from(
    [
        "SIP/2.0/UDP h;rport=",
        "99999",
        "\u00b2",
        *"<>\"\\;:,=@/?% \t[]()!~*'&+.-_",
        "sip:",
        "sips:",
        "tel:",
        "SIP/2.0/UDP ",
        "\x00",
        "é",
    ]
)
FIELD = st.lists(st.one_of(SIP_PIECES, st.characters(codec="utf-8")), max_size=60).map("".join)
START_LINES = st.sampled_from(
    ["INVITE sip:bot@gw SIP/2.0", "SIP/2.0 200 OK", "OPTIONS * SIP/2.0", "BYE sip:x SIP/3.0",
     "SIP/2.0 99 Odd", "ACK sip:a@b SIP/2.0", ""]
)  # fmt: skip
STRUCTURED = st.tuples(
    START_LINES,
    lines(st.builds(lambda n, v: f"{n}: {v}", st.sampled_from(HEADER_NAMES), FIELD)),
    st.binary(max_size=64),
).map(lambda p: (p[0] + "\r\n" + p[1] + "\r\n").encode("utf-8", "surrogatepass") + p[2])


def check_message(msg: SipMessage) -> None:
    """What the UAS reads of a parsed message: a value or a ProtocolError, each field."""
    for read in (
        lambda: msg.call_id,
        lambda: msg.cseq,
        lambda: msg.from_addr,
        lambda: msg.to_addr,
        lambda: msg.vias,
        lambda: msg.top_via,
    ):
        with contextlib.suppress(ProtocolError):
            read()
    with contextlib.suppress(ProtocolError):
        for via in msg.vias:
            host, port = via.response_address()  # where a response would be sent
            assert 0 < port <= 65535
    serialize(msg)  # whatever was parsed can be written back


def parses_or_refuses(data: bytes) -> None:
    try:
        msg = parse_datagram(data)
    except SipParseError as exc:
        error_response(exc)  # the answer to a refused request is built without raising
        return
    check_message(msg)


@given(st.binary(max_size=2048))
def test_any_datagram_parses_or_is_refused(data: bytes) -> None:
    parses_or_refuses(data)


@given(STRUCTURED)
def test_any_header_section_parses_or_is_refused(data: bytes) -> None:
    parses_or_refuses(data)


@given(st.data())
def test_mutated_torture_messages_parse_or_are_refused(data: st.DataObject) -> None:
    parses_or_refuses(data.draw(mutated(torture_seeds())))


@given(st.data(), st.lists(st.integers(1, 400), min_size=1, max_size=20))
def test_a_tcp_stream_cut_anywhere_frames_or_is_refused(
    data: st.DataObject, cuts: list[int]
) -> None:
    stream = data.draw(st.one_of(STRUCTURED, st.binary(max_size=1024))) * 2
    framer = SipStreamFramer()
    at = 0
    for size in cuts + [len(stream)]:
        try:
            for msg in framer.feed(stream[at : at + size]):
                check_message(msg)
        except SipParseError:
            return  # the stream is closed
        at += size
    assert framer.buffered <= len(stream)


@given(FIELD)
@example("SIP/2.0/UDP pc33.example.com;rport=\u00b2")  # a Unicode digit
@example("SIP/2.0/UDP pc33.example.com;rport=99999999")  # no such port
def test_header_value_parsers_return_a_value_or_protocol_error(value: str) -> None:
    with contextlib.suppress(ProtocolError):
        for via in parse_via(value):
            assert 0 < via.response_address()[1] <= 65535
    for parse in (
        parse_uri,
        parse_name_addr,
        parse_contacts,
        parse_via,
        parse_cseq,
        parse_call_id,
        parse_content_length,
        parse_max_forwards,
        parse_media_type,
        lambda v: parse_token_list(v, "Allow"),
    ):
        with contextlib.suppress(ProtocolError):
            parse(value)


def test_a_torture_request_survives_the_round_trip() -> None:
    """The seeds are real: at least one parses as a request (else the fuzzing is shallow)."""
    parsed = []
    for seed in torture_seeds():
        with contextlib.suppress(SipParseError):
            parsed.append(parse_datagram(seed))
    assert any(isinstance(msg, SipRequest) for msg in parsed)
