"""RFC 3261 §17 transactions, dialogs and the UAS 2xx retransmitter on a simulated clock."""

from __future__ import annotations

from typing import Protocol

import pytest

from voicebot.protocol.sip.dialog import Dialog, Invite2xxRetransmitter
from voicebot.protocol.sip.headers import Via
from voicebot.protocol.sip.message import SipRequest, SipResponse, parse_datagram, response_for
from voicebot.protocol.sip.transaction import (
    Action,
    Deliver,
    InviteClientTransaction,
    InviteServerTransaction,
    NonInviteClientTransaction,
    NonInviteServerTransaction,
    SendRequest,
    Terminated,
    Timeout,
    Transmit,
    cancelled_key,
    client_key,
    server_key,
    server_transaction,
)

INVITE = (
    b"INVITE sip:bot@192.0.2.9 SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP 192.0.2.1:5062;branch=z9hG4bKinv1\r\n"
    b"Record-Route: <sip:p2.example.de;lr>, <sip:p1.example.de;lr>\r\n"
    b"Max-Forwards: 70\r\n"
    b"From: <sip:anna@example.de>;tag=from1\r\n"
    b"To: <sip:bot@example.de>\r\n"
    b"Call-ID: call-1@example.de\r\n"
    b"CSeq: 10 INVITE\r\n"
    b"Contact: <sip:anna@192.0.2.1:5062>\r\n"
    b"Content-Length: 0\r\n\r\n"
)
LOCAL_VIA = Via("UDP", "192.0.2.9", 5060, (("rport", None),))


class Clocked(Protocol):
    """Anything with next_deadline/on_timer."""

    def next_deadline(self) -> float | None:
        """When to call on_timer next."""

    def on_timer(self, now: float) -> list[Action]:
        """Fire due timers."""


def req(data: bytes = INVITE, **replace: tuple[bytes, bytes]) -> SipRequest:
    """Parse a request after byte replacements, each given as an (old, new) pair."""
    for old, new in replace.values():
        data = data.replace(old, new)
    msg = parse_datagram(data)
    assert isinstance(msg, SipRequest)
    return msg


def run(machine: Clocked, until: float) -> list[tuple[float, Action]]:
    """Fire every timer up to `until`, at exactly its deadline; return (time, action) pairs."""
    out: list[tuple[float, Action]] = []
    while (when := machine.next_deadline()) is not None and when <= until:
        out += [(when, action) for action in machine.on_timer(when)]
    return out


def transmit_times(events: list[tuple[float, Action]]) -> list[float]:
    """The times at which something was transmitted."""
    return [t for t, a in events if isinstance(a, Transmit)]


def ack_for(invite: SipRequest, response: SipResponse) -> SipRequest:
    """The ACK a UAC sends for a non-2xx response (same branch)."""
    lines = [
        f"ACK {invite.uri} SIP/2.0",
        f"Via: {invite.headers.get('Via')}",
        f"From: {invite.headers.get('From')}",
        f"To: {response.headers.get('To')}",
        f"Call-ID: {invite.call_id}",
        f"CSeq: {invite.cseq.seq} ACK",
        "Content-Length: 0",
    ]
    msg = parse_datagram(("\r\n".join(lines) + "\r\n\r\n").encode())
    assert isinstance(msg, SipRequest)
    return msg


BYE = (
    b"BYE sip:bot@192.0.2.9 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1:5062;branch=z9hG4bKbye1\r\n"
    b"From: <sip:anna@example.de>;tag=from1\r\nTo: <sip:bot@example.de>;tag=me\r\n"
    b"Call-ID: call-1@example.de\r\nCSeq: 11 BYE\r\nContent-Length: 0\r\n\r\n"
)


def test_invite_server_non_2xx_retransmits_until_ack() -> None:
    """Retransmitted INVITEs get the last response; Timer G doubles to T2; ACK then Timer I."""
    invite = req()
    tx = InviteServerTransaction(invite)
    start = tx.start(0.0)
    assert start[0] == Deliver(invite) and isinstance(start[1], Transmit)
    assert b"SIP/2.0 100 Trying" in start[1].data and tx.next_deadline() is None
    assert tx.receive(invite, 0.2) == [start[1]]  # absorbed: resend 100, no new Deliver
    ringing = response_for(invite, 180, to_tag="me")
    assert tx.send_response(ringing, 0.3) == [Transmit(ringing.to_bytes())]
    assert tx.receive(invite, 0.4) == [Transmit(ringing.to_bytes())]
    busy = response_for(invite, 486, to_tag="me")
    assert tx.send_response(busy, 1.0) == [Transmit(busy.to_bytes())]
    events = run(tx, 12.0)
    assert transmit_times(events) == [1.5, 2.5, 4.5, 8.5] and tx.next_deadline() == 12.5
    assert tx.receive(invite, 12.2) == [Transmit(busy.to_bytes())]
    assert tx.receive(ack_for(invite, busy), 12.5) == [] and tx.state == "confirmed"
    assert tx.receive(ack_for(invite, busy), 12.6) == []  # ACK retransmission absorbed
    assert tx.next_deadline() == 17.5  # Timer I = T4
    assert run(tx, 20.0) == [(17.5, Terminated("Timer I"))] and tx.terminated


