"""The bench's SIP test caller (voicebot.accuracy_sip): its requests are SIP the gateway's own
parser takes, its INVITE offers A-law only, and it reads the answer's To tag and media port."""

from __future__ import annotations

from voicebot.accuracy_sip import SipCaller, _header, _sdp_port
from voicebot.protocol.sip.message import SipRequest, parse_datagram

CALL = {"sip_port": "40000", "tag": "abc", "call_id": "acc-1@127.0.0.1"}
OK = (
    "SIP/2.0 200 OK\r\n"
    "Via: SIP/2.0/UDP 127.0.0.1:40000;branch=z9hG4bK1\r\n"
    "From: <sip:+4921400000000@127.0.0.1:40000>;tag=abc\r\n"
    "To: <sip:bot@127.0.0.1:5060>;tag=gw42\r\n"
    "Call-ID: acc-1@127.0.0.1\r\n"
    "CSeq: 1 INVITE\r\n"
    "Content-Type: application/sdp\r\n"
    "\r\n"
    "v=0\r\nc=IN IP4 127.0.0.1\r\nm=audio 20002 RTP/AVP 8\r\n"
)


def test_the_invite_parses_and_offers_only_pcma() -> None:
    caller = SipCaller("127.0.0.1", 5060, "http://127.0.0.1:8080", "t")
    sdp = "v=0\r\nm=audio 30000 RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\n"
    msg = parse_datagram(caller._request("INVITE", 1, CALL, sdp))
    assert isinstance(msg, SipRequest) and msg.method == "INVITE"
    assert msg.header("Call-ID") == "acc-1@127.0.0.1"
    assert msg.header("CSeq") == "1 INVITE"
    assert msg.body == sdp.encode()
    assert int(msg.header("Content-Length") or 0) == len(sdp.encode())


def test_in_dialog_requests_carry_the_gateways_tag() -> None:
    caller = SipCaller("127.0.0.1", 5060, "http://127.0.0.1:8080", "t")
    msg = parse_datagram(caller._request("BYE", 2, {**CALL, "to_tag": "gw42"}))
    assert isinstance(msg, SipRequest) and msg.method == "BYE"
    assert (msg.header("To") or "").endswith(";tag=gw42")
    assert msg.header("CSeq") == "2 BYE" and msg.header("Content-Length") == "0"


def test_the_answer_is_read() -> None:
    assert _header(OK, "cseq") == "1 INVITE"
    assert _header(OK, "To").partition("tag=")[2] == "gw42"
    assert _sdp_port(OK) == 20002
