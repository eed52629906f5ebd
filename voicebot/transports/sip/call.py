"""One SIP call's state: its INVITE transaction, dialog, media, retransmission and live call.

The messages built from it (200 OK, SDP answer, where in-dialog requests go) are sans-I/O code
in `voicebot.protocol.sip.uas` and `voicebot.protocol.sdp`.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass, field

from voicebot.lifecycle import LiveCall
from voicebot.protocol.sdp import Negotiated, SessionDescription, answer_offer
from voicebot.protocol.sip.dialog import Dialog
from voicebot.protocol.sip.message import SipRequest, SipResponse
from voicebot.protocol.sip.transaction import InviteServerTransaction
from voicebot.protocol.sip.uas import in_dialog_destination, invite_ok
from voicebot.transports.sip.endpoint import Address, Peer
from voicebot.transports.sip.rtp import RtpEndpoint
from voicebot.transports.sip.transactions import MachineDriver, Responder


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

    def sdp_answer(
        self, offer: SessionDescription, address: str, preference: tuple[str, ...]
    ) -> tuple[SessionDescription, Negotiated]:
        """Our answer to an offer on this call's RTP port (remembered for a bodiless
        re-INVITE); ProtocolError (488) when nothing offered is acceptable."""
        assert self.rtp is not None
        answer, negotiated = answer_offer(
            offer,
            local_address=address,
            local_port=self.rtp.port,
            session_id=self.sdp_id,
            session_version=self.sdp_version,
            preference=preference,
        )
        self.answer = answer
        return answer, negotiated

    def ok(self, req: SipRequest, answer: SessionDescription, contact: str) -> SipResponse:
        """The 200 OK to an INVITE or re-INVITE of this call, with the SDP answer."""
        return invite_ok(req, answer, contact, self.local_tag)

    def destination(self) -> Address:
        """Where in-dialog requests go: the remote target if it is an IP, else the source."""
        assert self.dialog is not None
        return in_dialog_destination(self.dialog, self.peer.addr)