def test_invite_server_timer_h_without_ack() -> None:
    """No ACK: Timer G until Timer H (64*T1) reports a timeout."""
    invite = req()
    tx = InviteServerTransaction(invite, send_trying=False)
    assert tx.start(0.0) == [Deliver(invite)]
    tx.send_response(response_for(invite, 603, to_tag="me"), 0.0)
    events = run(tx, 100.0)
    assert transmit_times(events) == [0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5]
    assert [a for _, a in events if not isinstance(a, Transmit)] == [
        Timeout("H"), Terminated("no ACK for the final response (Timer H)"),
    ]  # fmt: skip
    assert events[-1][0] == 32.0


def test_invite_server_reliable_has_no_retransmissions() -> None:
    """Over TCP: no Timer G; the ACK ends the transaction at once (Timer I = 0)."""
    invite = req()
    tx = InviteServerTransaction(invite, reliable=True)
    tx.start(0.0)
    busy = response_for(invite, 486, to_tag="me")
    tx.send_response(busy, 0.0)
    assert tx.next_deadline() == 32.0  # only Timer H
    assert tx.receive(ack_for(invite, busy), 1.0) == [Terminated("ACK received")]


def test_invite_server_2xx_goes_to_accepted() -> None:
    """After a 2xx, INVITE retransmissions are absorbed; the TU's 2xx resends pass; Timer L."""
    invite = req()
    tx = InviteServerTransaction(invite)
    tx.start(0.0)
    ok = response_for(invite, 200, to_tag="me")
    assert tx.send_response(ok, 1.0) == [Transmit(ok.to_bytes())] and tx.state == "accepted"
    assert tx.receive(invite, 1.2) == []  # no new call, no second Deliver
    assert tx.send_response(ok, 1.5) == [Transmit(ok.to_bytes())]
    ack = ack_for(invite, ok)  # an ACK that (wrongly) reuses the INVITE branch goes to the TU
    assert tx.receive(ack, 1.6) == [Deliver(ack)]
    assert run(tx, 40.0) == [(33.0, Terminated("Timer L"))]
    with pytest.raises(ValueError):
        tx.send_response(response_for(invite, 500), 41.0)


def test_non_invite_server_timer_j() -> None:
    """Trying absorbs retransmissions; after the final response they get it again; Timer J."""
    bye = req(BYE)
    tx = NonInviteServerTransaction(bye)
    assert tx.start(0.0) == [Deliver(bye)] and tx.receive(bye, 0.1) == []
    ok = response_for(bye, 200)
    assert tx.send_response(ok, 0.2) == [Transmit(ok.to_bytes())]
    assert tx.receive(bye, 3.0) == [Transmit(ok.to_bytes())]
    assert run(tx, 100.0) == [(32.2, Terminated("Timer J"))]
    tcp = NonInviteServerTransaction(bye, reliable=True)
    tcp.start(0.0)
    assert tcp.send_response(ok, 0.0) == [Transmit(ok.to_bytes()), Terminated("completed")]
    provisional = NonInviteServerTransaction(bye)
    provisional.start(0.0)
    trying = response_for(bye, 100)
    provisional.send_response(trying, 0.0)
    assert provisional.receive(bye, 0.5) == [Transmit(trying.to_bytes())]


def test_non_invite_client_timers_e_f_k() -> None:
    """Timer E doubles to T2 (T2 once Proceeding); F times out; a final response starts K."""
    bye = req(BYE)
    tx = NonInviteClientTransaction(bye)
    assert tx.start(0.0) == [Transmit(bye.to_bytes())]
    events = run(tx, 100.0)
    assert transmit_times(events) == [
        0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5,
    ]  # fmt: skip
    assert [a for _, a in events][-2:] == [Timeout("F"), Terminated("no final response (Timer F)")]
    tx = NonInviteClientTransaction(bye)
    tx.start(0.0)
    trying = response_for(bye, 100)
    run(tx, 0.6)
    assert tx.receive(trying, 0.7) == [Deliver(trying)]
    assert transmit_times(run(tx, 10.0)) == [1.5, 5.5, 9.5]  # 1.5 was set before: then T2
    ok = response_for(bye, 200)
    assert tx.receive(ok, 10.0) == [Deliver(ok)] and tx.state == "completed"
    assert tx.receive(ok, 10.5) == []  # retransmitted final response absorbed
    assert run(tx, 20.0) == [(15.0, Terminated("Timer K"))]
    tcp = NonInviteClientTransaction(bye, reliable=True)
    tcp.start(0.0)
    assert tcp.next_deadline() == 32.0
    assert tcp.receive(ok, 1.0) == [Deliver(ok), Terminated("response received")]


