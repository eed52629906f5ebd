"""Fuzzing SDP (issue 12): any body gives a session description or `ProtocolError` (400, or 488
when no stream can be answered), never another exception, within the deadline (tests/unit/
fuzzing.py); what parses can be answered, read as an answer and written back."""

from __future__ import annotations

import contextlib

from hypothesis import example, given
from hypothesis import strategies as st

from tests.unit.fuzzing import lines
from voicebot.errors import ProtocolError
from voicebot.protocol.sdp import (
    CODECS,
    SessionDescription,
    accept_answer,
    answer_offer,
    create_offer,
    parse_sdp,
)

OFFER = (
    b"v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\n"
    b"m=audio 4000 RTP/AVP 9 8 0 101\r\na=rtpmap:101 telephone-event/8000\r\n"
    b"a=fmtp:101 0-15\r\na=ptime:20\r\na=sendrecv\r\n"
)
VALUES = st.lists(
    st.one_of(
        st.sampled_from(
            [
                " ",
                "IN",
                "IP4",
                "IP6",
                "0.0.0.0",
                "192.0.2.1",
                "::1",
                "host.example",
                "/",
                "audio",
                "video",
                "RTP/AVP",
                "RTP/SAVP",
                "0",
                "8",
                "9",
                "101",
                "65535",
                "99999",
                "rtpmap:",
                "fmtp:",
                "PCMU/8000",
                "G722/16000",
                "telephone-event/8000",
                "sendonly",
                "inactive",
                "ptime:",
                "-",
                "²",
                "٣",
                "\x00",
                ":",
                "crypto:",
            ]
        ),  # fmt: skip
        st.characters(codec="utf-8"),
    ),
    max_size=12,
).map("".join)
LINE = st.builds(lambda k, v: f"{k}={v}", st.sampled_from(list("vosctmab") + ["x", "zz"]), VALUES)
# numbers as a peer may write them: mostly plain, sometimes Unicode digits or worse
NUMBER = st.one_of(
    st.sampled_from(["0", "8", "9", "18", "96", "101", "127", "²", "٣", "", "-1", "0x10"]),
    st.integers(0, 99999).map(str),
)
M_LINE = st.builds(
    lambda kind, port, proto, formats: f"m={kind} {port} {proto} {' '.join(formats)}",
    st.sampled_from(["audio", "audio", "video", "application"]),
    st.one_of(st.just("4000"), NUMBER),
    st.sampled_from(["RTP/AVP", "RTP/AVPF", "RTP/SAVP", "UDP/TLS/RTP/SAVPF", "udp"]),
    st.lists(NUMBER, min_size=1, max_size=5),
)
A_LINE = st.builds(
    lambda name, pt, value: f"a={name}:{pt} {value}",
    st.sampled_from(["rtpmap", "fmtp", "ptime", "crypto", "sendonly"]),
    NUMBER,
    st.one_of(st.sampled_from(["PCMU/8000", "G722/16000/1", "telephone-event/8000"]), VALUES),
)
HEAD = "v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\n"
BODIES = st.one_of(
    st.binary(max_size=1024),
    lines(LINE).map(lambda text: ("v=0\r\n" + text).encode()),
    st.tuples(M_LINE, lines(st.one_of(A_LINE, M_LINE))).map(
        lambda p: (HEAD + p[0] + "\r\n" + p[1]).encode()
    ),
)


def answer(sdp: SessionDescription) -> None:
    """What the UAS does with an offer and a UAC with an answer: a value or ProtocolError."""
    with contextlib.suppress(ProtocolError):
        description, _ = answer_offer(
            sdp,
            local_address="192.0.2.1",
            local_port=40000,
            session_id=1,
            session_version=1,
            preference=CODECS,
        )
        description.to_bytes()
    ours = create_offer(
        local_address="192.0.2.1", local_port=40000, session_id=1, session_version=1, codecs=CODECS
    )
    with contextlib.suppress(ProtocolError):
        accept_answer(ours, sdp)


def parses_or_refuses(data: bytes) -> None:
    try:
        sdp = parse_sdp(data)
    except ProtocolError:
        return
    sdp.to_bytes()
    answer(sdp)


@given(BODIES)
@example((HEAD + "m=audio 4000 RTP/AVP ²\r\n").encode())  # a Unicode digit as payload type
@example((HEAD + "m=audio 4000 RTP/AVP 0\r\na=ptime:²\r\n").encode())
@example((HEAD + "m=audio 4000 RTP/AVP 0\r\na=ptime:0\r\n").encode())
@example(b"v=0\no=     \nm=- 1 \x00 0 \xc2\xb2")  # found by the deep profile: read as an answer
def test_any_body_parses_or_is_refused(data: bytes) -> None:
    parses_or_refuses(data)


@given(st.data())
def test_a_mutated_offer_parses_or_is_refused(data: st.DataObject) -> None:
    body = bytearray(OFFER)
    for _ in range(data.draw(st.integers(1, 6))):
        at = data.draw(st.integers(0, len(body)))
        piece = data.draw(VALUES).encode()
        cut = data.draw(st.integers(0, 8))
        body[at : at + cut] = piece
    parses_or_refuses(bytes(body))


def test_the_seed_offer_is_answered() -> None:
    answer(parse_sdp(OFFER))
