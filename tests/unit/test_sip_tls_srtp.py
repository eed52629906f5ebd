"""SIP over TLS and SRTP (issue 12, finding 15) over real loopback sockets: the TLS listener
(gate before the handshake, a failed handshake, Contact/Via), the SDES answer of an INVITE
over TLS, libsrtp protect/unprotect and the RTP endpoint on an SRTP call.

A self-signed certificate is made for each test with the openssl command line (no key is
committed)."""

from __future__ import annotations

import asyncio
import base64
import socket
import ssl
import struct
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.unit.test_sip_hardening import run_rtp, until
from tests.unit.test_sip_transport import lifecycle
from voicebot.config import SipSettings
from voicebot.errors import ConfigError, VoicebotError
from voicebot.protocol.sdes import SrtpKeys, parse_crypto
from voicebot.transports.sip.rtp import RtpEndpoint
from voicebot.transports.sip.server import SipServer
from voicebot.transports.sip.srtp import SrtpError, SrtpStreams, is_rtcp

SUITE = "AES_CM_128_HMAC_SHA1_80"
A, B = bytes(range(30)), bytes(range(50, 80))


def self_signed(directory: Path, host: str = "127.0.0.1") -> tuple[Path, Path]:
    """A throw-away certificate and key for `host` (openssl; EC P-256, one day)."""
    cert, key = directory / "sip-cert.pem", directory / "sip-key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"]
        + ["-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1"]
        + ["-subj", f"/CN={host}", "-addext", f"subjectAltName=IP:{host}"],
        check=True,
        capture_output=True,
        timeout=30,
    )
    return cert, key


def rtp(seq: int, payload: bytes = bytes(160), pt: int = 0) -> bytes:
    return struct.pack("!BBHII", 0x80, pt, seq, 160 * seq, 0x1234) + payload


# ---- libsrtp through SrtpStreams ---------------------------------------------------------------
@pytest.mark.parametrize("suite", ["AES_CM_128_HMAC_SHA1_80", "AES_CM_128_HMAC_SHA1_32"])
def test_srtp_round_trip_tamper_and_replay(suite: str) -> None:
    ours, theirs = SrtpStreams(SrtpKeys(suite, A, B)), SrtpStreams(SrtpKeys(suite, B, A))
    packet = rtp(1)
    protected = ours.protect(packet)
    tag = 10 if suite.endswith("80") else 4
    assert len(protected) == len(packet) + tag and protected[12:] != packet[12:]
    assert theirs.unprotect(protected) == packet
    with pytest.raises(SrtpError):
        theirs.unprotect(protected)  # a replay
    tampered = bytearray(ours.protect(rtp(2)))
    tampered[20] ^= 1
    with pytest.raises(SrtpError):
        theirs.unprotect(bytes(tampered))
    with pytest.raises(SrtpError):
        theirs.unprotect(rtp(3))  # plain RTP on an SRTP call
    with pytest.raises(SrtpError):
        ours.unprotect(ours.protect(rtp(4)))  # our own key does not open our packets
    report = struct.pack("!BBHI", 0x80, 200, 6, 0x1234) + bytes(20)  # RTCP sender report
    assert theirs.unprotect_rtcp(ours.protect_rtcp(report)) == report


@pytest.mark.parametrize(
    ("data", "rtcp"),
    [(rtp(1), False), (rtp(1, pt=101), False), (rtp(1, pt=0x80 | 8), False),
     (b"\x80\xc8\x00\x06", True), (b"\x81\xc9\x00\x07", True), (b"\x80\xdf", True),
     (b"\x80\xe0", False), (b"\x80", False), (b"", False)],
)  # fmt: skip
def test_rtcp_on_a_muxed_port_is_told_apart(data: bytes, rtcp: bool) -> None:
    assert is_rtcp(data) is rtcp


def test_an_srtp_call_takes_only_authentic_rtp_and_sends_srtp() -> None:
    async def check(endpoint: RtpEndpoint, peer: socket.socket) -> None:
        endpoint.srtp = SrtpStreams(SrtpKeys(SUITE, A, B))
        phone = SrtpStreams(SrtpKeys(SUITE, B, A))
        dest = ("127.0.0.1", endpoint.port)
        peer.sendto(rtp(1), dest)  # plain RTP: not authentic
        await until(lambda: endpoint.metrics["srtp_rejected"] == 1)
        second = phone.protect(rtp(2))
        peer.sendto(second, dest)
        await until(lambda: endpoint.received == 1)
        peer.sendto(second, dest)  # replayed
        await until(lambda: endpoint.metrics["srtp_rejected"] == 2)
        assert endpoint.received == 1
        endpoint.send_frame(np.zeros(160, dtype=np.int16))
        peer.settimeout(2)
        data = peer.recv(2048)
        assert len(data) == 12 + 160 + 10
        plain = phone.unprotect(data)
        assert plain[1] & 0x7F == 0 and len(plain) == 172

    run_rtp(check, latching=False)


