"""SIP UAS over UDP, TCP and TLS: the asyncio side of the sans-I/O core in `voicebot.protocol.sip`.

`SipServer` puts the parts together and routes each message: responses to their client
transaction; a request first to its server transaction (retransmissions are absorbed there),
then past the per-source transaction bound and `check_request`, then by method to the call lifecycle
(INVITE, CANCEL, ACK, in-dialog requests) or answered here (OPTIONS, 481).

The source allowlist comes first of all, in the endpoint: a refused source costs one stateless
403 (or silence) and never a transaction.

The parts: `endpoint` (sockets, framing), `transactions` (state machines on the loop clock),
`access` (allowlist, digest, call limit), `calls` (INVITE to BYE), `sink` (the pipeline's way
back: audio, REFER), `register` (optional registration).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiohttp import web

from voicebot.config import SipSettings
from voicebot.errors import ProtocolError, VoicebotError
from voicebot.lifecycle import CallLifecycle
from voicebot.protocol.sip.dialog import check_request
from voicebot.protocol.sip.message import (
    SipMessage,
    SipRequest,
    SipResponse,
    response_for,
    with_received,
)
from voicebot.protocol.sip.transaction import InviteServerTransaction
from voicebot.protocol.sip.uas import UAS_POLICY
from voicebot.transports.sip.access import AccessControl
from voicebot.transports.sip.calls import SipCalls
from voicebot.transports.sip.endpoint import (
    Address,
    Peer,
    SipEndpoint,
    TcpConnection,
    TcpLimits,
    reply_address,
)
from voicebot.transports.sip.register import Registration
from voicebot.transports.sip.tls import server_context, tls_factory
from voicebot.transports.sip.transactions import TransactionTable

log = logging.getLogger(__name__)


class SipServer:
    """The SIP listeners and UA core of one gateway."""

    def __init__(self, settings: SipSettings, lifecycle: CallLifecycle) -> None:
        self.settings = settings
        self.metrics = lifecycle.metrics
        self.address = settings.advertised_address or settings.host
        self.access = AccessControl(settings, lifecycle)
        limits = TcpLimits(settings.tcp_max_connections, settings.tcp_idle_timeout_s)
        self.endpoint = SipEndpoint(self.message, self.metrics, self, limits)
        self.transactions = TransactionTable()
        self.calls = SipCalls(settings, lifecycle, self.endpoint, self.transactions, self.access)
        self.registration: Registration | None = None

    async def start(self) -> None:
        """Binds the configured transports; a port in use is a clear error."""
        s = self.settings
        kinds = {t.strip().lower() for t in s.transports.split(",") if t.strip()}
        try:
            await self.endpoint.listen(s.host, s.port, kinds)
        except OSError as exc:
            await self.stop()
            raise VoicebotError(
                f"cannot listen for SIP on {s.host}:{s.port}: {exc}. Set VOICEBOT_SIP_PORT to "
                "a free port, or VOICEBOT_SIP_ENABLED=false to run without SIP."
            ) from exc
        if "tls" in kinds:
            await self._listen_tls()
        log.info("SIP listening on %s:%d (%s)", s.host, s.port, ", ".join(sorted(kinds)))
        if s.register_uri:
            self.registration = Registration(s, self.address, self.request_out)
            self.registration.start()

    async def _listen_tls(self) -> None:
        """SIP over TLS on `tls_port` (README "SIP and RTP"); bad files or a taken port: error."""
        s = self.settings
        try:
            context = server_context(s.tls_cert_file, s.tls_key_file)
            await self.endpoint.listen_tls(s.host, s.tls_port, tls_factory(self.endpoint, context))
        except (OSError, VoicebotError) as exc:
            await self.stop()
            where = f"{s.host}:{s.tls_port}"
            raise VoicebotError(f"cannot listen for SIP over TLS on {where}: {exc}") from exc
        log.info("SIP over TLS listening on %s:%d (SRTP %s)", s.host, s.tls_port, s.srtp)

    async def stop(self) -> None:
        """Ends every call (BYE), stops registering, closes the listeners."""
        if self.registration is not None:
            await self.registration.stop()
        await self.calls.close()
        self.transactions.close()
        self.endpoint.close()

    # ---- the endpoint's gate -------------------------------------------------------------------
    def allowed(self, host: str) -> bool:
        """Whether a source lies in `[sip] allow_cidrs`."""
        return self.access.allowed(host)

    def refused(self, data: bytes, peer: Peer) -> None:
        """A datagram from outside the allowlist: one stateless 403 to its source, or nothing."""
        answer = self.access.refuse_datagram(data)
        if answer is not None:
            self.endpoint.send(peer, answer, peer.addr)

    def busy(self, conn: TcpConnection) -> bool:
        """Whether a call still signals over this TCP connection (then it is never idle)."""
        return self.calls.uses(conn)

    def message(self, msg: SipMessage, peer: Peer) -> None:
        """Routes one parsed message; nothing raised here reaches the socket."""
        try:
            if isinstance(msg, SipResponse):
                self.transactions.response(msg)
            else:
                self._request(with_received(msg, *peer.addr), peer)
        except ProtocolError as exc:
            self.metrics["sip_protocol_errors"] += 1
            log.info("SIP message from %s:%d refused: %s", *peer.addr, exc.reason)
            if isinstance(msg, SipRequest) and msg.method != "ACK":
                with contextlib.suppress(ProtocolError):
                    answer = response_for(msg, exc.status).to_bytes()
                    self.endpoint.send(peer, answer, peer.addr)

    def _request(self, req: SipRequest, peer: Peer) -> None:
        if self.transactions.absorb(req):  # a retransmission, or the ACK of a non-2xx
            return
        if req.method == "ACK":
            self.calls.ack(req)
            return
        reply_to = reply_address(req, peer)

        def send(data: bytes) -> None:
            self.endpoint.send(peer, data, reply_to)

        if self.transactions.open_for(peer.addr[0]) >= self.settings.max_transactions_per_source:
            self.metrics["sip_transactions_refused"] += 1  # stateless: no state for this one
            retry = (("Retry-After", str(self.settings.retry_after_s)),)
            send(response_for(req, 503, "Too Many Transactions", retry).to_bytes())
            return
        tx, respond = self.transactions.open_server(
            req, reliable=peer.reliable, send=send, on_ack=self.calls.ack, source=peer.addr[0]
        )
        rejection = check_request(req, UAS_POLICY)
        if rejection is not None:
            respond(rejection.response(req))
            return
        if req.method == "CANCEL":
            self.calls.cancel(req, respond)
        elif req.to_addr.tag is not None:
            self.calls.in_dialog(req, respond)
        elif req.method == "INVITE":
            assert isinstance(tx, InviteServerTransaction)
            self.calls.new_call(req, tx, respond, peer)
        elif req.method == "OPTIONS":
            respond(self.access.options_response(req, ringing=len(self.calls.pending)))
        else:
            respond(response_for(req, 481))

    def request_out(self, request: SipRequest, dest: Address) -> asyncio.Future[SipResponse | None]:
        """Sends a request outside any call over UDP (REGISTER); the future gets the answer."""
        peer = Peer("UDP", dest)

        def send(data: bytes) -> None:
            self.endpoint.send(peer, data, dest)

        return self.transactions.request(request, reliable=False, send=send)


def attach_sip(app: web.Application, settings: SipSettings, calls: CallLifecycle) -> None:
    """Starts the SIP server with the application (unless `[sip] enabled = false`)."""
    if not settings.enabled:
        return
    holder: list[SipServer] = []

    async def on_startup(_: web.Application) -> None:
        server = SipServer(settings, calls)
        await server.start()
        holder.append(server)

    async def on_cleanup(_: web.Application) -> None:
        for server in holder:
            await server.stop()

    app.on_startup.append(on_startup)
    app.on_cleanup.insert(0, on_cleanup)
