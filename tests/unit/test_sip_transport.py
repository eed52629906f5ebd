"""The SIP server's refusals over real UDP sockets (no pipeline needed), RTP drop counters,
the digest configuration and registration. The pure digest and REFER code is tested with
value tables in test_sip_auth.py and test_sip_refer.py."""

from __future__ import annotations

import asyncio
import socket
import struct
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any, cast

import pytest

from voicebot.config import Settings, SipSettings
from voicebot.errors import ConfigError
from voicebot.lifecycle import CallLifecycle
from voicebot.pipeline.services import Services
from voicebot.protocol.sdp import Negotiated
from voicebot.protocol.sip.auth import DigestVerifier, authorization
from voicebot.protocol.sip.message import SipRequest
from voicebot.transports.sip.access import AccessControl
from voicebot.transports.sip.rtp import RtpCallbacks, RtpEndpoint
from voicebot.transports.sip.server import SipServer

SDP = (
    "v=0\r\no=c 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    "m=audio 40000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n"
)


def lifecycle(ready: bool = True, max_calls: int = 8) -> CallLifecycle:
    """A call lifecycle whose models are loaded (or not); no call here gets to a session."""
    calls = CallLifecycle(Settings(max_calls=max_calls), Counter())
    if ready:
        calls.services = cast(Services, object())
    return calls


def request(
    method: str,
    port: int,
    *,
    extra: str = "",
    body: str = "",
    to_tag: str = "",
    n: int = 1,
) -> bytes:
    to = "<sip:bot@127.0.0.1>" + (f";tag={to_tag}" if to_tag else "")
    ctype = "Content-Type: application/sdp\r\n" if body else ""
    return (
        f"{method} sip:bot@127.0.0.1 SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bKunit{method}{n}\r\n"
        f"From: <sip:caller@127.0.0.1>;tag=from{n}\r\nTo: {to}\r\n"
        f"Call-ID: unit{n}@127.0.0.1\r\nCSeq: 1 {method}\r\n{extra}{ctype}"
        f"Content-Length: {len(body)}\r\n\r\n{body}"
    ).encode()


def run_server(
    check: Callable[[SipServer, Callable[[bytes], Awaitable[bytes]]], Awaitable[None]],
    ready: bool = True,
    max_calls: int = 8,
    **sip: Any,
) -> CallLifecycle:
    """Starts a SipServer on a free port and hands `check` a send-and-wait-for-reply helper
    (`send.receive()` waits for the next reply without sending)."""
    gateway = lifecycle(ready, max_calls)

    async def main() -> None:
        settings = SipSettings(port=_free_udp_port(), transports="udp", **sip)
        server = SipServer(settings, gateway)
        await server.start()
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(("127.0.0.1", 0))
        sock.setblocking(False)
        loop = asyncio.get_running_loop()

        async def receive() -> bytes:
            try:
                while True:
                    reply = await asyncio.wait_for(loop.sock_recv(sock, 65536), 1.0)
                    if not reply.startswith(b"SIP/2.0 100 "):
                        return reply
            except asyncio.TimeoutError:
                return b""

        async def send(data: bytes) -> bytes:
            await loop.sock_sendto(sock, data, ("127.0.0.1", server.settings.port))
            return await receive()

        send.port = sock.getsockname()[1]  # type: ignore[attr-defined]
        send.receive = receive  # type: ignore[attr-defined]
        try:
            await check(server, send)
        finally:
            sock.close()
            await server.stop()

    asyncio.run(main())
    return gateway


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def status(reply: bytes) -> int:
    return int(reply.split(b" ", 2)[1]) if reply.startswith(b"SIP/2.0 ") else 0


def test_options_lists_methods_and_sdp() -> None:
    async def check(server: SipServer, send: Any) -> None:
        reply = await send(request("OPTIONS", send.port))
        assert status(reply) == 200
        assert b"Allow: ACK, BYE, CANCEL, INFO, INVITE, NOTIFY, OPTIONS" in reply
        assert b"Accept: application/sdp" in reply

    run_server(check)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (lambda p: request("BYE", p, to_tag="nope"), 481),  # unknown dialog
        (lambda p: request("FROBNICATE", p), 501),
        (lambda p: request("SUBSCRIBE", p), 405),
        (lambda p: request("OPTIONS", p, extra="Max-Forwards: 0\r\n"), 483),
        (lambda p: request("OPTIONS", p, body="a" * 17000), 413),
        (lambda p: request("OPTIONS", p, extra="Content-Length: 9\r\n"), 400),  # two lengths
        (lambda p: request("INVITE", p), 488),  # no SDP offer
        (lambda p: request("CANCEL", p), 481),  # nothing to cancel
    ],
)
def test_refusals(data: Callable[[int], bytes], expected: int) -> None:
    async def check(server: SipServer, send: Any) -> None:
        reply = await send(data(send.port))
        assert status(reply) == expected, reply[:200]
        if expected in (405, 501):
            assert b"\r\nAllow: " in reply

    run_server(check)


