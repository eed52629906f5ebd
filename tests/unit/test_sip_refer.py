"""REFER building, sipfrag parsing and what each answer means (voicebot.protocol.sip.refer),
and the 200 OK and in-dialog destination of the UAS (voicebot.protocol.sip.uas)."""

from __future__ import annotations

import pytest

from voicebot.protocol.sdp import parse_sdp
from voicebot.protocol.sip.dialog import Dialog
from voicebot.protocol.sip.headers import Via
from voicebot.protocol.sip.message import SipRequest, parse_datagram, response_for
from voicebot.protocol.sip.refer import (
    refer_answered,
    refer_request,
    refer_to_uri,
    sipfrag_outcome,
    sipfrag_status,
)
from voicebot.protocol.sip.uas import capabilities, in_dialog_destination, invite_ok

INVITE = (
    b"INVITE sip:bot@10.0.0.1 SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP 10.0.0.9:5062;branch=z9hG4bKinv1\r\n"
    b"From: <sip:caller@10.0.0.9>;tag=c1\r\nTo: <sip:bot@10.0.0.1>\r\n"
    b"Call-ID: refer1@10.0.0.9\r\nCSeq: 7 INVITE\r\nMax-Forwards: 70\r\n"
    b"Contact: <sip:caller@10.0.0.9:5062>\r\nContent-Length: 0\r\n\r\n"
)
SDP = (
    b"v=0\r\no=voicebot 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n"
    b"m=audio 30000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n"
    b"a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=sendrecv\r\n"
)


def invite() -> SipRequest:
    msg = parse_datagram(INVITE)
    assert isinstance(msg, SipRequest)
    return msg


def dialog(contact: str = "sip:voicebot@10.0.0.1:5060") -> Dialog:
    via = Via("UDP", "10.0.0.1", 5060, (("rport", None),))
    return Dialog.as_uas(invite(), "uas1", contact, via)


@pytest.mark.parametrize(
    ("target", "handoff_id", "uri"),
    [
        (
            "sip:buergerbuero@pbx.test", "AB 12/3",
            "sip:buergerbuero@pbx.test?X-Voicebot-Handoff=AB%2012%2F3",
        ),
        ("queue@pbx", "X1", "sip:queue@pbx?X-Voicebot-Handoff=X1"),
        ("<sip:200@pbx;user=phone>", "H7K2", "sip:200@pbx;user=phone?X-Voicebot-Handoff=H7K2"),
        ("sip:q@pbx?Subject=x", "H7", "sip:q@pbx?Subject=x&X-Voicebot-Handoff=H7"),
    ],
)  # fmt: skip
def test_refer_to_carries_the_escaped_handoff_id(target: str, handoff_id: str, uri: str) -> None:
    assert refer_to_uri(target, handoff_id) == uri


def test_refer_request_in_the_dialog() -> None:
    refer = refer_request(dialog(), "sip:200@pbx", "H7K2", "sip:voicebot@10.0.0.1:5060")
    assert refer.method == "REFER" and refer.uri == "sip:caller@10.0.0.9:5062"
    assert refer.header("Refer-To") == "<sip:200@pbx?X-Voicebot-Handoff=H7K2>"
    assert refer.header("Referred-By") == "<sip:voicebot@10.0.0.1:5060>"
    assert refer.call_id == "refer1@10.0.0.9"
    assert refer.from_addr.tag == "uas1" and refer.to_addr.tag == "c1"
    data = refer.to_bytes()
    assert data.startswith(b"REFER sip:caller@10.0.0.9:5062 SIP/2.0\r\n")
    assert (refer.header("CSeq") or "").endswith(" REFER")
    assert b"\r\nRefer-To: <sip:200@pbx?X-Voicebot-Handoff=H7K2>\r\n" in data


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"SIP/2.0 200 OK\r\n", 200),
        (b"SIP/2.0 100 Trying", 100),
        (b"  SIP/2.0 603 Declined", 603),
        (b"SIP/2.0 180 Ringing\r\nContact: <sip:x>\r\n", 180),
        (b"SIP/2.0 99 Odd", None),
        (b"SIP/2.0 700 Beyond", None),
        (b"HTTP/1.1 200 OK", None),
        (b"garbage", None),
        (b"", None),
    ],
)
def test_sipfrag_status(body: bytes, status: int | None) -> None:
    assert sipfrag_status(body) == status


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (100, None),
        (183, None),
        (200, (True, "sipfrag 200")),
        (299, (True, "sipfrag 299")),
        (486, (False, "transfer failed with sipfrag 486")),
        (603, (False, "transfer failed with sipfrag 603")),
    ],
)
def test_sipfrag_outcome(status: int, outcome: tuple[bool, str] | None) -> None:
    assert sipfrag_outcome(status) == outcome


def test_what_the_refer_answer_means() -> None:
    refer = refer_request(dialog(), "sip:200@pbx", "H7K2", "sip:voicebot@10.0.0.1")
    assert refer_answered(None) == (False, "REFER not answered")
    assert refer_answered(response_for(refer, 202)) is None
    assert refer_answered(response_for(refer, 603)) == (False, "REFER refused with 603")


def test_the_200_ok_carries_contact_allow_and_the_sdp_answer() -> None:
    answer = parse_sdp(SDP)
    ok = invite_ok(invite(), answer, "sip:voicebot@10.0.0.1:5060", "uas1")
    assert ok.status == 200 and ok.to_addr.tag == "uas1"
    assert ok.header("Contact") == "<sip:voicebot@10.0.0.1:5060>"
    assert ok.header("Allow") == dict(capabilities())["Allow"]
    assert ok.header("User-Agent") == "voicebot"
    assert ok.header("Content-Type") == "application/sdp"
    assert ok.body == answer.to_bytes()
    assert ok.header("CSeq") == "7 INVITE" and ok.call_id == "refer1@10.0.0.9"
    data = ok.to_bytes()
    assert data.startswith(b"SIP/2.0 200 OK\r\n") and data.endswith(answer.to_bytes())


def test_capabilities_announce_the_methods_of_the_uas() -> None:
    headers = dict(capabilities())
    methods = {m.strip() for m in headers["Allow"].split(",")}
    assert methods == {"INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "NOTIFY", "INFO"}
    assert headers["User-Agent"] == "voicebot"


def test_in_dialog_requests_go_to_an_ip_target_else_the_source() -> None:
    assert in_dialog_destination(dialog(), ("192.0.2.1", 5999)) == ("10.0.0.9", 5062)
    named = parse_datagram(INVITE.replace(b"<sip:caller@10.0.0.9:5062>", b"<sip:c@pbx.example>"))
    assert isinstance(named, SipRequest)
    via = Via("UDP", "10.0.0.1", 5060, ())
    by_name = Dialog.as_uas(named, "uas1", "sip:voicebot@10.0.0.1", via)
    assert in_dialog_destination(by_name, ("192.0.2.1", 5999)) == ("192.0.2.1", 5999)
    no_port = parse_datagram(INVITE.replace(b"10.0.0.9:5062>", b"10.0.0.9>"))
    assert isinstance(no_port, SipRequest)
    default = Dialog.as_uas(no_port, "uas1", "sip:voicebot@10.0.0.1", via)
    assert in_dialog_destination(default, ("192.0.2.1", 5999)) == ("10.0.0.9", 5060)
