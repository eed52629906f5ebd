"""One SIP call's state, and the messages built from it: SDP answer, 200 OK, request target.

Also what this UAS supports (`UAS_POLICY`: methods, Max-Forwards 0 answered with 483), which
the 200 OK's Allow and the OPTIONS answer announce.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import secrets
from dataclasses import dataclass, field

from voicebot.errors import ProtocolError
from voicebot.lifecycle import LiveCall
from voicebot.protocol.sdp import Negotiated, SessionDescription, answer_offer
from voicebot.protocol.sip.dialog import Dialog, UasPolicy
from voicebot.protocol.sip.headers import parse_uri
from voicebot.protocol.sip.message import SipRequest, SipResponse, response_for
from voicebot.protocol.sip.transaction import InviteServerTransaction
from voicebot.transports.sip.endpoint import Address, Peer
from voicebot.transports.sip.rtp import RtpEndpoint
from voicebot.transports.sip.transactions import MachineDriver, Responder

USER_AGENT = "voicebot"
UAS_POLICY = UasPolicy(
    methods=frozenset({"INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "NOTIFY", "INFO"}),
    max_forwards_zero_status=483,
)


def capabilities() -> tuple[tuple[str, str], ...]:
    """The headers of a 200 to OPTIONS: Allow, Accept, ... and User-Agent."""
    return (*UAS_POLICY.capability_headers(), ("User-Agent", USER_AGENT))


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
        headers = (
            ("Contact", f"<{contact}>"),
            *UAS_POLICY.capability_headers()[:1],
            ("User-Agent", USER_AGENT),
        )
        return response_for(
            req, 200, extra_headers=headers, to_tag=self.local_tag,
            body=answer.to_bytes(), content_type="application/sdp",
        )  # fmt: skip

    def destination(self) -> Address:
        """Where in-dialog requests go: the remote target if it is an IP, else the source."""
        assert self.dialog is not None
        target = self.dialog.route_set[0] if self.dialog.route_set else self.dialog.remote_target
        with contextlib.suppress(ProtocolError, ValueError):
            uri = parse_uri(target.strip("<>").split(">")[0])
            ipaddress.ip_address(uri.host.strip("[]"))
            return uri.host.strip("[]"), uri.port or 5060
        return self.peer.addr