def test_garbage_is_dropped_and_counted() -> None:
    async def check(server: SipServer, send: Any) -> None:
        assert await send(b"\x00\x01garbage\xff" * 10) == b""
        assert await send(request("OPTIONS", send.port)[:60]) == b""  # truncated: no headers
        assert await send(b"\r\n\r\n") == b""  # keep-alive

    gateway = run_server(check)
    assert gateway.metrics["sip_parse_errors"] == 2


def test_source_outside_the_allowlist_gets_403() -> None:
    async def check(server: SipServer, send: Any) -> None:
        assert status(await send(request("OPTIONS", send.port))) == 403

    gateway = run_server(check, allow_cidrs="10.0.0.0/8")
    assert gateway.metrics["sip_forbidden"] == 1


def test_models_not_ready_gives_503_with_retry_after() -> None:
    async def check(server: SipServer, send: Any) -> None:
        reply = await send(request("INVITE", send.port, body=SDP))
        assert status(reply) == 503
        assert b"Retry-After: 30" in reply

    run_server(check, ready=False)


def test_ringing_invites_hold_call_slots() -> None:
    """max_calls = 2: two INVITEs ring (180, no 200 yet), the third gets 503 with Retry-After;
    cancelling a ringing one frees its slot for the next INVITE."""

    async def check(server: SipServer, send: Any) -> None:
        for n in (1, 2):
            reply = await send(request("INVITE", send.port, body=SDP, n=n))
            assert status(reply) == 180, reply[:200]
        reply = await send(request("INVITE", send.port, body=SDP, n=3))
        assert status(reply) == 503, reply[:200]
        assert b"Retry-After: 30" in reply
        cancel = request("CANCEL", send.port, n=1).replace(b"unitCANCEL1", b"unitINVITE1")
        assert status(await send(cancel)) == 200
        assert status(await send.receive()) == 487
        reply = await send(request("INVITE", send.port, body=SDP, n=4))
        assert status(reply) == 180, reply[:200]

    gateway = run_server(check, max_calls=2, ring_ms=5000)
    assert gateway.metrics["calls_refused"] == 1
    assert gateway.metrics["sip_cancelled"] == 1


def test_invite_needs_digest_credentials_when_configured() -> None:
    async def check(server: SipServer, send: Any) -> None:
        reply = await send(request("INVITE", send.port, body=SDP))
        assert status(reply) == 401
        challenges = [
            line.split(":", 1)[1].strip()
            for line in reply.decode().split("\r\n")
            if line.startswith("WWW-Authenticate:")
        ]
        assert any("SHA-256" in c for c in challenges) and any("MD5" in c for c in challenges)
        # answering the challenge gets past authentication (to admission control: 503)
        header = authorization(
            challenges[0], method="INVITE", uri="sip:bot@127.0.0.1", username="pbx", password="pw"
        )
        reply = await send(
            request("INVITE", send.port, body=SDP, extra=f"Authorization: {header}\r\n", n=2)
        )
        assert status(reply) == 503

    run_server(check, ready=False, auth_user="pbx", auth_password="pw")


def test_digest_offers_only_the_configured_algorithms() -> None:
    """auth_algorithms = "MD5" (for callers that read only the first challenge): one MD5
    challenge, and an answer computed with SHA-256 is refused; unknown names are a ConfigError."""
    md5_only = DigestVerifier("voicebot", "pbx", "secret", ("MD5",))
    assert [c.split("algorithm=")[1].split(",")[0] for c in md5_only.challenges()] == ["MD5"]
    md5 = md5_only.challenges()[0]
    for algorithm, accepted in (("MD5", True), ("SHA-256", False)):
        challenge = md5.replace("algorithm=MD5", f"algorithm={algorithm}")  # our valid nonce
        answer = authorization(
            challenge, method="INVITE", uri="sip:bot@x", username="pbx", password="secret"
        )
        assert md5_only.verify(answer, "INVITE") is accepted, algorithm
    with pytest.raises(ConfigError, match="auth_algorithms"):
        AccessControl(
            SipSettings(auth_user="pbx", auth_password="pw", auth_algorithms="SHA-512"),
            lifecycle(),
        )


