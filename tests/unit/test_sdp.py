"""SDP parse/serialize and offer/answer tables: codec choice, DTMF types, hold, rejections."""

from __future__ import annotations

import pytest

from voicebot.errors import ProtocolError
from voicebot.protocol.sdp import (
    Connection,
    Media,
    Negotiated,
    accept_answer,
    answer_offer,
    create_offer,
    parse_sdp,
)


def offer(
    m_line: str, *lines: str, conn: str = "192.0.2.10", session: tuple[str, ...] = ()
) -> bytes:
    """An offer from 192.0.2.10 with one media section."""
    text = ["v=0", "o=caller 2890844526 2890844526 IN IP4 192.0.2.10", "s=call",
            f"c=IN IP4 {conn}", "t=0 0", *session, m_line, *lines]  # fmt: skip
    return ("\r\n".join(text) + "\r\n").encode()


def answer(data: bytes, **kwargs: object) -> tuple[bytes, Negotiated]:
    """Answer an offer from 192.0.2.9:30000 and return the answer's bytes and the result."""
    options: dict[str, object] = {"session_version": 1, **kwargs}
    sdp, result = answer_offer(
        parse_sdp(data), local_address="192.0.2.9", local_port=30000, session_id=42,
        **options,  # type: ignore[arg-type]
    )  # fmt: skip
    return sdp.to_bytes(), result


ALAW_ANSWER = (
    b"v=0\r\n"
    b"o=voicebot 42 1 IN IP4 192.0.2.9\r\n"
    b"s=-\r\n"
    b"c=IN IP4 192.0.2.9\r\n"
    b"t=0 0\r\n"
    b"m=audio 30000 RTP/AVP 8 101\r\n"
    b"a=rtpmap:8 PCMA/8000\r\n"
    b"a=rtpmap:101 telephone-event/8000\r\n"
    b"a=fmtp:101 0-16\r\n"
    b"a=ptime:20\r\n"
    b"a=sendrecv\r\n"
)


def test_answer_alaw_byte_exact() -> None:
    """A typical PBX offer (PCMU, PCMA, telephone-event) gets a byte-exact A-law answer."""
    data = offer("m=audio 49170 RTP/AVP 0 8 101", "a=rtpmap:0 PCMU/8000", "a=rtpmap:8 PCMA/8000",
                 "a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-16", "a=ptime:20")  # fmt: skip
    sdp, result = answer(data)
    assert sdp == ALAW_ANSWER
    assert result == Negotiated("PCMA", 8, 101, "192.0.2.10", 49170, "sendrecv", 20)
    assert result.send and result.receive


@pytest.mark.parametrize(
    ("m_line", "lines", "preference", "codec", "pt", "dtmf"),
    [
        ("m=audio 4000 RTP/AVP 8", (), ("PCMA", "PCMU"), "PCMA", 8, None),
        ("m=audio 4000 RTP/AVP 0", (), ("PCMA", "PCMU"), "PCMU", 0, None),
        ("m=audio 4000 RTP/AVP 0 8", (), ("PCMA", "PCMU"), "PCMA", 8, None),
        ("m=audio 4000 RTP/AVP 8 0", (), ("PCMU", "PCMA"), "PCMU", 0, None),
        ("m=audio 4000 RTP/AVP 0 96", ("a=rtpmap:96 telephone-event/8000",), ("PCMA",
         "PCMU"), "PCMU", 0, 96),
        ("m=audio 4000 RTP/AVP 8 100", ("a=rtpmap:100 telephone-event/8000",
         "a=fmtp:100 0-15"), ("PCMA",), "PCMA", 8, 100),
        ("m=audio 4000 RTP/AVP 97 101", ("a=rtpmap:97 pcma/8000",
         "a=rtpmap:101 telephone-event/8000"), ("PCMA", "PCMU"), "PCMA", 97, 101),
        ("m=audio 4000 RTP/AVP 18 0 102 101", ("a=rtpmap:102 telephone-event/16000",
         "a=rtpmap:101 telephone-event/8000"), ("PCMA", "PCMU"), "PCMU", 0, 101),
        ("m=audio 4000 RTP/AVPF 8", (), ("PCMA",), "PCMA", 8, None),
    ],
    ids=["alaw-only", "ulaw-only", "both-alaw-first", "both-prefer-ulaw", "te-96", "te-100",
         "dynamic-pcma", "te-16k-ignored", "avpf"],
)  # fmt: skip
def test_codec_choice(
    m_line: str,
    lines: tuple[str, ...],
    preference: tuple[str, ...],
    codec: str,
    pt: int,
    dtmf: int | None,
) -> None:
    """Our preference picks the codec; the caller's payload types are kept in the answer."""
    sdp, result = answer(offer(m_line, *lines), preference=preference)
    assert (result.codec, result.payload_type, result.dtmf_payload_type) == (codec, pt, dtmf)
    media = parse_sdp(sdp).media[0]
    assert media.formats == ((str(pt),) if dtmf is None else (str(pt), str(dtmf)))
    assert media.rtpmaps()[pt][:2] == (codec, 8000)
    if dtmf == 100:
        assert media.fmtp(100) == "0-15"  # the caller's event range is echoed


