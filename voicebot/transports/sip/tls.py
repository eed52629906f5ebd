"""SIP over TLS (RFC 3261 §26.2, port 5061): a TCP connection that does the handshake first.

A connection is accepted as plain TCP and passes the endpoint's gate (allowlist, connection
bound, idle timer) before any TLS work is done; then the server handshake runs with a time
limit (`HANDSHAKE_TIMEOUT_S`), and from there on it is a `TcpConnection` whose Via transport is
TLS. A failed or slow handshake closes the connection and is counted (`sip_tls_failed`).
The certificate and key are files (`[sip] tls_cert_file`, `tls_key_file`), TLS 1.2 or newer;
clients are not asked for a certificate (callers authenticate with the allowlist and digest).
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Callable

from voicebot.errors import VoicebotError
from voicebot.transports.sip.endpoint import SipEndpoint, TcpConnection

log = logging.getLogger(__name__)

HANDSHAKE_TIMEOUT_S = 10.0


def server_context(cert_file: str | None, key_file: str | None) -> ssl.SSLContext:
    """The server's TLS context; VoicebotError saying what is wrong with the files."""
    if not cert_file or not key_file:
        raise VoicebotError(
            "SIP over TLS needs [sip] tls_cert_file and tls_key_file "
            "(VOICEBOT_SIP_TLS_CERT_FILE, VOICEBOT_SIP_TLS_KEY_FILE), or drop tls from transports"
        )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(cert_file, key_file)
    except (OSError, ssl.SSLError) as exc:
        raise VoicebotError(
            f"cannot load the SIP TLS certificate {cert_file} and key {key_file}: {exc}"
        ) from exc
    return context


class TlsConnection(TcpConnection):
    """One SIP-over-TLS connection: gated as TCP, then the handshake, then SIP messages."""

    kind = "TLS"

    def __init__(self, endpoint: SipEndpoint, context: ssl.SSLContext) -> None:
        super().__init__(endpoint)
        self.context = context
        self._raw: asyncio.Transport | None = None
        self._handshake: asyncio.Task[None] | None = None
        self._early: list[bytes] = []  # SIP that came with the end of the handshake

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        transport.pause_reading()  # nothing is read before the handshake takes the socket
        super().connection_made(transport)  # the gate: refused sources are aborted here
        if transport.is_closing():
            return
        self.transport, self._raw = None, transport  # no SIP is written before the handshake
        self._handshake = asyncio.ensure_future(self._upgrade(transport))

    async def _upgrade(self, raw: asyncio.Transport) -> None:
        loop = asyncio.get_running_loop()
        try:
            tls = await loop.start_tls(
                raw, self, self.context, server_side=True,
                ssl_handshake_timeout=HANDSHAKE_TIMEOUT_S,
            )  # fmt: skip
        except (OSError, TimeoutError) as exc:
            self.endpoint.metrics["sip_tls_failed"] += 1
            assert self.peer is not None
            log.info("SIP over TLS from %s:%d: handshake failed: %s", *self.peer.addr, exc)
            self._handshake = None
            raw.abort()
            self.connection_lost(None)
            return
        self._handshake = None
        if tls is None:  # the connection went away meanwhile
            self.connection_lost(None)
            return
        self.transport = tls
        early, self._early = self._early, []
        for data in early:
            super().data_received(data)

    def data_received(self, data: bytes) -> None:
        if self.transport is None:  # delivered before start_tls returned: kept until then
            self._early.append(data)
            return
        super().data_received(data)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._handshake is not None and not self._handshake.done():
            self._handshake.cancel()
        super().connection_lost(exc)

    def close(self) -> None:
        if self.transport is None and self._raw is not None:  # still in the handshake
            self._raw.abort()
            self.connection_lost(None)
            return
        super().close()


def tls_factory(endpoint: SipEndpoint, context: ssl.SSLContext) -> Callable[[], TlsConnection]:
    """The protocol factory for `SipEndpoint.listen_tls`."""
    return lambda: TlsConnection(endpoint, context)