def test_invite_client_timers_a_b_and_ack() -> None:
    """Timer A doubles without cap until B; a 486 is ACKed here with the response's To tag."""
    invite = req()
    tx = InviteClientTransaction(invite)
    tx.start(0.0)
    events = run(tx, 100.0)
    assert transmit_times(events) == [0.5, 1.5, 3.5, 7.5, 15.5, 31.5]
    assert events[-2:] == [(32.0, Timeout("B")),
                           (32.0, Terminated("no response to INVITE (Timer B)"))]  # fmt: skip
    tx = InviteClientTransaction(invite)
    tx.start(0.0)
    ringing = response_for(invite, 180, to_tag="them")
    assert tx.receive(ringing, 0.2) == [Deliver(ringing)] and tx.next_deadline() is None
    busy = response_for(invite, 486, to_tag="them")
    deliver, ack, *rest = tx.receive(busy, 5.0)
    assert deliver == Deliver(busy) and rest == [] and isinstance(ack, Transmit)
    sent = parse_datagram(ack.data)
    assert isinstance(sent, SipRequest) and sent.method == "ACK" and sent.uri == invite.uri
    assert sent.top_via.branch == "z9hG4bKinv1" and sent.to_addr.tag == "them"
    assert str(sent.cseq) == "10 ACK" and sent.call_id == invite.call_id
    assert tx.receive(busy, 5.5) == [ack]  # a retransmitted 486 is ACKed again
    assert run(tx, 100.0) == [(37.0, Terminated("Timer D"))]
    tx = InviteClientTransaction(invite)
    tx.start(0.0)
    ok = response_for(invite, 200, to_tag="them")
    assert tx.receive(ok, 1.0) == [Deliver(ok)] and tx.receive(ok, 1.5) == [Deliver(ok)]
    assert run(tx, 100.0) == [(33.0, Terminated("Timer M"))]


def test_keys_and_factory() -> None:
    """Same branch and sent-by: same transaction; ACK joins its INVITE; CANCEL does not."""
    invite = req()
    assert server_key(invite) == ("3261", "z9hG4bKinv1", "192.0.2.1:5062", "INVITE")
    ack = ack_for(invite, response_for(invite, 486, to_tag="me"))
    assert server_key(ack) == server_key(invite)
    cancel = req(a=(b"INVITE sip", b"CANCEL sip"), b=(b"10 INVITE", b"10 CANCEL"))
    assert server_key(cancel) != server_key(invite) == cancelled_key(cancel)
    other_host = req(a=(b"192.0.2.1:5062;branch", b"192.0.2.7:5062;branch"))
    assert server_key(other_host) != server_key(invite)
    assert client_key(response_for(invite, 200)) == ("z9hG4bKinv1", "INVITE")
    assert isinstance(server_transaction(invite), InviteServerTransaction)
    assert isinstance(server_transaction(req(BYE)), NonInviteServerTransaction)
    with pytest.raises(ValueError):
        server_transaction(ack)
    tx = NonInviteClientTransaction(req(BYE))
    tx.start(0.0)
    assert tx.on_transport_error() == [Timeout("transport"), Terminated("transport error")]


def test_uas_dialog_and_in_dialog_requests() -> None:
    """§12.1.1 dialog state; BYE/REFER with route set, tags and the next CSeq."""
    invite = req()
    dialog = Dialog.as_uas(invite, "me", "sip:bot@192.0.2.9:5060", LOCAL_VIA)
    assert dialog.id == ("call-1@example.de", "me", "from1")
    assert dialog.route_set == ["<sip:p2.example.de;lr>", "<sip:p1.example.de;lr>"]
    assert dialog.remote_target == "sip:anna@192.0.2.1:5062" and dialog.remote_seq == 10
    dialog.local_seq = 100
    refer = dialog.create_refer(
        "sip:queue-buergerbuero@pbx.example.de", referred_by="sip:bot@192.0.2.9",
        extra_headers=[("X-Handoff-Id", "H-4711")], branch="z9hG4bKrefer",
    )  # fmt: skip
    assert refer.to_bytes() == (
        b"REFER sip:anna@192.0.2.1:5062 SIP/2.0\r\n"
        b"Via: SIP/2.0/UDP 192.0.2.9:5060;rport;branch=z9hG4bKrefer\r\n"
        b"Max-Forwards: 70\r\n"
        b"From: <sip:bot@example.de>;tag=me\r\n"
        b"To: <sip:anna@example.de>;tag=from1\r\n"
        b"Call-ID: call-1@example.de\r\n"
        b"CSeq: 101 REFER\r\n"
        b"Route: <sip:p2.example.de;lr>\r\n"
        b"Route: <sip:p1.example.de;lr>\r\n"
        b"Contact: <sip:bot@192.0.2.9:5060>\r\n"
        b"Refer-To: <sip:queue-buergerbuero@pbx.example.de>\r\n"
        b"Referred-By: <sip:bot@192.0.2.9>\r\n"
        b"X-Handoff-Id: H-4711\r\n"
        b"Content-Length: 0\r\n\r\n"
    )
    bye = dialog.create_bye()
    assert str(bye.cseq) == "102 BYE" and "Contact" not in bye.headers
    assert bye.top_via.branch and bye.top_via.branch.startswith("z9hG4bK")
    assert dialog.state == "terminated"


