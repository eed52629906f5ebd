"""One SIP call's state: its INVITE transaction, dialog, media, retransmission and live call.

The messages built from it (200 OK, SDP answer, where in-dialog requests go) are sans-I/O code
in `voicebot.protocol.sip.uas` and `voicebot.protocol.sdp`.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

from voicebot.lifecycle import LiveCall
from voicebot.protocol.sdes import SAVP, SrtpKeys, secure_answer
from voicebot.protocol.sdp import (
    RTP_PROTOS,
    Negotiated,
    SessionDescription,
    answer_offer,
    parse_sdp,
)
from voicebot.protocol.sip.dialog import Dialog, Invite2xxRetransmitter
from voicebot.protocol.sip.message import SipRequest, SipResponse
from voicebot.protocol.sip.transaction import Action, InviteServerTransaction, Timeout
from voicebot.protocol.sip.uas import in_dialog_destination, invite_ok
from voicebot.transports.sip.endpoint import Address, Peer
from voicebot.transports.sip.rtp import RtpEndpoint
from voicebot.transports.sip.srtp import SrtpStreams
from voicebot.transports.sip.transactions import MachineDriver, Responder, SendBytes, loop_time

log = logging.getLogger(__name__)


@dataclass(eq=False)
class SipCall:
    """One call: its INVITE transaction, dialog, media and (once answered) its live call."""

    invite: SipRequest
    tx: InviteServerTransaction
    respond: Responder  # answers the INVITE in its transaction
    peer: Peer
    local_tag: str
    rtp: RtpEndpoint | None = None
    dialog: Dialog | None = None
    live: LiveCall | None = None
    retransmit: MachineDriver | None = None
    answer: SessionDescription | None = None
    sdp_id: int = field(default_factory=lambda: secrets.randbelow(2**31))
    sdp_version: int = 1
    cancelled: bool = False
    ended: bool = False
    end_reason: str | None = None
    refer_progress: asyncio.Queue[int] = field(default_factory=asyncio.Queue)
    srtp_mode: str = "off"  # [sip] srtp: off | optional | required (voicebot.protocol.sdes)
    srtp_keys: SrtpKeys | None = None

    def sdp_answer(
        self, offer: SessionDescription, address: str, preference: tuple[str, ...]
    ) -> tuple[SessionDescription, Negotiated]:
        """Our answer to an offer on this call's RTP port (remembered for a bodiless
        re-INVITE); ProtocolError (488) when nothing offered is acceptable."""
        assert self.rtp is not None
        tls = self.peer.transport == "TLS"
        srtp_ok = tls and self.srtp_mode != "off"
        answer, negotiated = answer_offer(
            offer,
            local_address=address,
            local_port=self.rtp.port,
            session_id=self.sdp_id,
            session_version=self.sdp_version,
            preference=preference,
            protos=(*RTP_PROTOS, *SAVP) if srtp_ok else RTP_PROTOS,
        )
        answer, keys = secure_answer(
            offer, answer, mode=self.srtp_mode, secure_signalling=tls, previous=self.srtp_keys
        )
        if keys != self.srtp_keys:  # SRTP from now on (or plain RTP again), with these keys
            if keys is not None and self.srtp_keys is None:
                self.rtp.metrics["sip_srtp_calls"] += 1
            self.rtp.srtp = SrtpStreams(keys) if keys is not None else None
            self.srtp_keys = keys
        self.answer = answer
        return answer, negotiated

    def reanswer(
        self, reinvite: SipRequest, address: str, preference: tuple[str, ...]
    ) -> SessionDescription:
        """The answer to a re-INVITE: to its new offer (hold, resume, codec change), which the
        media then follows, or our last answer when it has none. ProtocolError: unacceptable."""
        assert self.rtp is not None and self.answer is not None
        if not reinvite.body:
            return self.answer
        self.sdp_version += 1
        answer, negotiated = self.sdp_answer(parse_sdp(reinvite.body), address, preference)
        self.rtp.negotiate(negotiated)
        log.info("call %s: re-INVITE, media %s", reinvite.call_id, negotiated.direction)
        return answer

    def retransmit_ok(self, ok: SipResponse, send: SendBytes, no_ack: Callable[[], None]) -> None:
        """Retransmits a 2xx until its ACK arrives (§13.3.1.4); `no_ack` when none came."""
        if self.retransmit is not None:
            self.retransmit.cancel()
        machine = Invite2xxRetransmitter(ok, loop_time(), dialog=self.dialog)

        def on_event(action: Action) -> None:
            if isinstance(action, Timeout):
                no_ack()  # other events (the BYE it asks for): the caller of no_ack sends it

        self.retransmit = MachineDriver(machine, send, on_event, lambda: None)
        self.retransmit.run([])

    def acknowledged(self, ack: SipRequest) -> None:
        """The ACK of our 2xx stops its retransmission."""
        if self.retransmit is None:
            return
        machine = self.retransmit.machine
        if isinstance(machine, Invite2xxRetransmitter) and machine.receive_ack(ack):
            self.retransmit.cancel()

    def ok(self, req: SipRequest, answer: SessionDescription, contact: str) -> SipResponse:
        """The 200 OK to an INVITE or re-INVITE of this call, with the SDP answer."""
        return invite_ok(req, answer, contact, self.local_tag)

    def destination(self) -> Address:
        """Where in-dialog requests go: the remote target if it is an IP, else the source."""
        assert self.dialog is not None
        return in_dialog_destination(self.dialog, self.peer.addr)