# ---- SIP over TLS ---------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _client_context(cert: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(cert))
    context.check_hostname = False  # the certificate names 127.0.0.1 as an IP address
    return context


SDP = (
    "v=0\r\no=c 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    "m=audio 40000 {proto} 8 101\r\na=rtpmap:101 telephone-event/8000\r\n{crypto}"
)
CRYPTO = f"a=crypto:3 {SUITE} inline:{base64.b64encode(B).decode()}\r\n"


def tls_request(method: str, port: int, body: str = "", uri: str = "sip:bot@127.0.0.1") -> bytes:
    ctype = "Content-Type: application/sdp\r\n" if body else ""
    return (
        f"{method} {uri} SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.0.1:{port};branch=z9hG4bKtls{method}\r\n"
        f"From: <sip:caller@127.0.0.1>;tag=f1\r\nTo: <sip:bot@127.0.0.1>\r\n"
        f"Call-ID: tls-{method}@127.0.0.1\r\nCSeq: 1 {method}\r\n"
        f"Contact: <sip:caller@127.0.0.1:{port};transport=tls>\r\n{ctype}"
        f"Content-Length: {len(body)}\r\n\r\n{body}"
    ).encode()


async def read_response(reader: asyncio.StreamReader) -> tuple[str, bytes]:
    """The next final response: its head and body (provisional ones are skipped)."""
    while True:
        head = (await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)).decode()
        length = next(
            int(line.split(":", 1)[1]) for line in head.split("\r\n")
            if line.lower().startswith("content-length")
        )  # fmt: skip
        body = await reader.readexactly(length)
        if not head.startswith("SIP/2.0 1"):
            return head, body


def run_tls(check: Any, tmp_path: Path, **sip: Any) -> Counter[str]:
    """A SipServer with only the TLS listener (self-signed certificate);
    `check(port, cert, metrics)`."""
    cert, key = self_signed(tmp_path)
    gateway = lifecycle()

    async def main() -> None:
        port = _free_port()
        settings = SipSettings(
            port=_free_port(), transports="tls", tls_port=port, ring_ms=0,
            tls_cert_file=str(cert), tls_key_file=str(key), **sip,
        )  # fmt: skip
        server = SipServer(settings, gateway)
        await server.start()
        try:
            await check(port, cert, gateway.metrics)
        finally:
            await server.stop()

    asyncio.run(main())
    return gateway.metrics


def test_options_over_tls_is_answered_on_the_same_connection(tmp_path: Path) -> None:
    async def check(port: int, cert: Path, metrics: Counter[str]) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=_client_context(cert))
        writer.write(tls_request("OPTIONS", writer.get_extra_info("sockname")[1]))
        head, _ = await read_response(reader)
        assert head.startswith("SIP/2.0 200 ") and "SIP/2.0/TLS" in head
        writer.close()

    run_tls(check, tmp_path)


def test_an_invite_over_tls_with_a_key_is_answered_with_srtp(tmp_path: Path) -> None:
    async def check(port: int, cert: Path, metrics: Counter[str]) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=_client_context(cert))
        local = writer.get_extra_info("sockname")[1]
        body = SDP.format(proto="RTP/SAVP", crypto=CRYPTO)
        writer.write(tls_request("INVITE", local, body))
        head, answer = await read_response(reader)
        assert head.startswith("SIP/2.0 200 "), head
        assert f"Contact: <sip:voicebot@127.0.0.1:{port};transport=tls>" in head
        text = answer.decode()
        assert " RTP/SAVP 8 101\r\n" in text
        line = next(x for x in text.split("\r\n") if x.startswith("a=crypto:"))
        ours = parse_crypto(line.removeprefix("a=crypto:"))
        assert (ours.tag, ours.suite) == (3, SUITE) and ours.key != B
        writer.close()

    metrics = run_tls(check, tmp_path, srtp="required")
    assert metrics["sip_srtp_calls"] == 1


def test_a_sips_request_uri_gets_a_sips_contact(tmp_path: Path) -> None:
    async def check(port: int, cert: Path, metrics: Counter[str]) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=_client_context(cert))
        local = writer.get_extra_info("sockname")[1]
        body = SDP.format(proto="RTP/AVP", crypto="")
        writer.write(tls_request("INVITE", local, body, uri="sips:bot@127.0.0.1"))
        head, answer = await read_response(reader)
        assert head.startswith("SIP/2.0 200 "), head
        assert f"Contact: <sips:voicebot@127.0.0.1:{port}>" in head
        assert b"a=crypto" not in answer and b" RTP/AVP " in answer  # optional: plain RTP
        writer.close()

    run_tls(check, tmp_path)