def test_bad_rtp_is_dropped_and_counted() -> None:
    async def main() -> Counter[str]:
        metrics: Counter[str] = Counter()
        endpoint = RtpEndpoint(40000, metrics, timeout_s=30)
        endpoint.negotiate(Negotiated("PCMU", 0, 101, "127.0.0.1", 40002, "sendrecv"))
        good = struct.pack("!BBHII", 0x80, 0, 1, 160, 7) + bytes(160)
        src = ("127.0.0.1", 40002)
        endpoint.receive(bytes([0x40]) + good[1:], src)  # version 1
        endpoint.receive(bytes([0x8F]) + good[1:20], src)  # 15 CSRCs in 8 bytes
        endpoint.receive(good[:1] + bytes([96]) + good[2:], src)  # payload type 96: not offered
        endpoint.receive(good, src)
        assert endpoint.received == 1
        for n in range(2, 8):  # the source is latched after the first packets
            endpoint.receive(struct.pack("!BBHII", 0x80, 0, n, 160 * n, 7) + bytes(160), src)
        endpoint.receive(struct.pack("!BBHII", 0x80, 0, 9, 1440, 7) + bytes(160), ("1.2.3.4", 9))
        assert endpoint.received == 7
        return metrics

    metrics = asyncio.run(main())
    assert metrics["rtp_bad_packets"] == 2
    assert metrics["rtp_unknown_payload_type"] == 1
    assert metrics["rtp_wrong_source"] == 1


def test_alaw_idle_pattern_decodes_to_silence_without_dc() -> None:
    """A-law has no zero: its idle code decodes to +8. That offset is removed on decode."""
    endpoint = RtpEndpoint(40000, Counter(), timeout_s=30)
    endpoint.negotiated = Negotiated("PCMA", 8, None, "127.0.0.1", 40002, "sendrecv")
    frames = [endpoint._decode(b"\xd5" * 160) for _ in range(200)]
    assert abs(int(frames[-1].max())) <= 1 and abs(int(frames[-1].min())) <= 1


def test_tcp_options_and_framing_error_closes_only_that_connection() -> None:
    gateway = lifecycle()

    async def main() -> None:
        port = _free_udp_port()
        server = SipServer(SipSettings(port=port, transports="tcp"), gateway)
        await server.start()
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            me = writer.get_extra_info("sockname")[1]
            writer.write(request("OPTIONS", me).replace(b"SIP/2.0/UDP", b"SIP/2.0/TCP"))
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 2)
            assert head.startswith(b"SIP/2.0 200 ")
            writer.write(b"NOT SIP AT ALL\r\n\r\n")
            assert await asyncio.wait_for(reader.read(), 2) == b""  # closed after the error
            writer.close()
            reader2, writer2 = await asyncio.open_connection("127.0.0.1", port)
            writer2.write(request("OPTIONS", me, n=2).replace(b"SIP/2.0/UDP", b"SIP/2.0/TCP"))
            head = await asyncio.wait_for(reader2.readuntil(b"\r\n\r\n"), 2)
            assert head.startswith(b"SIP/2.0 200 ")
            writer2.close()
        finally:
            await server.stop()

    asyncio.run(main())