def test_dialog_receives_requests() -> None:
    """Matching by Call-ID and tags; old CSeq is a 500; a re-INVITE refreshes the target."""
    dialog = Dialog.as_uas(req(), "me", "sip:bot@192.0.2.9", LOCAL_VIA)
    reinvite = req(
        a=(b"To: <sip:bot@example.de>", b"To: <sip:bot@example.de>;tag=me"),
        b=(b"10 INVITE", b"11 INVITE"),
        c=(b"192.0.2.1:5062>", b"192.0.2.77>"),
    )
    assert dialog.matches(reinvite) and not dialog.matches(req())
    assert dialog.receive_request(reinvite) is None
    assert dialog.remote_target == "sip:anna@192.0.2.77" and dialog.remote_seq == 11
    stale = req(BYE, a=(b"11 BYE", b"9 BYE"))
    assert (rejection := dialog.receive_request(stale)) is not None and rejection.status == 500
    assert dialog.receive_request(req(BYE, a=(b"11 BYE", b"12 BYE"))) is None
    assert dialog.state == "terminated"


def test_uac_dialog_and_ack() -> None:
    """§12.1.2: the route set is reversed; the ACK for a 2xx carries the INVITE's CSeq."""
    invite = req(a=(b"Record-Route: <sip:p2.example.de;lr>, <sip:p1.example.de;lr>\r\n", b""))
    ok = parse_datagram(
        response_for(invite, 200, to_tag="them", extra_headers=[
            ("Record-Route", "<sip:p2.example.de;lr>, <sip:p1.example.de;lr>"),
            ("Contact", "<sip:bot@192.0.2.50>"),
        ]).to_bytes()
    )  # fmt: skip
    assert isinstance(ok, SipResponse)
    dialog = Dialog.as_uac(invite, ok, "sip:anna@192.0.2.1:5062")
    assert dialog.route_set == ["<sip:p1.example.de;lr>", "<sip:p2.example.de;lr>"]
    ack = dialog.create_ack(10, branch="z9hG4bKack")
    assert (ack.uri, str(ack.cseq), ack.to_addr.tag) == ("sip:bot@192.0.2.50", "10 ACK", "them")


def test_2xx_retransmitter_until_ack() -> None:
    """The UAS resends its 200 at T1, 2*T1, ... capped at T2, and stops on the ACK."""
    invite = req()
    ok = response_for(invite, 200, to_tag="me")
    rtx = Invite2xxRetransmitter(ok, 0.0)
    assert rtx.next_deadline() == 0.5
    assert transmit_times(run(rtx, 12.0)) == [0.5, 1.5, 3.5, 7.5, 11.5]
    assert not rtx.receive_ack(req(BYE))
    ack = ack_for(invite, ok)
    assert rtx.receive_ack(ack) and rtx.next_deadline() is None and run(rtx, 100.0) == []


def test_2xx_retransmitter_gives_up_and_asks_for_bye() -> None:
    """No ACK within 64*T1: report it and hand back a BYE for the dialog (§13.3.1.4)."""
    invite = req()
    dialog = Dialog.as_uas(invite, "me", "sip:bot@192.0.2.9", LOCAL_VIA)
    ok = response_for(invite, 200, to_tag="me")
    rtx = Invite2xxRetransmitter(ok, 0.0, dialog=dialog)
    events = run(rtx, 100.0)
    assert transmit_times(events) == [0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5]
    tail = [a for _, a in events if not isinstance(a, Transmit)]
    assert tail[0] == Timeout("2xx") and tail[2] == Terminated("no ACK for the 2xx")
    assert isinstance(tail[1], SendRequest) and tail[1].request.method == "BYE"
    assert tail[1].request.uri == "sip:anna@192.0.2.1:5062" and dialog.state == "terminated"
    assert events[-1][0] == 32.0 and rtx.next_deadline() is None