def test_an_offer_without_a_key_on_a_required_line_gets_488(tmp_path: Path) -> None:
    async def check(port: int, cert: Path, metrics: Counter[str]) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=_client_context(cert))
        local = writer.get_extra_info("sockname")[1]
        writer.write(tls_request("INVITE", local, SDP.format(proto="RTP/AVP", crypto="")))
        head, _ = await read_response(reader)
        assert head.startswith("SIP/2.0 488 "), head
        writer.close()

    metrics = run_tls(check, tmp_path, srtp="required")
    assert metrics["sip_srtp_calls"] == 0


def test_a_refused_source_is_closed_before_any_handshake(tmp_path: Path) -> None:
    async def check(port: int, cert: Path, metrics: Counter[str]) -> None:
        with pytest.raises((ConnectionError, ssl.SSLError, asyncio.IncompleteReadError)):
            reader, writer = await asyncio.open_connection(
                "127.0.0.1", port, ssl=_client_context(cert)
            )
            await asyncio.wait_for(reader.read(1), 5)
            raise ConnectionError("closed after the handshake")  # pragma: no cover

    metrics = run_tls(check, tmp_path, allow_cidrs="10.0.0.0/8")
    assert metrics["sip_forbidden"] == 1 and metrics["sip_tls_failed"] == 0


def test_plain_sip_on_the_tls_port_fails_the_handshake_and_is_closed(tmp_path: Path) -> None:
    async def check(port: int, cert: Path, metrics: Counter[str]) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(tls_request("OPTIONS", writer.get_extra_info("sockname")[1]))
        assert await asyncio.wait_for(reader.read(), 5) == b""  # closed, nothing answered
        writer.close()
        await until(lambda: metrics["sip_tls_failed"] == 1)

    assert run_tls(check, tmp_path)["sip_tls_failed"] == 1


def test_tls_without_a_certificate_is_a_clear_error_at_start(tmp_path: Path) -> None:
    async def main() -> None:
        settings = SipSettings(port=_free_port(), transports="tls", tls_port=_free_port())
        with pytest.raises(VoicebotError, match="tls_cert_file"):
            await SipServer(settings, lifecycle()).start()
        missing = SipSettings(
            port=_free_port(), transports="tls", tls_port=_free_port(),
            tls_cert_file=str(tmp_path / "nope.pem"), tls_key_file=str(tmp_path / "nope.key"),
        )  # fmt: skip
        with pytest.raises(VoicebotError, match="nope.pem"):
            await SipServer(missing, lifecycle()).start()

    asyncio.run(main())


def test_an_unknown_srtp_mode_is_refused() -> None:
    with pytest.raises(ConfigError, match="srtp"):
        SipSettings(srtp="sometimes")


def test_tls_connections_are_bounded_and_idle_ones_closed(tmp_path: Path) -> None:
    """Like TCP: `tcp_max_connections` (TLS and TCP together) and `tcp_idle_timeout_s`."""

    async def check(port: int, cert: Path, metrics: Counter[str]) -> None:
        first = await asyncio.open_connection("127.0.0.1", port, ssl=_client_context(cert))
        with pytest.raises((ConnectionError, ssl.SSLError, asyncio.IncompleteReadError)):
            reader, _ = await asyncio.open_connection("127.0.0.1", port, ssl=_client_context(cert))
            await asyncio.wait_for(reader.read(1), 5)
            raise ConnectionError("closed after the handshake")  # pragma: no cover
        assert metrics["sip_tcp_refused"] == 1
        assert await asyncio.wait_for(first[0].read(), 5) == b""  # idle: closed by the server
        await until(lambda: metrics["sip_tcp_idle_closed"] == 1)
        first[1].close()

    run_tls(check, tmp_path, tcp_max_connections=1, tcp_idle_timeout_s=0.5)


def test_a_client_that_never_finishes_the_handshake_is_closed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import voicebot.transports.sip.tls as tls

    monkeypatch.setattr(tls, "HANDSHAKE_TIMEOUT_S", 0.3)

    async def check(port: int, cert: Path, metrics: Counter[str]) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)  # says nothing
        assert await asyncio.wait_for(reader.read(), 5) == b""
        writer.close()
        await until(lambda: metrics["sip_tls_failed"] == 1)

    run_tls(check, tmp_path)