@pytest.mark.parametrize(
    "data",
    [
        offer("m=audio 4000 RTP/AVP 18 9", "a=rtpmap:18 G729/8000"),
        offer("m=audio 4000 RTP/AVP 96", "a=rtpmap:96 PCMA/16000"),
        offer("m=audio 4000 RTP/AVP 96", "a=rtpmap:96 PCMA/8000/2"),
        offer("m=audio 4000 RTP/SAVP 8"),
        offer("m=audio 0 RTP/AVP 8"),
        offer("m=video 4000 RTP/AVP 31"),
        offer("m=audio 4000 RTP/AVP 101", "a=rtpmap:101 telephone-event/8000"),
    ],
    ids=["g729-g722", "pcma-16k", "stereo", "srtp", "port-0", "video-only", "only-dtmf"],
)
def test_no_g711_is_488(data: bytes) -> None:
    """No usable G.711 audio stream: 488 Not Acceptable Here."""
    with pytest.raises(ProtocolError) as err:
        answer(data)
    assert err.value.status == 488


def test_other_streams_rejected_with_port_zero() -> None:
    """Video and a second audio stream get port 0 with the offered formats (RFC 3264 §6)."""
    data = offer("m=audio 4000 RTP/AVP 0", "m=video 4002 RTP/AVP 31", "a=rtpmap:31 H261/90000",
                 "m=audio 4004 RTP/AVP 8")  # fmt: skip
    sdp, result = answer(data)
    media = parse_sdp(sdp).media
    assert [(m.kind, m.port, m.formats) for m in media] == [
        ("audio", 30000, ("0",)), ("video", 0, ("31",)), ("audio", 0, ("8",)),
    ]  # fmt: skip
    assert result.remote_port == 4000


@pytest.mark.parametrize(
    ("session", "lines", "conn", "direction", "send", "receive"),
    [
        ((), ("a=sendonly",), "192.0.2.10", "recvonly", False, True),
        ((), ("a=recvonly",), "192.0.2.10", "sendonly", True, False),
        ((), ("a=inactive",), "192.0.2.10", "inactive", False, False),
        (("a=sendonly",), (), "192.0.2.10", "recvonly", False, True),
        (("a=sendonly",), ("a=sendrecv",), "192.0.2.10", "sendrecv", True, True),
        ((), (), "0.0.0.0", "recvonly", False, True),
        ((), ("a=sendonly",), "0.0.0.0", "recvonly", False, True),
        ((), ("a=recvonly",), "0.0.0.0", "inactive", False, False),
    ],
    ids=["sendonly", "recvonly", "inactive", "session-sendonly", "media-overrides",
         "c-zero", "c-zero-sendonly", "c-zero-recvonly"],
)  # fmt: skip
def test_hold_and_resume(
    session: tuple[str, ...],
    lines: tuple[str, ...],
    conn: str,
    direction: str,
    send: bool,
    receive: bool,
) -> None:
    """Directions are mirrored; c=0.0.0.0 means the caller does not want our audio."""
    data = offer("m=audio 4000 RTP/AVP 8", *lines, conn=conn, session=session)
    sdp, result = answer(data)
    assert (result.direction, result.send, result.receive) == (direction, send, receive)
    assert parse_sdp(sdp).media[0].direction == direction
    assert (result.remote_address is None) == (conn == "0.0.0.0")


def test_parse_details_and_round_trip() -> None:
    """Media-level c=, b=/i= lines, TTL suffix, LF line ends; serialize keeps them."""
    text = (
        "v=0\no=- 1 2 IN IP6 2001:db8::1\ns=x\ni=info\nb=AS:64\nt=0 0\na=tool:x\n"
        "m=audio 5004/2 RTP/AVP 0\ni=voice\nc=IN IP4 233.252.0.1/127\nb=AS:80\na=ptime:30\n"
    )
    sdp = parse_sdp(text)
    media = sdp.media[0]
    assert (sdp.origin.addrtype, sdp.origin.address, sdp.session_name) == (
        "IP6",
        "2001:db8::1",
        "x",
    )
    assert media.connection == Connection("233.252.0.1") and media.port_count == 2
    assert media.attribute("ptime") == "30" and sdp.attributes == (("tool", "x"),)
    again = parse_sdp(sdp.to_bytes())
    assert again == sdp
    assert isinstance(again.media[0], Media) and again.other == (("i", "info"), ("b", "AS:64"))


