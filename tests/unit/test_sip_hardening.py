"""Hostile SIP and RTP over real loopback sockets (issue 12, findings 7, 8 and 12): the
allowlist before any state, the per-source transaction bound, TCP limits, RTP only from the
signalled peer, random RTP ports, the payload bound and SDP host names.

The whole of 127.0.0.0/8 is loopback on Linux, so 127.0.0.2 is "a third address" here."""

from __future__ import annotations

import asyncio
import socket
import struct
from collections import Counter
from typing import Any

import pytest

from tests.unit.test_sip_transport import SDP, lifecycle, request, run_server, status
from voicebot.config import SipSettings
from voicebot.protocol.sdp import Negotiated
from voicebot.transports.sip.rtp import PortAllocator, RtpCallbacks, RtpEndpoint
from voicebot.transports.sip.server import SipServer


async def until(predicate: Any, timeout: float = 3.0) -> None:
    """Waits for a state (never a fixed time); fails when it does not come."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        assert loop.time() < deadline, "the state did not come"
        await asyncio.sleep(0.01)


async def replies_within(send: Any, seconds: float) -> list[bytes]:
    """Every reply that arrives in the next `seconds` (to show that nothing more comes)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    got: list[bytes] = []
    while loop.time() < deadline:
        reply = await send.receive()  # waits up to 1 s
        if reply:
            got.append(reply)
    return got


# ---- finding 7: SIP does no work before the allowlist ----------------------------------------
def test_a_refused_source_gets_one_403_and_no_transaction() -> None:
    """An INVITE from outside the allowlist: exactly one 403, never retransmitted (it used to
    be sent about 11 times: reflection), and no server transaction is ever created."""

    async def check(server: SipServer, send: Any) -> None:
        first = await send(request("INVITE", send.port, body=SDP))
        assert status(first) == 403
        assert await replies_within(send, 1.6) == []  # T1 = 0.5 s: retransmits at 0.5, 1.5 s
        assert server.transactions.open_for("127.0.0.1") == 0
        assert status(await send(request("ACK", send.port))) == 0  # an ACK: no answer

    gateway = run_server(check, allow_cidrs="10.0.0.0/8")
    assert gateway.metrics["sip_forbidden"] == 2


def test_a_refused_source_gets_nothing_when_configured() -> None:
    async def check(server: SipServer, send: Any) -> None:
        assert await send(request("INVITE", send.port, body=SDP)) == b""
        assert await send(request("OPTIONS", send.port)) == b""

    gateway = run_server(check, allow_cidrs="10.0.0.0/8", refuse_silently=True)
    assert gateway.metrics["sip_forbidden"] == 2


def test_garbage_from_a_refused_source_gets_no_answer() -> None:
    async def check(server: SipServer, send: Any) -> None:
        assert await send(request("OPTIONS", send.port)[:60]) == b""  # not even a 400

    gateway = run_server(check, allow_cidrs="10.0.0.0/8")
    assert gateway.metrics["sip_parse_errors"] == 0


def test_server_transactions_per_source_are_bounded() -> None:
    """Non-INVITE transactions linger 32 s over UDP (Timer J): with the bound at 3 the fourth
    request gets a stateless 503, and no fourth transaction."""

    async def check(server: SipServer, send: Any) -> None:
        for n in range(1, 4):
            assert status(await send(request("OPTIONS", send.port, n=n))) == 200
        reply = await send(request("OPTIONS", send.port, n=4))
        assert status(reply) == 503 and b"Retry-After: " in reply
        assert server.transactions.open_for("127.0.0.1") == 3
        # a retransmission of a live transaction is still absorbed by it, not refused
        assert status(await send(request("OPTIONS", send.port, n=2))) == 200

    gateway = run_server(check, max_transactions_per_source=3)
    assert gateway.metrics["sip_transactions_refused"] == 1


def tcp_options(port: int, n: int) -> bytes:
    return request("OPTIONS", port, n=n).replace(b"SIP/2.0/UDP", b"SIP/2.0/TCP")


def run_tcp(check: Any, **sip: Any) -> Counter[str]:
    """A SipServer over TCP only on a free port; `check(port)` talks to it."""
    gateway = lifecycle()

    async def main() -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        server = SipServer(SipSettings(port=port, transports="tcp", **sip), gateway)
        await server.start()
        try:
            await check(port)
        finally:
            await server.stop()

    asyncio.run(main())
    return gateway.metrics


async def answered(port: int, n: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(tcp_options(writer.get_extra_info("sockname")[1], n))
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 2)
    assert head.startswith(b"SIP/2.0 200 ")
    return reader, writer


def test_tcp_connections_are_limited() -> None:
    async def check(port: int) -> None:
        kept = [await answered(port, 1), await answered(port, 2)]
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(tcp_options(writer.get_extra_info("sockname")[1], 3))
        with pytest.raises((ConnectionError, asyncio.IncompleteReadError)):
            await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 2)  # closed, unanswered
        writer.close()
        kept[0][1].close()
        await kept[0][1].wait_closed()
        for _ in range(100):  # the server notices the close, then a new one fits again
            try:
                kept.append(await answered(port, 4))
                break
            except (ConnectionError, asyncio.IncompleteReadError):
                await asyncio.sleep(0.02)
        else:
            raise AssertionError("no connection accepted after one was closed")
        for _, w in kept[1:]:
            w.close()

    metrics = run_tcp(check, tcp_max_connections=2)
    assert metrics["sip_tcp_refused"] >= 1


def test_tcp_connection_from_a_refused_source_is_closed() -> None:
    async def check(port: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(tcp_options(writer.get_extra_info("sockname")[1], 1))
        with pytest.raises((ConnectionError, asyncio.IncompleteReadError)):
            await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 2)
        writer.close()

    metrics = run_tcp(check, allow_cidrs="10.0.0.0/8")
    assert metrics["sip_forbidden"] == 1