@pytest.mark.parametrize("algorithm", ["SHA-256", "MD5"])
def test_register_answers_the_challenge_and_refreshes(algorithm: str) -> None:
    """A fake registrar challenges every REGISTER without valid credentials, grants 2 s."""
    from voicebot.protocol.sip.message import parse_datagram, response_for

    verifier = DigestVerifier("pbx.test", "bot", "pw")
    seen: list[tuple[str | None, bool]] = []

    class Registrar(asyncio.DatagramProtocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            self.transport = transport

        def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
            req = parse_datagram(data)
            assert isinstance(req, SipRequest)
            auth = req.header("Authorization")
            ok = verifier.verify(auth, "REGISTER")
            seen.append((auth, ok))
            if ok:
                reply = response_for(req, 200, extra_headers=(("Expires", "2"),))
            else:
                challenge = next(c for c in verifier.challenges() if algorithm in c)
                reply = response_for(req, 401, extra_headers=(("WWW-Authenticate", challenge),))
            self.transport.sendto(reply.to_bytes(), addr)  # type: ignore[attr-defined]

    async def main() -> int:
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(Registrar, local_addr=("127.0.0.1", 0))
        registrar_port = transport.get_extra_info("sockname")[1]
        settings = SipSettings(
            port=_free_udp_port(),
            transports="udp",
            register_uri=f"sip:127.0.0.1:{registrar_port}",
            register_user="bot",
            register_password="pw",
            register_expires_s=2,
        )
        server = SipServer(settings, lifecycle())
        await server.start()
        try:
            await asyncio.sleep(2.5)  # the first binding, and its refresh after 1.6 s
            assert server.registration is not None
            return server.registration.registrations
        finally:
            await server.stop()
            transport.close()

    assert asyncio.run(main()) >= 2
    assert [ok for _, ok in seen][:4] == [False, True, False, True]
    assert all(f"algorithm={algorithm}" in (auth or "") for auth, ok in seen if ok)


def test_rtp_silence_times_out_once_and_loss_is_concealed() -> None:
    async def main() -> tuple[list[str], list[int]]:
        metrics: Counter[str] = Counter()
        endpoint = RtpEndpoint(40000, metrics, timeout_s=0.3)
        endpoint.negotiate(Negotiated("PCMU", 0, 101, "127.0.0.1", 40002, "sendrecv"))
        events: list[str] = []
        sizes: list[int] = []

        async def audio(pcm: Any) -> None:
            sizes.append(len(pcm))

        endpoint.start(RtpCallbacks(audio, events.append, lambda: events.append("timeout")))
        src = ("127.0.0.1", 40002)
        for n in (1, 2, 3, 5, 6):  # packet 4 is lost
            endpoint.receive(struct.pack("!BBHII", 0x80, 0, n, 160 * n, 9) + bytes(160), src)
        await asyncio.sleep(0.8)
        await endpoint.close()
        return events, sizes

    events, sizes = asyncio.run(main())
    assert events == ["timeout"]  # reported once, not every tick
    assert set(sizes) == {160} and len(sizes) >= 6  # 5 packets, the lost one, then silence


def test_a_caller_who_sends_no_rtp_yet_is_heard_as_silence() -> None:
    """Before the first packet the pipeline still gets 20 ms of silence per tick, so the
    call's audio clock (turn timestamps) keeps up with the wall clock."""

    async def main() -> list[int]:
        endpoint = RtpEndpoint(40010, Counter(), timeout_s=5.0)
        endpoint.negotiate(Negotiated("PCMA", 8, 101, "127.0.0.1", 40012, "sendrecv"))
        sizes: list[int] = []

        async def audio(pcm: Any) -> None:
            sizes.append(len(pcm))

        endpoint.start(RtpCallbacks(audio, lambda _: None, lambda: None))
        await asyncio.sleep(0.6)
        await endpoint.close()
        return sizes

    sizes = asyncio.run(main())
    assert set(sizes) == {160} and len(sizes) >= 10, len(sizes)  # ~25 ticks less 0.1 s; 0 before


@pytest.mark.parametrize(
    ("direction", "on_hold"),
    [("sendrecv", False), ("recvonly", True), ("inactive", True), ("sendonly", False)],
)
def test_the_sink_knows_when_the_caller_holds_the_call(direction: str, on_hold: bool) -> None:
    """A caller's re-INVITE with a=sendonly (our side: recvonly) or a=inactive puts the call on
    hold: the session then does not reprompt the silence (VOICEBOT_NO_INPUT_S)."""
    from types import SimpleNamespace

    from voicebot.transports.sip.sink import SipSink

    endpoint = RtpEndpoint(40020, Counter(), timeout_s=30)
    call = SimpleNamespace(rtp=endpoint, ended=False)
    sink = SipSink(call, None)  # type: ignore[arg-type]
    assert sink.on_hold is False  # nothing negotiated yet
    endpoint.negotiated = Negotiated("PCMU", 0, 101, "127.0.0.1", 40022, direction)
    assert sink.on_hold is on_hold


@pytest.mark.parametrize(
    ("contact_expires", "expires_header", "granted"),
    [
        ("120", "300", 120),  # our Contact's expires= wins
        (None, "300", 300),
        ("²", "300", 300),  # a Unicode digit is no number (int() would raise)
        (None, "²", 3600),  # neither: what we asked for
        (None, None, 3600),
    ],
)
def test_registration_reads_the_granted_expiry(
    contact_expires: str | None, expires_header: str | None, granted: int
) -> None:
    from voicebot.protocol.sip.message import SipResponse, parse_datagram
    from voicebot.transports.sip.register import Registration

    settings = SipSettings(port=5060, register_uri="sip:pbx.test", register_expires_s=3600)

    async def no_request(*_: Any) -> Any:
        raise AssertionError("nothing is sent")

    registration = Registration(settings, "127.0.0.1", no_request)
    contact = "<sip:bot@127.0.0.1:5060>" + (
        f";expires={contact_expires}" if contact_expires else ""
    )
    lines = [
        "SIP/2.0 200 OK",
        "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK1",
        "From: <sip:bot@pbx.test>;tag=a",
        "To: <sip:bot@pbx.test>;tag=b",
        "Call-ID: r1",
        "CSeq: 1 REGISTER",
        f"Contact: {contact}",
        *([f"Expires: {expires_header}"] if expires_header else []),
        "Content-Length: 0",
    ]
    response = parse_datagram(("\r\n".join(lines) + "\r\n\r\n").encode())
    assert isinstance(response, SipResponse)
    assert registration._granted(response) == granted