@pytest.mark.parametrize(
    "text",
    [b"", b"o=- 1 1 IN IP4 h\r\n", b"v=1\r\no=- 1 1 IN IP4 h\r\n", b"v=0\r\ns=-\r\n",
     b"v=0\r\no=- 1 IN IP4 h\r\n", b"v=0\r\no=- 1 1 IN IP4 h\r\nm=audio x RTP/AVP 0\r\n",
     b"v=0\r\no=- 1 1 IN IP4 h\r\nm=audio 4000 RTP/AVP 300\r\n",
     b"v=0\r\no=- 1 1 IN IP4 h\r\nm=audio 99999 RTP/AVP 0\r\n",
     b"v=0\r\no=- 1 1 IN IP4 h\r\nm =video 1 RTP/AVP 0\r\n", b"v=0\r\no=- 1 1 IN IP4 h\r\nc=IN\r\n",
     b"v=0\r\no=- 1 1 IN IP4 h\r\nv=0\r\n", b"v=0\r\n\xff\r\n"],
    ids=["empty", "no-v", "v1", "no-o", "short-o", "port-text", "pt-300", "port-range",
         "space-before-eq", "short-c", "second-v", "not-utf8"],
)  # fmt: skip
def test_malformed_sdp_is_400(text: bytes) -> None:
    """Malformed SDP: 400 Bad Request."""
    with pytest.raises(ProtocolError) as err:
        parse_sdp(text)
    assert err.value.status == 400


def test_own_offer_and_reading_the_answer() -> None:
    """Late offer: we offer PCMA, PCMU, telephone-event; the peer's first kept type wins."""
    ours = create_offer(local_address="192.0.2.9", local_port=30000, session_id=7,
                        session_version=7)  # fmt: skip
    assert ours.media[0].formats == ("8", "0", "101")
    reply = offer("m=audio 4000 RTP/AVP 0 101", "a=rtpmap:101 telephone-event/8000")
    result = accept_answer(ours, parse_sdp(reply))
    assert result == Negotiated("PCMU", 0, 101, "192.0.2.10", 4000, "sendrecv")
    held = offer("m=audio 4000 RTP/AVP 8", "a=recvonly")
    assert accept_answer(ours, parse_sdp(held)).direction == "sendonly"
    with pytest.raises(ProtocolError) as err:
        accept_answer(ours, parse_sdp(offer("m=audio 0 RTP/AVP 8")))
    assert err.value.status == 488


def test_hold_then_resume() -> None:
    """A re-INVITE puts us on hold (sendonly), the next one resumes (sendrecv)."""
    _, held = answer(offer("m=audio 4000 RTP/AVP 8", "a=sendonly"), session_version=2)
    sdp, resumed = answer(offer("m=audio 4000 RTP/AVP 8", "a=sendrecv"), session_version=3)
    assert (held.send, held.receive) == (False, True)
    assert (resumed.send, resumed.receive) == (True, True)
    assert parse_sdp(sdp).origin.session_version == "3"


@pytest.mark.parametrize(
    ("conn", "media_conn", "expected"),
    [
        ("192.0.2.10", None, "192.0.2.10"),
        ("192.0.2.10", "IN IP4 198.51.100.7", "198.51.100.7"),  # the media-level c= wins
        ("2001:db8:0:0::1", None, "2001:db8::1"),  # compressed, as a socket reports it
        ("0.0.0.0", None, None),  # RFC 2543 hold: no address, nothing resolved
        ("pbx.example.org", None, 488),
        ("localhost", None, 488),
        ("192.0.2.10", "IN IP4 media.example.org", 488),
        ("192.0.2.10.", None, 488),  # not a literal
        ("[::1]", None, 488),
    ],
)
def test_sdp_host_names_are_refused_never_resolved(
    conn: str, media_conn: str | None, expected: str | int | None
) -> None:
    """Only IPv4/IPv6 literals are accepted in c=: a host name is 488 (it would be resolved
    on the event loop for every packet sent, and lets the caller aim our media anywhere)."""
    addrtype = "IP6" if ":" in conn and not conn.startswith("[") else "IP4"
    lines = [f"c={media_conn}"] if media_conn else []
    data = offer("m=audio 49170 RTP/AVP 8", *lines, conn=conn).replace(
        f"IN IP4 {conn}".encode(), f"IN {addrtype} {conn}".encode()
    )
    if isinstance(expected, int):
        with pytest.raises(ProtocolError) as err:
            answer(data)
        assert err.value.status == expected
        return
    assert answer(data)[1].remote_address == expected


def test_sdp_answer_with_a_host_name_is_refused() -> None:
    """The same rule for the peer's answer to our offer (re-INVITE without an offer)."""
    ours = create_offer(local_address="192.0.2.9", local_port=30000, session_id=1,
                        session_version=1)  # fmt: skip
    theirs = parse_sdp(offer("m=audio 49170 RTP/AVP 8", conn="pbx.example.org"))
    with pytest.raises(ProtocolError) as err:
        accept_answer(ours, theirs)
    assert err.value.status == 488