def test_an_idle_tcp_connection_is_closed() -> None:
    async def check(port: int) -> None:
        reader, writer = await answered(port, 1)
        assert await asyncio.wait_for(reader.read(), 3) == b""  # closed by the server
        writer.close()

    metrics = run_tcp(check, tcp_idle_timeout_s=0.3)
    assert metrics["sip_tcp_idle_closed"] == 1


# ---- finding 12: SDP host names --------------------------------------------------------------
def test_an_invite_whose_sdp_names_a_host_gets_488() -> None:
    async def check(server: SipServer, send: Any) -> None:
        body = SDP.replace("c=IN IP4 127.0.0.1", "c=IN IP4 localhost")
        assert status(await send(request("INVITE", send.port, body=body))) == 488

    run_server(check)


# ---- finding 8: RTP only from the signalled peer ---------------------------------------------
def rtp(seq: int, payload: bytes = bytes(160)) -> bytes:
    return struct.pack("!BBHII", 0x80, 0, seq, 160 * seq, 7) + payload


def udp(host: str) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((host, 0))
    return sock


def run_rtp(check: Any, latching: bool) -> Counter[str]:
    """An RTP endpoint from a PortAllocator on loopback, negotiated with a peer socket on
    127.0.0.1; `check(endpoint, peer)` sends at it."""
    metrics: Counter[str] = Counter()

    async def main() -> None:
        ports = PortAllocator("127.0.0.1", 31000, 31999, latching=latching)
        endpoint = await ports.open(metrics, timeout_s=30)
        peer = udp("127.0.0.1")
        endpoint.negotiate(
            Negotiated("PCMU", 0, 101, "127.0.0.1", peer.getsockname()[1], "sendrecv")
        )

        async def audio(_: Any) -> None:
            return None

        endpoint.start(RtpCallbacks(audio, lambda _: None, lambda: None))
        try:
            await check(endpoint, peer)
        finally:
            peer.close()
            await endpoint.close()

    asyncio.run(main())
    return metrics


@pytest.mark.parametrize("latching", [False, True])
def test_rtp_from_a_third_address_is_ignored_and_counted(latching: bool) -> None:
    """The SDP names 127.0.0.1: packets from 127.0.0.2 are dropped even when they come first
    (the endpoint used to latch onto whoever sent the first 5 packets)."""

    async def check(endpoint: RtpEndpoint, peer: socket.socket) -> None:
        dest = ("127.0.0.1", endpoint.port)
        with udp("127.0.0.2") as third:
            for n in range(1, 8):
                third.sendto(rtp(n), dest)
            await until(lambda: endpoint.metrics["rtp_wrong_source"] == 7)
            assert endpoint.received == 0
            peer.sendto(rtp(8), dest)
            await until(lambda: endpoint.received == 1)
            third.sendto(rtp(9), dest)
            await until(lambda: endpoint.metrics["rtp_wrong_source"] == 8)
            assert endpoint.received == 1

    run_rtp(check, latching)


@pytest.mark.parametrize("latching", [False, True])
def test_rtp_from_another_port_of_the_signalled_host(latching: bool) -> None:
    """Strict: only the c=/m= address and port. Latching: the first other port of the
    signalled host is accepted (asymmetric senders), and then no further one."""

    async def check(endpoint: RtpEndpoint, peer: socket.socket) -> None:
        dest = ("127.0.0.1", endpoint.port)
        with udp("127.0.0.1") as other, udp("127.0.0.1") as another:
            other.sendto(rtp(1), dest)
            another.sendto(rtp(2), dest)
            peer.sendto(rtp(3), dest)
            await until(lambda: endpoint.received + endpoint.metrics["rtp_wrong_source"] == 3)
            assert endpoint.received == (2 if latching else 1)

    run_rtp(check, latching)


def test_oversized_rtp_payload_is_dropped_and_counted() -> None:
    async def check(endpoint: RtpEndpoint, peer: socket.socket) -> None:
        dest = ("127.0.0.1", endpoint.port)
        peer.sendto(rtp(1, bytes(481)), dest)  # more than 3 x 20 ms of G.711
        peer.sendto(rtp(2, bytes(1400)), dest)
        peer.sendto(rtp(3, bytes(480)), dest)
        await until(lambda: endpoint.received == 1)
        assert endpoint.metrics["rtp_oversized"] == 2

    run_rtp(check, latching=False)


def test_rtp_ports_are_random_in_the_range_and_bound_to_the_media_address() -> None:
    async def main() -> list[int]:
        ports = PortAllocator("127.0.0.1", 32000, 32999)
        endpoints = [await ports.open(Counter(), 30) for _ in range(8)]
        try:
            for e in endpoints:
                assert e.transport is not None
                assert e.transport.get_extra_info("sockname")[:2] == ("127.0.0.1", e.port)
            return [e.port for e in endpoints]
        finally:
            for e in endpoints:
                await e.close()

    taken = asyncio.run(main())
    assert all(32000 <= p <= 32999 and p % 2 == 0 for p in taken)
    assert len(set(taken)) == 8
    assert taken != sorted(taken)  # not handed out in order (1 in 8! by chance)


def test_rtp_binds_to_the_configured_media_address() -> None:
    gateway = lifecycle()
    default = SipServer(SipSettings(), gateway).calls.rtp_ports
    assert default.host == "127.0.0.1"  # SIP's listen address: loopback by default
    media = SipServer(SipSettings(host="0.0.0.0", rtp_host="127.0.0.3"), gateway).calls.rtp_ports
    assert media.host == "127.0.0.3"
