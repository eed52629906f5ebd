"""Who may call the SIP server: the source allowlist, digest credentials, the call limit.

The allowlist is checked on arrival, before any parsing into state or any transaction: a
source outside it gets one stateless 403 per request (never retransmitted, sent to the packet's
source, not to its Via), or nothing with `[sip] refuse_silently`; over TCP its connection is
closed at once. An INVITE without valid credentials (when `[sip] auth_user`/`auth_password` are set)
gets 401 with a challenge per `auth_algorithms` (SHA-256, then MD5); an INVITE that finds
every call slot taken, by answered or still ringing calls, gets 503 with Retry-After. OPTIONS
(a SIP load balancer's probe, e.g. Kamailio's dispatcher) gets the same answer as an INVITE
would: 503 with Retry-After while the gateway starts, drains or is full, else 200.
"""

from __future__ import annotations

import ipaddress
import logging
from typing import TYPE_CHECKING

from voicebot.errors import ConfigError, ProtocolError
from voicebot.protocol.sip.auth import DigestVerifier
from voicebot.protocol.sip.message import (
    SipRequest,
    SipResponse,
    parse_datagram,
    response_for,
)
from voicebot.protocol.sip.uas import capabilities

if TYPE_CHECKING:
    from voicebot.config import SipSettings
    from voicebot.lifecycle import CallLifecycle
    from voicebot.transports.sip.endpoint import Peer

log = logging.getLogger(__name__)


class AccessControl:
    """The SIP server's gatekeeper; each check returns the refusal to send, or None."""

    def __init__(self, settings: SipSettings, calls: CallLifecycle) -> None:
        self.settings = settings
        self.calls = calls
        self.metrics = calls.metrics
        self.allow = [ipaddress.ip_network(c.strip()) for c in settings.allow_cidrs.split(",") if c]
        self.auth: DigestVerifier | None = None
        if settings.auth_user and settings.auth_password:
            algorithms = tuple(a.strip().upper() for a in settings.auth_algorithms.split(","))
            try:
                self.auth = DigestVerifier(
                    settings.auth_realm, settings.auth_user, settings.auth_password, algorithms
                )
            except ValueError as exc:
                raise ConfigError(
                    f"[sip] auth_algorithms = {settings.auth_algorithms!r}: {exc} "
                    "(VOICEBOT_SIP_AUTH_ALGORITHMS)"
                ) from exc

    def allowed(self, host: str) -> bool:
        """Whether a source address lies in the allowlist."""
        try:
            ip = ipaddress.ip_address(host)
        except ValueError:
            return False
        return any(ip in net for net in self.allow if net.version == ip.version)

    def refuse_datagram(self, data: bytes) -> bytes | None:
        """The one stateless 403 for a datagram from outside the allowlist (a request other than
        ACK, unless `refuse_silently`); None: send nothing."""
        self.metrics["sip_forbidden"] += 1
        if self.settings.refuse_silently:
            return None
        try:
            msg = parse_datagram(data)
            if not isinstance(msg, SipRequest) or msg.method == "ACK":
                return None
            return response_for(msg, 403, "Source Not Allowed").to_bytes()
        except ProtocolError:  # malformed: no answer at all
            return None

    def credentials_refusal(self, invite: SipRequest) -> SipResponse | None:
        """401 with fresh challenges when digest auth is required and not (validly) given."""
        if self.auth is None or self.auth.verify(invite.header("Authorization"), "INVITE"):
            return None
        self.metrics["sip_unauthorized"] += 1
        challenge = tuple(("WWW-Authenticate", c) for c in self.auth.challenges())
        return response_for(invite, 401, extra_headers=challenge)

    def admission_refusal(self, invite: SipRequest, peer: Peer, ringing: int) -> SipResponse | None:
        """503 with Retry-After when the gateway takes no call now (models loading) or every
        slot is held: live calls count in the lifecycle, `ringing` ones (no 200 yet) here."""
        refusal = self.calls.refusal(ringing)
        if refusal is None:
            return None
        log.warning("refusing SIP call from %s:%d: %s", *peer.addr, refusal)
        retry = (("Retry-After", str(self.settings.retry_after_s)),)
        return response_for(invite, 503, refusal[:60], retry)

    def options_response(self, req: SipRequest, ringing: int) -> SipResponse:
        """200 with our capabilities when a call could be taken now, else 503 with Retry-After
        (not counted as a refused call: a probe is no call)."""
        state = self.calls.availability(ringing)
        if state is None:
            return response_for(req, 200, extra_headers=capabilities())
        self.metrics[f"sip_options_unavailable_{state[0]}"] += 1
        retry = (("Retry-After", str(self.settings.retry_after_s)),)
        return response_for(req, 503, state[1][:60], retry)
