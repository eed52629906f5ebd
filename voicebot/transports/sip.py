"""SIP UAS over UDP and TCP: the asyncio side of the sans-I/O core in `voicebot.protocol.sip`.

Sockets in, `parse_datagram`/`SipStreamFramer` to messages, server transactions keyed by
`server_key` (retransmissions absorbed there), one loop timer per state machine at its
`next_deadline()`. The UA core answers INVITE (SDP answer, a `CallSession` per call),
re-INVITE (hold/resume), ACK, BYE, CANCEL, OPTIONS, NOTIFY (REFER progress) and refuses the
rest per `check_request`; access control (allowlist, digest, admission) comes first.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from aiohttp import web

from voicebot.config import SipSettings
from voicebot.errors import ProtocolError, VoicebotError
from voicebot.pipeline.call import CallInfo, CallSession
from voicebot.protocol.sdp import Negotiated, SessionDescription, answer_offer, parse_sdp
from voicebot.protocol.sip.dialog import Dialog, Invite2xxRetransmitter, UasPolicy, check_request
from voicebot.protocol.sip.headers import Via, parse_uri
from voicebot.protocol.sip.message import (
    SipMessage,
    SipParseError,
    SipRequest,
    SipResponse,
    SipStreamFramer,
    error_response,
    is_keepalive,
    parse_datagram,
    response_for,
    with_received,
)
from voicebot.protocol.sip.transaction import (
    Action,
    Deliver,
    InviteServerTransaction,
    SendRequest,
    Terminated,
    Timeout,
    Transmit,
    cancelled_key,
    client_key,
    client_transaction,
    server_key,
    server_transaction,
)
from voicebot.transports.rtp import SAMPLE_RATE, PortAllocator, RtpCallbacks, RtpEndpoint
from voicebot.transports.sip_auth import DigestVerifier
from voicebot.transports.sip_refer import blind_transfer, sipfrag_status
from voicebot.web.gateway import GATEWAY, Gateway

if TYPE_CHECKING:
    from voicebot.transports.sip_register import Registration

log = logging.getLogger(__name__)

METHODS = frozenset({"INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "NOTIFY", "INFO"})
USER_AGENT = "voicebot"
Address = tuple[str, int]


class _Machine(Protocol):
    def next_deadline(self) -> float | None: ...
    def on_timer(self, now: float) -> list[Action]: ...


class _Driver:
    """Runs one state machine on the loop clock: executes its actions, one timer at a time."""

    def __init__(
        self,
        machine: _Machine,
        send: Callable[[bytes], None],
        on_event: Callable[[Action], None],
        on_end: Callable[[], None],
    ) -> None:
        self.machine, self._send, self._on_event, self._on_end = machine, send, on_event, on_end
        self._loop = asyncio.get_running_loop()
        self._handle: asyncio.TimerHandle | None = None
        self.done = False

    def run(self, actions: list[Action]) -> None:
        """Carries out actions in order, then re-arms the timer."""
        for action in actions:
            if isinstance(action, Transmit):
                self._send(action.data)
            elif isinstance(action, Terminated):
                self.done = True
                self._on_end()
            else:
                self._on_event(action)
        self._arm()

    def _arm(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        deadline = None if self.done else self.machine.next_deadline()
        if deadline is not None:
            self._handle = self._loop.call_at(deadline, self._fire)

    def _fire(self) -> None:
        self._handle = None
        self.run(self.machine.on_timer(self._loop.time()))

    def cancel(self) -> None:
        """Stops the timer for good."""
        self.done = True
        if self._handle is not None:
            self._handle.cancel()


@dataclass(eq=False)
class Peer:
    """Where a message came from: answer over the same transport (TCP: the same connection)."""

    transport: str  # "UDP" or "TCP"
    addr: Address
    conn: _TcpConnection | None = None

    @property
    def reliable(self) -> bool:
        return self.transport == "TCP"


@dataclass(eq=False)
class SipCall:
    """One call: its INVITE transaction, dialog, media and pipeline."""

    invite: SipRequest
    tx: InviteServerTransaction
    peer: Peer
    local_tag: str
    rtp: RtpEndpoint | None = None
    dialog: Dialog | None = None
    session: CallSession | None = None
    retransmit: _Driver | None = None
    answer: SessionDescription | None = None
    sdp_id: int = field(default_factory=lambda: secrets.randbelow(2**31))
    sdp_version: int = 1
    cancelled: bool = False
    ended: bool = False
    refer_progress: asyncio.Queue[int] = field(default_factory=asyncio.Queue)


class _UdpProtocol(asyncio.DatagramProtocol):
    def __init__(self, server: SipServer) -> None:
        self.server = server

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.server.datagram(data, (addr[0], addr[1]))

    def error_received(self, exc: Exception) -> None:
        log.debug("SIP UDP socket error: %s", exc)


class _TcpConnection(asyncio.Protocol):
    """One TCP connection with its own framer; a framing error closes it."""

    def __init__(self, server: SipServer) -> None:
        self.server = server
        self.framer = SipStreamFramer()
        self.transport: asyncio.Transport | None = None
        self.peer: Peer | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        host, port = transport.get_extra_info("peername")[:2]
        self.peer = Peer("TCP", (host, port), self)

    def data_received(self, data: bytes) -> None:
        assert self.peer is not None
        try:
            messages = self.framer.feed(data)
        except SipParseError as exc:
            self.server.parse_error(exc, self.peer)
            self.close()
            return
        for msg in messages:
            self.server.message(msg, self.peer)
        if self.framer.error is not None:
            self.server.parse_error(self.framer.error, self.peer)
            self.close()

    def write(self, data: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


class SipServer:
    """The SIP listeners and UA core of one gateway."""

    def __init__(self, settings: SipSettings, gateway: Gateway) -> None:
        self.settings = settings
        self.gateway = gateway
        self.metrics = gateway.metrics
        self.address = settings.advertised_address or settings.host
        self.policy = UasPolicy(methods=METHODS, max_forwards_zero_status=483)
        self.allow = [ipaddress.ip_network(c.strip()) for c in settings.allow_cidrs.split(",") if c]
        self.preference = tuple(c.strip().upper() for c in settings.codec_preference.split(","))
        self.rtp_ports = PortAllocator(settings.host, settings.rtp_port_min, settings.rtp_port_max)
        self.auth: DigestVerifier | None = None
        if settings.auth_user and settings.auth_password:
            self.auth = DigestVerifier(
                settings.auth_realm, settings.auth_user, settings.auth_password
            )
        self.calls: dict[tuple[str, str, str], SipCall] = {}
        self._server_tx: dict[tuple[str, ...], tuple[Any, _Driver]] = {}
        self._client_tx: dict[tuple[str, ...], tuple[Any, _Driver]] = {}
        self._pending: dict[tuple[str, ...], SipCall] = {}  # INVITE key -> call not yet answered
        self._tasks: set[asyncio.Task[Any]] = set()
        self._udp: asyncio.DatagramTransport | None = None
        self._tcp: asyncio.Server | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.registration: Registration | None = None

    # ---- lifecycle -------------------------------------------------------------------------
    async def start(self) -> None:
        """Binds the configured transports; a port in use is a clear error."""
        self._loop = asyncio.get_running_loop()
        s = self.settings
        kinds = {t.strip().lower() for t in s.transports.split(",") if t.strip()}
        try:
            if "udp" in kinds:
                self._udp, _ = await self._loop.create_datagram_endpoint(
                    lambda: _UdpProtocol(self), local_addr=(s.host, s.port)
                )
            if "tcp" in kinds:
                self._tcp = await self._loop.create_server(
                    lambda: _TcpConnection(self), s.host, s.port
                )
        except OSError as exc:
            await self.stop()
            raise VoicebotError(
                f"cannot listen for SIP on {s.host}:{s.port}: {exc}. Set VOICEBOT_SIP_PORT to "
                "a free port, or VOICEBOT_SIP_ENABLED=false to run without SIP."
            ) from exc
        log.info("SIP listening on %s:%d (%s)", s.host, s.port, ", ".join(sorted(kinds)))
        if s.register_uri:
            from voicebot.transports.sip_register import Registration

            self.registration = Registration(self, s)
            self.registration.start()

    async def stop(self) -> None:
        """Ends every call (BYE), stops registering, closes the listeners."""
        if self.registration is not None:
            await self.registration.stop()
        for call in list(self.calls.values()) + list(self._pending.values()):
            await self.end_call(call, "gateway_shutdown", send_bye=True)
        for _tx, driver in [*self._server_tx.values(), *self._client_tx.values()]:
            driver.cancel()
        for task in list(self._tasks):
            task.cancel()
        if self._udp is not None:
            self._udp.close()
        if self._tcp is not None:
            self._tcp.close()

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("SIP task failed", exc_info=task.exception())

    # ---- input -----------------------------------------------------------------------------
    def datagram(self, data: bytes, addr: Address) -> None:
        """One UDP datagram."""
        if is_keepalive(data):
            return
        peer = Peer("UDP", addr)
        try:
            msg = parse_datagram(data)
        except SipParseError as exc:
            self.parse_error(exc, peer)
            return
        self.message(msg, peer)

    def parse_error(self, exc: SipParseError, peer: Peer) -> None:
        """Answers a malformed request when it can be answered, else drops it."""
        self.metrics["sip_parse_errors"] += 1
        log.info("malformed SIP from %s:%d: %s", *peer.addr, exc.reason)
        answer = error_response(exc)
        if answer is not None:
            self._send(peer, answer.to_bytes(), peer.addr)

    def message(self, msg: SipMessage, peer: Peer) -> None:
        """Routes one parsed message; nothing raised here reaches the socket."""
        try:
            if isinstance(msg, SipResponse):
                self._response(msg)
            else:
                self._request(with_received(msg, *peer.addr), peer)
        except ProtocolError as exc:
            self.metrics["sip_protocol_errors"] += 1
            log.info("SIP message from %s:%d refused: %s", *peer.addr, exc.reason)
            if isinstance(msg, SipRequest) and msg.method != "ACK":
                with contextlib.suppress(ProtocolError):
                    self._send(peer, response_for(msg, exc.status).to_bytes(), peer.addr)

    def _send(self, peer: Peer, data: bytes, addr: Address) -> None:
        if peer.conn is not None:
            peer.conn.write(data)
        elif self._udp is not None:
            self._udp.sendto(data, addr)

    def _reply_address(self, request: SipRequest, peer: Peer) -> Address:
        try:
            return request.top_via.response_address()
        except ProtocolError:
            return peer.addr

    def _allowed(self, host: str) -> bool:
        try:
            ip = ipaddress.ip_address(host)
        except ValueError:
            return False
        return any(ip in net for net in self.allow if net.version == ip.version)

    # ---- requests --------------------------------------------------------------------------
    def _request(self, req: SipRequest, peer: Peer) -> None:
        key = server_key(req)
        known = self._server_tx.get(key)
        if known is not None:  # a retransmission, or the ACK of a non-2xx final response
            tx, driver = known
            driver.run(tx.receive(req, self._now()))
            return
        if req.method == "ACK":
            self._ack(req)
            return
        reply_to = self._reply_address(req, peer)
        tx = server_transaction(req, reliable=peer.reliable)

        def on_event(action: Action) -> None:
            message = action.message if isinstance(action, Deliver) else None
            if isinstance(message, SipRequest) and message.method == "ACK":
                self._ack(message)

        driver = _Driver(
            tx,
            lambda data: self._send(peer, data, reply_to),
            on_event,
            lambda: self._forget(key),
        )
        self._server_tx[key] = (tx, driver)
        start = tx.start(self._now())
        driver.run([a for a in start if not isinstance(a, Deliver)])
        respond = self._responder(tx, driver)
        if not self._allowed(peer.addr[0]):
            self.metrics["sip_forbidden"] += 1
            respond(response_for(req, 403, "Source Not Allowed"))
            return
        rejection = check_request(req, self.policy)
        if rejection is not None:
            respond(rejection.response(req))
            return
        if req.method == "CANCEL":
            self._cancel(req, respond)
            return
        if req.to_addr.tag is not None:
            self._in_dialog(req, respond)
            return
        if req.method == "INVITE":
            assert isinstance(tx, InviteServerTransaction)
            self._new_call(req, tx, driver, peer)
        elif req.method == "OPTIONS":
            respond(response_for(req, 200, extra_headers=self._capabilities()))
        else:
            respond(response_for(req, 481))

    def _forget(self, key: tuple[str, ...]) -> None:
        self._server_tx.pop(key, None)

    def _responder(self, tx: Any, driver: _Driver) -> Callable[[SipResponse], None]:
        def respond(response: SipResponse) -> None:
            if not driver.done:
                driver.run(tx.send_response(response, self._now()))

        return respond

    def _now(self) -> float:
        return asyncio.get_running_loop().time()

    def _capabilities(self) -> tuple[tuple[str, str], ...]:
        return (*self.policy.capability_headers(), ("User-Agent", USER_AGENT))

    def _contact(self, peer: Peer) -> str:
        suffix = ";transport=tcp" if peer.reliable else ""
        return f"sip:voicebot@{self.address}:{self.settings.port}{suffix}"

    def _cancel(self, cancel: SipRequest, respond: Callable[[SipResponse], None]) -> None:
        """200 for the CANCEL, then 487 for the INVITE if it is still unanswered (§9.2)."""
        call = self._pending.get(cancelled_key(cancel))
        if call is None:
            respond(response_for(cancel, 481))
            return
        respond(response_for(cancel, 200))
        if not call.cancelled and call.tx.state == "proceeding":
            call.cancelled = True
            self.metrics["sip_cancelled"] += 1
            invite_driver = self._server_tx.get(call.tx.key)
            terminated = response_for(call.invite, 487, to_tag=call.local_tag)
            if invite_driver is not None:
                self._responder(call.tx, invite_driver[1])(terminated)
            self._spawn(self.end_call(call, "cancelled", send_bye=False))

    def _in_dialog(self, req: SipRequest, respond: Callable[[SipResponse], None]) -> None:
        call = self.calls.get((req.call_id, req.to_addr.tag or "", req.from_addr.tag or ""))
        if call is None or call.dialog is None or call.ended:
            respond(response_for(req, 481))
            return
        rejection = call.dialog.receive_request(req)
        if rejection is not None:
            respond(rejection.response(req))
            return
        if req.method == "BYE":
            respond(response_for(req, 200))
            self._spawn(self.end_call(call, "hangup", send_bye=False))
        elif req.method == "INVITE":
            self._reinvite(call, req, respond)
        elif req.method == "NOTIFY":
            respond(response_for(req, 200))
            status = sipfrag_status(req.body)
            if status is not None and "refer" in (req.header("Event") or "").lower():
                call.refer_progress.put_nowait(status)
        elif req.method == "OPTIONS":
            respond(response_for(req, 200, extra_headers=self._capabilities()))
        else:  # INFO
            respond(response_for(req, 200))

    def _ack(self, ack: SipRequest) -> None:
        try:
            call = self.calls.get((ack.call_id, ack.to_addr.tag or "", ack.from_addr.tag or ""))
        except ProtocolError:
            return
        if call is None or call.retransmit is None:
            return
        machine = call.retransmit.machine
        if isinstance(machine, Invite2xxRetransmitter) and machine.receive_ack(ack):
            call.retransmit.cancel()

    # ---- calls -----------------------------------------------------------------------------
    def _new_call(
        self, req: SipRequest, tx: InviteServerTransaction, driver: _Driver, peer: Peer
    ) -> None:
        respond = self._responder(tx, driver)
        if self.auth is not None and not self.auth.verify(req.header("Authorization"), "INVITE"):
            self.metrics["sip_unauthorized"] += 1
            challenge = tuple(("WWW-Authenticate", c) for c in self.auth.challenges())
            respond(response_for(req, 401, extra_headers=challenge))
            return
        refusal = self._admission_refusal()
        if refusal is not None:
            log.warning("refusing SIP call from %s:%d: %s", *peer.addr, refusal)
            self.gateway.metrics["calls_refused"] += 1
            retry = (("Retry-After", str(self.settings.retry_after_s)),)
            respond(response_for(req, 503, refusal[:60], retry))
            return
        try:
            offer = parse_sdp(req.body) if req.body else None
        except ProtocolError as exc:
            respond(response_for(req, exc.status, exc.reason[:80]))
            return
        if offer is None:
            respond(response_for(req, 488, "An SDP offer is required"))
            return
        call = SipCall(req, tx, peer, secrets.token_hex(6))
        self._pending[tx.key] = call
        self._spawn(self._answer(call, offer, respond))

    def _admission_refusal(self) -> str | None:
        """Why no call can be taken: the gateway's reason, or every slot held.

        A ringing INVITE (in `_pending` until its 200 OK, when the gateway counts it) holds a
        slot too, so that N+1 INVITEs arriving together do not all get answered.
        """
        refusal = self.gateway.admission_refusal()
        if refusal is not None:
            return refusal
        limit = self.gateway.settings.max_calls
        if len(self.gateway.calls) + len(self._pending) >= limit:
            return f"maximum of {limit} concurrent calls reached (some still ringing)"
        return None

    async def _answer(
        self, call: SipCall, offer: SessionDescription, respond: Callable[[SipResponse], None]
    ) -> None:
        req = call.invite
        try:
            call.rtp = await self.rtp_ports.open(self.metrics, self.settings.rtp_timeout_s)
            answer, negotiated = self._sdp_answer(call, offer)
        except ProtocolError as exc:
            respond(response_for(req, exc.status, exc.reason[:80], to_tag=call.local_tag))
            await self.end_call(call, "refused", send_bye=False)
            return
        except OSError as exc:
            log.error("SIP call refused: %s", exc)
            respond(response_for(req, 503, "No RTP Port", (("Retry-After", "5"),)))
            await self.end_call(call, "refused", send_bye=False)
            return
        if call.ended:  # cancelled while the port was being opened
            await call.rtp.close()
            return
        call.rtp.negotiate(negotiated)
        contact = (("Contact", f"<{self._contact(call.peer)}>"),)
        if self.settings.ring_ms > 0:
            respond(response_for(req, 180, to_tag=call.local_tag, extra_headers=contact))
            await asyncio.sleep(self.settings.ring_ms / 1000)
        if call.cancelled or call.ended:
            return
        self._pending.pop(call.tx.key, None)
        ok = self._ok(call, req, answer)
        respond(ok)
        via = Via(call.peer.transport, self.address, self.settings.port, (("rport", None),))
        call.dialog = Dialog.as_uas(req, call.local_tag, self._contact(call.peer), via)
        self.calls[call.dialog.id] = call
        self._start_retransmit(call, ok)
        await self._start_session(call)

    def _sdp_answer(
        self, call: SipCall, offer: SessionDescription
    ) -> tuple[SessionDescription, Negotiated]:
        assert call.rtp is not None
        answer, negotiated = answer_offer(
            offer,
            local_address=self.address,
            local_port=call.rtp.port,
            session_id=call.sdp_id,
            session_version=call.sdp_version,
            preference=self.preference,
        )
        call.answer = answer
        return answer, negotiated

    def _ok(self, call: SipCall, req: SipRequest, answer: SessionDescription) -> SipResponse:
        headers = (
            ("Contact", f"<{self._contact(call.peer)}>"),
            *self.policy.capability_headers()[:1],
            ("User-Agent", USER_AGENT),
        )
        return response_for(
            req, 200, extra_headers=headers, to_tag=call.local_tag,
            body=answer.to_bytes(), content_type="application/sdp",
        )  # fmt: skip

    def _start_retransmit(self, call: SipCall, ok: SipResponse) -> None:
        if call.retransmit is not None:
            call.retransmit.cancel()
        reply_to = self._reply_address(call.invite, call.peer)
        machine = Invite2xxRetransmitter(ok, self._now(), dialog=call.dialog)

        def on_event(action: Action) -> None:
            if isinstance(action, Timeout):
                log.warning("call %s: no ACK for the 200 OK", call.invite.call_id)
                self._spawn(self.end_call(call, "no_ack", send_bye=True))
            elif isinstance(action, SendRequest):
                pass  # end_call sends the BYE

        call.retransmit = _Driver(
            machine, lambda data: self._send(call.peer, data, reply_to), on_event, lambda: None
        )
        call.retransmit.run([])

    def _reinvite(
        self, call: SipCall, req: SipRequest, respond: Callable[[SipResponse], None]
    ) -> None:
        assert call.rtp is not None
        try:
            if req.body:
                call.sdp_version += 1
                answer, negotiated = self._sdp_answer(call, parse_sdp(req.body))
                call.rtp.negotiate(negotiated)
                log.info("call %s: re-INVITE, media %s", req.call_id, negotiated.direction)
            else:
                answer = call.answer  # type: ignore[assignment]
        except ProtocolError as exc:
            respond(response_for(req, exc.status, exc.reason[:80]))
            return
        ok = self._ok(call, req, answer)
        respond(ok)
        self._start_retransmit(call, ok)

    async def _start_session(self, call: SipCall) -> None:
        assert call.rtp is not None
        req = call.invite
        try:
            caller = req.from_addr.uri.user
        except ProtocolError:
            caller = None
        info = CallInfo(
            call_id=req.call_id,
            transport="sip",
            language=self.gateway.settings.language,
            caller=caller or None,
            stream_id=f"{call.peer.transport.lower()}:{call.peer.addr[0]}:{call.peer.addr[1]}",
        )
        session = CallSession(info, SipSink(self, call), self.gateway.services)
        call.session = session
        self.gateway.call_started(session)
        await session.start()
        if call.ended:  # BYE or CANCEL while the call record was being written
            return
        call.rtp.start(
            RtpCallbacks(
                audio=session.feed_audio,
                dtmf=session.feed_dtmf,
                silence_timeout=lambda: self._spawn(
                    self.end_call(call, "abandoned", send_bye=True)
                ),
            )
        )
        log.info("SIP call %s answered (caller %s, %s)", info.call_id, caller, info.stream_id)

    async def end_call(self, call: SipCall, reason: str, *, send_bye: bool) -> None:
        """Ends a call once: BYE if asked, pipeline finished with `reason`, media closed."""
        if call.ended:
            return
        call.ended = True
        self._pending.pop(call.tx.key, None)
        if call.retransmit is not None:
            call.retransmit.cancel()
        if send_bye and call.dialog is not None and call.dialog.state != "terminated":
            self._send_request(call, call.dialog.create_bye())
        if call.session is not None:
            await call.session.finish(reason)
            self.gateway.call_ended(call.session)
        if call.rtp is not None:
            await call.rtp.close()
        if call.dialog is not None:
            self.calls.pop(call.dialog.id, None)
        rtp = call.rtp
        log.info(
            "SIP call %s ended: %s (RTP in %d, out %d)",
            call.invite.call_id, reason, rtp.received if rtp else 0, rtp.sent if rtp else 0,
        )  # fmt: skip

    # ---- requests we send ------------------------------------------------------------------
    def _destination(self, call: SipCall) -> Address:
        """Where in-dialog requests go: the remote target if it is an IP, else the source."""
        assert call.dialog is not None
        target = call.dialog.route_set[0] if call.dialog.route_set else call.dialog.remote_target
        with contextlib.suppress(ProtocolError, ValueError):
            uri = parse_uri(target.strip("<>").split(">")[0])
            ipaddress.ip_address(uri.host.strip("[]"))
            return uri.host.strip("[]"), uri.port or 5060
        return call.peer.addr

    def _send_request(
        self, call: SipCall, request: SipRequest
    ) -> asyncio.Future[SipResponse | None]:
        """Sends an in-dialog request in a client transaction; the future gets the final answer."""
        return self._transact(request, call.peer, self._destination(call))

    def request_out(self, request: SipRequest, dest: Address) -> asyncio.Future[SipResponse | None]:
        """Sends a request outside any call over UDP (REGISTER); the future gets the answer."""
        return self._transact(request, Peer("UDP", dest), dest)

    def _transact(
        self, request: SipRequest, peer: Peer, dest: Address
    ) -> asyncio.Future[SipResponse | None]:
        future: asyncio.Future[SipResponse | None] = asyncio.get_running_loop().create_future()
        tx = client_transaction(request, reliable=peer.reliable)
        key = client_key(request)

        def on_event(action: Action) -> None:
            if isinstance(action, Deliver) and isinstance(action.message, SipResponse):
                if action.message.status >= 200 and not future.done():
                    future.set_result(action.message)
            elif isinstance(action, Timeout) and not future.done():
                future.set_result(None)

        def on_end() -> None:
            self._client_tx.pop(key, None)
            if not future.done():
                future.set_result(None)

        driver = _Driver(tx, lambda data: self._send(peer, data, dest), on_event, on_end)
        self._client_tx[key] = (tx, driver)
        driver.run(tx.start(self._now()))
        return future

    def _response(self, response: SipResponse) -> None:
        entry = self._client_tx.get(client_key(response))
        if entry is None:
            return  # a stray or late response: dropped (§17.1.3)
        tx, driver = entry
        driver.run(tx.receive(response, self._now()))

    async def transfer(self, call: SipCall, target: str, handoff_id: str) -> bool:
        """Blind transfer of the caller to `target` (REFER); True once the target answered."""
        if call.dialog is None or call.ended:
            return False

        async def send(request: SipRequest) -> SipResponse | None:
            return await self._send_request(call, request)

        ok, why = await blind_transfer(
            call.dialog,
            send,
            call.refer_progress,
            target=target,
            handoff_id=handoff_id,
            referred_by=f"sip:voicebot@{self.address}:{self.settings.port}",
            timeout_s=self.settings.transfer_timeout_s,
        )
        self.metrics["sip_transfers_ok" if ok else "sip_transfers_failed"] += 1
        log.info("call %s: transfer to %s: %s", call.invite.call_id, target, why)
        return ok

    def bot_closed(self, call: SipCall, reason: str) -> None:
        """The pipeline ended the call (goodbye, handoff done): BYE once the dialogue stopped."""

        async def close() -> None:
            if call.session is not None:
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(call.session.ended.wait(), 5)
            await self.end_call(call, "bot_ended", send_bye=True)

        self._spawn(close())


class SipSink:
    """The pipeline's way back to a SIP caller: RTP frames, talk-spurts, REFER, BYE."""

    sample_rate = SAMPLE_RATE

    def __init__(self, server: SipServer, call: SipCall) -> None:
        self._server = server
        self._call = call

    async def send_audio(self, frame: Any) -> None:
        """One paced 20 ms frame."""
        if self._call.rtp is not None and not self._call.ended:
            self._call.rtp.send_frame(frame)

    async def send_mark(self, name: str) -> None:
        """End of a bot utterance: the next frame starts a talk-spurt."""
        if self._call.rtp is not None:
            self._call.rtp.end_talk_spurt()

    async def clear(self) -> None:
        """Barge-in: nothing is buffered on our side; the next frame starts a talk-spurt."""
        if self._call.rtp is not None:
            self._call.rtp.end_talk_spurt()

    async def transfer(self, target: str, handoff_id: str) -> bool:
        """REFER the caller to `target` with the handoff id; False: the transfer failed."""
        return await self._server.transfer(self._call, target, handoff_id)

    async def close(self, reason: str) -> None:
        """The bot ended the call: BYE."""
        self._server.bot_closed(self._call, reason)


def attach_sip(app: web.Application) -> None:
    """Starts the SIP server with the gateway (unless `[sip] enabled = false`)."""
    gateway = app[GATEWAY]
    if not gateway.settings.sip.enabled:
        return
    holder: list[SipServer] = []

    async def on_startup(_: web.Application) -> None:
        server = SipServer(gateway.settings.sip, gateway)
        await server.start()
        holder.append(server)

    async def on_cleanup(_: web.Application) -> None:
        for server in holder:
            await server.stop()

    app.on_startup.append(on_startup)
    app.on_cleanup.insert(0, on_cleanup)
