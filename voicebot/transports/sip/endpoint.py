"""The SIP sockets: one UDP endpoint and one TCP listener; parsed messages in, bytes out.

Datagrams and TCP streams become `SipMessage`s for the `on_message` callback. A malformed one is
counted and answered with 400 when it can be; a TCP framing error also closes that connection,
and only that one. Replies go back the way the request came: UDP to an address, TCP on the
request's connection.

Every datagram and connection passes the `Gate` first (the source allowlist), before it is
parsed: a refused datagram goes to `Gate.refused` (at most one stateless answer), a refused TCP
connection is closed at once. TCP is bounded: at most `max_connections` at a time (more are
closed on accept), and a connection with no traffic for `idle_timeout_s` is closed unless a call
still uses it (`Gate.busy`). SIP over TLS (`tls.TlsConnection`) is a TCP connection with the
same gate and bounds, and the handshake after them.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from voicebot.errors import ProtocolError
from voicebot.protocol.sip.message import (
    SipMessage,
    SipParseError,
    SipRequest,
    SipStreamFramer,
    error_response,
    is_keepalive,
    parse_datagram,
)

log = logging.getLogger(__name__)

Address = tuple[str, int]


@dataclass(eq=False)
class Peer:
    """Where a message came from: answer over the same transport (TCP: the same connection)."""

    transport: str  # "UDP", "TCP" or "TLS"
    addr: Address
    conn: TcpConnection | None = None

    @property
    def reliable(self) -> bool:
        return self.transport != "UDP"


class Gate(Protocol):
    """What the endpoint asks before doing any work for a source."""

    def allowed(self, host: str) -> bool: ...
    def refused(self, data: bytes, peer: Peer) -> None: ...
    def busy(self, conn: TcpConnection) -> bool: ...


@dataclass(frozen=True)
class TcpLimits:
    """Bounds on SIP over TCP."""

    max_connections: int = 64
    idle_timeout_s: float = 300.0


def reply_address(request: SipRequest, peer: Peer) -> Address:
    """Where responses to `request` go over UDP: its top Via (received/rport), else the source."""
    try:
        return request.top_via.response_address()
    except ProtocolError:
        return peer.addr


class _UdpProtocol(asyncio.DatagramProtocol):
    def __init__(self, endpoint: SipEndpoint) -> None:
        self.endpoint = endpoint

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.endpoint.datagram(data, (addr[0], addr[1]))

    def error_received(self, exc: Exception) -> None:
        log.debug("SIP UDP socket error: %s", exc)


def _idle_check(conn: TcpConnection) -> None:
    conn.idle_check()


class TcpConnection(asyncio.Protocol):
    """One TCP connection with its own framer; a framing error closes it."""

    kind = "TCP"  # the Via transport ("TLS" in tls.TlsConnection)

    def __init__(self, endpoint: SipEndpoint) -> None:
        self.endpoint = endpoint
        self.framer = SipStreamFramer()
        self.transport: asyncio.Transport | None = None
        self.peer: Peer | None = None
        self.last_traffic = 0.0
        self._timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        host, port = transport.get_extra_info("peername")[:2]
        self.peer = Peer(self.kind, (host, port), self)
        if self.endpoint.admit(self):
            self.last_traffic = asyncio.get_running_loop().time()
            self._arm(self.endpoint.limits.idle_timeout_s)
        else:
            transport.abort()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self.endpoint.connections.discard(self)

    def _arm(self, delay: float) -> None:
        self._timer = asyncio.get_running_loop().call_later(delay, _idle_check, self)

    def idle_check(self) -> None:
        """Closes the connection after `idle_timeout_s` without traffic, unless a call uses it."""
        idle = self.endpoint.limits.idle_timeout_s
        quiet = asyncio.get_running_loop().time() - self.last_traffic
        if quiet >= idle and not self.endpoint.gate.busy(self):
            self.endpoint.metrics["sip_tcp_idle_closed"] += 1
            self.close()
            return
        self._arm(idle - quiet if quiet < idle else idle)  # traffic since, or a call holds it

    def data_received(self, data: bytes) -> None:
        assert self.peer is not None
        self.last_traffic = asyncio.get_running_loop().time()
        try:
            messages = self.framer.feed(data)
        except SipParseError as exc:
            self.endpoint.parse_error(exc, self.peer)
            self.close()
            return
        for msg in messages:
            self.endpoint.on_message(msg, self.peer)
        if self.framer.error is not None:
            self.endpoint.parse_error(self.framer.error, self.peer)
            self.close()

    def write(self, data: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.last_traffic = asyncio.get_running_loop().time()
            self.transport.write(data)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


class SipEndpoint:
    """The listening sockets of one SIP server."""

    def __init__(
        self,
        on_message: Callable[[SipMessage, Peer], None],
        metrics: Counter[str],
        gate: Gate,
        limits: TcpLimits | None = None,
    ) -> None:
        self.on_message = on_message
        self.metrics = metrics
        self.gate = gate
        self.limits = limits or TcpLimits()
        self.connections: set[TcpConnection] = set()
        self._udp: asyncio.DatagramTransport | None = None
        self._tcp: asyncio.Server | None = None
        self._tls: asyncio.Server | None = None

    async def listen(self, host: str, port: int, transports: set[str]) -> None:
        """Binds UDP and/or TCP ("udp", "tcp") on host:port; OSError if a port is taken."""
        loop = asyncio.get_running_loop()
        if "udp" in transports:
            self._udp, _ = await loop.create_datagram_endpoint(
                lambda: _UdpProtocol(self), local_addr=(host, port)
            )
        if "tcp" in transports:
            self._tcp = await loop.create_server(lambda: TcpConnection(self), host, port)

    async def listen_tls(
        self, host: str, port: int, factory: Callable[[], asyncio.Protocol]
    ) -> None:
        """Binds the TLS listener (`tls.tls_factory`: TCP accepted, then the handshake)."""
        loop = asyncio.get_running_loop()
        self._tls = await loop.create_server(factory, host, port)

    def admit(self, conn: TcpConnection) -> bool:
        """Whether a new TCP connection may stay: an allowed source, under the limit."""
        assert conn.peer is not None
        if not self.gate.allowed(conn.peer.addr[0]):
            self.metrics["sip_forbidden"] += 1
            return False
        if len(self.connections) >= self.limits.max_connections:
            self.metrics["sip_tcp_refused"] += 1
            log.warning("SIP over TCP: %d connections, refusing one more", len(self.connections))
            return False
        self.connections.add(conn)
        return True

    def datagram(self, data: bytes, addr: Address) -> None:
        """One UDP datagram: a keep-alive is ignored, a refused source goes to the gate before
        anything is parsed, a message is handed on."""
        if is_keepalive(data):
            return
        peer = Peer("UDP", addr)
        if not self.gate.allowed(addr[0]):
            self.gate.refused(data, peer)
            return
        try:
            msg = parse_datagram(data)
        except SipParseError as exc:
            self.parse_error(exc, peer)
            return
        self.on_message(msg, peer)

    def parse_error(self, exc: SipParseError, peer: Peer) -> None:
        """Answers a malformed request when it can be answered, else drops it."""
        self.metrics["sip_parse_errors"] += 1
        log.info("malformed SIP from %s:%d: %s", *peer.addr, exc.reason)
        answer = error_response(exc)
        if answer is not None:
            self.send(peer, answer.to_bytes(), peer.addr)

    def send(self, peer: Peer, data: bytes, addr: Address) -> None:
        """Sends over the peer's transport: its TCP connection, else UDP to `addr`."""
        if peer.conn is not None:
            peer.conn.write(data)
        elif self._udp is not None:
            self._udp.sendto(data, addr)

    def close(self) -> None:
        """Closes the listeners."""
        if self._udp is not None:
            self._udp.close()
        if self._tcp is not None:
            self._tcp.close()
        if self._tls is not None:
            self._tls.close()
        for conn in list(self.connections):
            conn.close()
