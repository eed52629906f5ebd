"""How a SIP call ends, over real UDP with a real session (fakes for ASR, Rasa and TTS) and a
real call store: a caller's BYE, and the bot's hang-up, whose BYE leaves after the record is
closed; both free the call's slot."""

from __future__ import annotations

import asyncio
import socket
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from tests.unit.pipeline_fakes import FakeRasa, Fakes, settings, until
from voicebot.config import SipSettings
from voicebot.lifecycle import CallLifecycle
from voicebot.protocol.sip.message import SipRequest, SipResponse, parse_datagram
from voicebot.services.dialogue import BotMessage
from voicebot.store.calls import CallStore
from voicebot.transports.sip.server import SipServer

SDP = (
    "v=0\r\no=c 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    "m=audio {rtp} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n"
)


class Phone:
    """A caller's UDP socket that speaks just enough SIP for one call."""

    def __init__(self, server_port: int) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.setblocking(False)
        self.port = self.sock.getsockname()[1]
        self.rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # absorbs the bot's audio
        self.rtp.bind(("127.0.0.1", 0))
        self.server = ("127.0.0.1", server_port)
        self.to_tag = ""

    def request(self, method: str, cseq: int, body: str = "") -> bytes:
        to = "<sip:bot@127.0.0.1>" + (f";tag={self.to_tag}" if self.to_tag else "")
        ctype = "Content-Type: application/sdp\r\n" if body else ""
        return (
            f"{method} sip:bot@127.0.0.1 SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP 127.0.0.1:{self.port};branch=z9hG4bKcall{method}{cseq}\r\n"
            f"From: <sip:caller@127.0.0.1>;tag=phone1\r\nTo: {to}\r\n"
            f"Call-ID: end1@127.0.0.1\r\nCSeq: {cseq} {method}\r\n"
            f"Contact: <sip:caller@127.0.0.1:{self.port}>\r\nMax-Forwards: 70\r\n{ctype}"
            f"Content-Length: {len(body)}\r\n\r\n{body}"
        ).encode()

    async def send(self, data: bytes) -> None:
        await asyncio.get_running_loop().sock_sendto(self.sock, data, self.server)

    async def receive(self) -> SipRequest | SipResponse:
        """The next message other than a 100 Trying."""
        loop = asyncio.get_running_loop()
        while True:
            msg = parse_datagram(await asyncio.wait_for(loop.sock_recv(self.sock, 65536), 5))
            if not (isinstance(msg, SipResponse) and msg.status == 100):
                return msg

    async def call(self) -> None:
        """INVITE, 200 OK, ACK."""
        await self.send(self.request("INVITE", 1, SDP.format(rtp=self.rtp.getsockname()[1])))
        ok = await self.receive()
        assert isinstance(ok, SipResponse) and ok.status == 200, ok
        self.to_tag = ok.to_addr.tag or ""
        await self.send(self.request("ACK", 1))

    def close(self) -> None:
        self.sock.close()
        self.rtp.close()


@asynccontextmanager
async def sip_server(
    tmp_path: Path, *replies: list[BotMessage]
) -> AsyncIterator[tuple[SipServer, CallLifecycle, CallStore, Phone]]:
    store = CallStore(tmp_path / "calls.sqlite")
    await store.open()
    fakes = Fakes(settings=settings(), rasa=FakeRasa(*replies))
    fakes.store = store  # type: ignore[assignment]
    calls = CallLifecycle(fakes.settings, Counter())
    calls.services = fakes.services()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = SipServer(SipSettings(port=port, transports="udp", ring_ms=0), calls)
    await server.start()
    phone = Phone(port)
    try:
        yield server, calls, store, phone
    finally:
        phone.close()
        await server.stop()
        await store.close()
        fakes.pool.shutdown(wait=False)


async def end_reason(store: CallStore) -> str | None:
    record = await store.find_call("end1@127.0.0.1")  # the SIP Call-ID
    return None if record is None else record.end_reason


def test_a_caller_bye_ends_the_call_once(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with sip_server(tmp_path) as (server, calls, store, phone):
            await phone.call()
            await until(lambda: len(calls) == 1 and server.calls.answered != {})
            await phone.send(phone.request("BYE", 2))
            answer = await phone.receive()
            assert isinstance(answer, SipResponse) and answer.status == 200
            await until(lambda: len(calls) == 0 and not server.calls.answered)
            assert await end_reason(store) == "hangup"
            assert calls.metrics["calls_started"] == calls.metrics["calls_ended"] == 1

    asyncio.run(scenario())


def test_the_bot_hangs_up_with_a_bye_after_the_record_is_closed(tmp_path: Path) -> None:
    bye = [BotMessage(text="Auf Wiederhören.", custom={"hangup": True})]

    async def scenario() -> None:
        async with sip_server(tmp_path, bye) as (server, calls, store, phone):
            await phone.call()
            request = await phone.receive()
            assert isinstance(request, SipRequest) and request.method == "BYE"
            # read at once: the BYE left after the record was final and the slot free
            assert await end_reason(store) == "bot_hangup"
            assert len(calls) == 0 and not server.calls.answered
            assert calls.metrics["calls_ended"] == 1

    asyncio.run(scenario())
