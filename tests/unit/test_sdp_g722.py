"""SDP offer/answer tables for G.722 (HD voice): preference, the 8000 Hz clock-rate quirk."""

from __future__ import annotations

import pytest

from voicebot.errors import ProtocolError
from voicebot.protocol.sdp import (
    CODECS,
    Negotiated,
    accept_answer,
    answer_offer,
    create_offer,
    parse_sdp,
)

HD = ("G722", "PCMA", "PCMU")  # the gateway's default `[sip] codec_preference`


def offer(m_line: str, *lines: str) -> bytes:
    """An offer from 192.0.2.10 with one audio section."""
    text = ["v=0", "o=caller 1 1 IN IP4 192.0.2.10", "s=call", "c=IN IP4 192.0.2.10", "t=0 0",
            m_line, *lines]  # fmt: skip
    return ("\r\n".join(text) + "\r\n").encode()


def answer(data: bytes, preference: tuple[str, ...] = HD) -> tuple[bytes, Negotiated]:
    """Our answer from 192.0.2.9:30000, as bytes, and the negotiated stream."""
    sdp, result = answer_offer(
        parse_sdp(data), local_address="192.0.2.9", local_port=30000, session_id=42,
        session_version=1, preference=preference,
    )  # fmt: skip
    return sdp.to_bytes(), result


G722_ANSWER = (
    b"v=0\r\n"
    b"o=voicebot 42 1 IN IP4 192.0.2.9\r\n"
    b"s=-\r\n"
    b"c=IN IP4 192.0.2.9\r\n"
    b"t=0 0\r\n"
    b"m=audio 30000 RTP/AVP 9 101\r\n"
    b"a=rtpmap:9 G722/8000\r\n"
    b"a=rtpmap:101 telephone-event/8000\r\n"
    b"a=fmtp:101 0-16\r\n"
    b"a=ptime:20\r\n"
    b"a=sendrecv\r\n"
)


@pytest.mark.parametrize(
    "data",
    [
        offer("m=audio 49170 RTP/AVP 9 8 0 101", "a=rtpmap:9 G722/8000", "a=rtpmap:8 PCMA/8000",
              "a=rtpmap:0 PCMU/8000", "a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-16"),
        offer("m=audio 49170 RTP/AVP 8 0 9 101", "a=rtpmap:101 telephone-event/8000",
              "a=fmtp:101 0-16"),  # G.711 first in the offer, no rtpmap for static 9
        offer("m=audio 49170 RTP/AVP 9 101", "a=rtpmap:9 G722/16000",
              "a=rtpmap:101 telephone-event/8000"),  # the wrong clock rate some phones write
    ],
    ids=["baresip-style", "g711-listed-first", "g722-16000-quirk"],
)  # fmt: skip
def test_g722_is_preferred_and_answered_byte_exact(data: bytes) -> None:
    """G.722 wins over G.711 whatever the offer's order; the answer says G722/8000 (RFC 3551:
    the RTP clock is 8000 Hz) while the call's audio runs at 16 kHz."""
    sdp, result = answer(data)
    assert sdp == G722_ANSWER
    assert result == Negotiated("G722", 9, 101, "192.0.2.10", 49170, "sendrecv", 20)
    assert result.sample_rate == 16000


@pytest.mark.parametrize(
    ("m_line", "lines", "preference", "codec", "pt", "rate"),
    [
        ("m=audio 4000 RTP/AVP 9", (), HD, "G722", 9, 16000),
        ("m=audio 4000 RTP/AVP 9 8", (), ("PCMA", "G722"), "PCMA", 8, 8000),
        ("m=audio 4000 RTP/AVP 9 8", (), ("PCMA", "PCMU"), "PCMA", 8, 8000),
        ("m=audio 4000 RTP/AVP 0 9", (), ("PCMU", "G722", "PCMA"), "PCMU", 0, 8000),
        ("m=audio 4000 RTP/AVP 96 8", ("a=rtpmap:96 g722/8000",), HD, "G722", 96, 16000),
        ("m=audio 4000 RTP/AVP 96 8", ("a=rtpmap:96 G722/8000/2",), HD, "PCMA", 8, 8000),
        ("m=audio 4000 RTP/AVP 96 0", ("a=rtpmap:96 G722/32000",), HD, "PCMU", 0, 8000),
        ("m=audio 4000 RTP/AVP 9 0", ("a=rtpmap:9 G722/16000",), ("PCMU",), "PCMU", 0, 8000),
    ],
    ids=["g722-only", "pcma-preferred", "g722-not-configured", "ulaw-preferred",
         "dynamic-g722", "stereo-g722-refused", "g722-32k-refused", "g711-only-config"],
)  # fmt: skip
def test_codec_choice_with_g722(
    m_line: str, lines: tuple[str, ...], preference: tuple[str, ...], codec: str, pt: int, rate: int
) -> None:
    """The configured order decides; the caller's payload type is kept in the answer."""
    sdp, result = answer(offer(m_line, *lines), preference)
    assert (result.codec, result.payload_type, result.sample_rate) == (codec, pt, rate)
    media = parse_sdp(sdp).media[0]
    assert media.formats == (str(pt),)
    assert media.rtpmaps()[pt] == (codec, 8000, 1)


def test_only_g722_offered_to_a_g711_only_gateway_is_488() -> None:
    """With `codec_preference = PCMA,PCMU` an offer of G.722 alone is Not Acceptable Here."""
    with pytest.raises(ProtocolError) as err:
        answer(offer("m=audio 4000 RTP/AVP 9"), ("PCMA", "PCMU"))
    assert err.value.status == 488
    assert "PCMA/PCMU" in err.value.reason


def test_own_offer_with_g722_and_its_answer() -> None:
    """Our own offer lists G.722 as static type 9 first; a peer answering 9 gives a 16 kHz call."""
    ours = create_offer(local_address="192.0.2.9", local_port=30000, session_id=7,
                        session_version=7, codecs=CODECS)  # fmt: skip
    media = ours.media[0]
    assert media.formats == ("9", "8", "0", "101")
    assert media.attribute("rtpmap") == "9 G722/8000"
    result = accept_answer(ours, parse_sdp(offer("m=audio 4000 RTP/AVP 9 101")))
    assert (result.codec, result.payload_type, result.sample_rate) == ("G722", 9, 16000)
