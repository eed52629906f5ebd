"""Registration to a PBX or trunk (RFC 3261 §10): REGISTER with digest auth, refreshed early.

Runs as one task beside the SIP server when `[sip] register_uri` is set. A 401/407 is answered
once per attempt with `authorization` (MD5 or SHA-256, whichever the registrar offers first);
the binding is refreshed at 80 % of the granted expiry (at least 5 s before it runs out), and
after a failure it is retried in 30 s. Calls then arrive on the registered Contact.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING

from voicebot.errors import ProtocolError
from voicebot.protocol.sip.auth import authorization
from voicebot.protocol.sip.headers import Headers, parse_contacts, parse_uri
from voicebot.protocol.sip.message import SipRequest, SipResponse, new_branch, new_tag

if TYPE_CHECKING:
    from voicebot.config import SipSettings

log = logging.getLogger(__name__)
RETRY_S = 30.0
RequestOut = Callable[[SipRequest, tuple[str, int]], "asyncio.Future[SipResponse | None]"]
"""Sends a request outside any call to an address; the future gets the final answer."""


def refresh_delay(expires: int) -> float:
    """When to refresh a binding granted for `expires` seconds."""
    return max(1.0, min(expires * 0.8, expires - 5.0))


class Registration:
    """Keeps one binding at the registrar alive."""

    def __init__(self, settings: SipSettings, address: str, request_out: RequestOut) -> None:
        if not settings.register_uri:
            raise ValueError("register_uri is not set")
        self.settings, self.address, self.request_out = settings, address, request_out
        self.registrar = parse_uri(settings.register_uri)
        self.user = settings.register_user or "voicebot"
        self.aor = f"sip:{self.user}@{self.registrar.host}"
        self.call_id = f"{secrets.token_hex(10)}@{address}"
        self.tag = new_tag()
        self.cseq = 0
        self.registered_until: float | None = None
        self.registrations = 0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Starts the register/refresh loop."""
        self._task = asyncio.create_task(self._run(), name="sip-register")

    async def stop(self) -> None:
        """Stops refreshing (the binding simply expires)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            try:
                expires = await self.register_once()
            except (OSError, ProtocolError, ValueError) as exc:
                log.error("REGISTER to %s failed: %s", self.settings.register_uri, exc)
                expires = None
            await asyncio.sleep(RETRY_S if expires is None else refresh_delay(expires))

    def _request(self, auth: tuple[str, str] | None) -> SipRequest:
        self.cseq += 1
        s = self.settings
        contact = f"<sip:{self.user}@{self.address}:{s.port}>"
        fields = [
            ("Via", f"SIP/2.0/UDP {self.address}:{s.port};branch={new_branch()};rport"),
            ("Max-Forwards", "70"),
            ("From", f"<{self.aor}>;tag={self.tag}"),
            ("To", f"<{self.aor}>"),
            ("Call-ID", self.call_id),
            ("CSeq", f"{self.cseq} REGISTER"),
            ("Contact", contact),
            ("Expires", str(s.register_expires_s)),
            ("User-Agent", "voicebot"),
        ]
        if auth is not None:
            fields.append(auth)
        uri = f"sip:{self.registrar.host}" + (
            f":{self.registrar.port}" if self.registrar.port else ""
        )
        return SipRequest("REGISTER", uri, Headers(tuple(fields)))

    async def _destination(self) -> tuple[str, int]:
        port = self.registrar.port or 5060
        infos = await asyncio.get_running_loop().getaddrinfo(self.registrar.host, port)
        host = infos[0][4][0]
        return str(host), port

    async def register_once(self) -> int | None:
        """One REGISTER (answering one challenge); the granted expiry, or None on failure."""
        dest = await self._destination()
        request = self._request(None)
        response = await self.request_out(request, dest)
        if response is not None and response.status in (401, 407):
            header = "WWW-Authenticate" if response.status == 401 else "Proxy-Authenticate"
            challenge = response.header(header) or ""
            value = authorization(
                challenge, method="REGISTER", uri=request.uri,
                username=self.user, password=self.settings.register_password or "",
            )  # fmt: skip
            name = "Authorization" if response.status == 401 else "Proxy-Authorization"
            response = await self.request_out(self._request((name, value)), dest)
        if response is None or not 200 <= response.status < 300:
            status = "no answer" if response is None else f"{response.status} {response.reason}"
            log.error("REGISTER to %s refused: %s", self.settings.register_uri, status)
            return None
        expires = self._granted(response)
        self.registrations += 1
        self.registered_until = asyncio.get_running_loop().time() + expires
        log.info("registered at %s for %d s", self.settings.register_uri, expires)
        return expires

    def _granted(self, response: SipResponse) -> int:
        """The expiry of our binding: its Contact's expires=, else Expires, else what we asked."""
        mine = f"{self.address}:{self.settings.port}"
        for value in response.headers.get_all("Contact"):
            try:
                contacts = parse_contacts(value) or []
            except ProtocolError:  # a malformed Contact: the Expires header decides
                continue
            for contact in contacts:
                expires = contact.params and dict(contact.params).get("expires")
                if expires and expires.isascii() and expires.isdigit() and mine in str(contact.uri):
                    return int(expires)
        header = response.header("Expires")
        if header and header.strip().isascii() and header.strip().isdigit():
            return int(header.strip())
        return self.settings.register_expires_s
