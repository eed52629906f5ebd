"""What this UAS supports and the answers it builds, sans I/O: 200 OK with the SDP answer,
the OPTIONS capabilities, and where in-dialog requests go.

`UAS_POLICY`: the methods it accepts and 483 for Max-Forwards 0; the 200 OK's Allow and the
OPTIONS answer announce the same set.
"""

from __future__ import annotations

import contextlib
import ipaddress

from voicebot.errors import ProtocolError
from voicebot.protocol.sdp import SessionDescription
from voicebot.protocol.sip.dialog import Dialog, UasPolicy
from voicebot.protocol.sip.headers import parse_uri
from voicebot.protocol.sip.message import SipRequest, SipResponse, response_for

USER_AGENT = "voicebot"
UAS_POLICY = UasPolicy(
    methods=frozenset({"INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "NOTIFY", "INFO"}),
    max_forwards_zero_status=483,
)
Address = tuple[str, int]


def capabilities() -> tuple[tuple[str, str], ...]:
    """The headers of a 200 to OPTIONS: Allow, Accept, ... and User-Agent."""
    return (*UAS_POLICY.capability_headers(), ("User-Agent", USER_AGENT))


def invite_ok(
    invite: SipRequest, answer: SessionDescription, contact: str, to_tag: str
) -> SipResponse:
    """The 200 OK to an INVITE or re-INVITE: our Contact, Allow, User-Agent and the SDP answer."""
    headers = (
        ("Contact", f"<{contact}>"),
        *UAS_POLICY.capability_headers()[:1],
        ("User-Agent", USER_AGENT),
    )
    return response_for(
        invite, 200, extra_headers=headers, to_tag=to_tag,
        body=answer.to_bytes(), content_type="application/sdp",
    )  # fmt: skip


def in_dialog_destination(dialog: Dialog, source: Address) -> Address:
    """Where in-dialog requests go: the first route or the remote target when it is an IP
    address (port 5060 if none), else `source`, the address the INVITE came from."""
    target = dialog.route_set[0] if dialog.route_set else dialog.remote_target
    with contextlib.suppress(ProtocolError, ValueError):
        uri = parse_uri(target.strip("<>").split(">")[0])
        ipaddress.ip_address(uri.host.strip("[]"))
        return uri.host.strip("[]"), uri.port or 5060
    return source
