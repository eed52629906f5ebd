"""A SIP test caller for `voicebot bench --accuracy`: G.711 A-law over RTP, with packet loss.

One call per clip over UDP: INVITE offering only PCMA (payload type 8), ACK the 200, wait for
the greeting, send the question as 20 ms RTP packets paced at real time (the lost packets of
the `loss` condition are not sent at all, so the gateway sees sequence gaps, as on a real
line), listen until the bot has answered and fallen quiet, BYE. The call record is then read
from the API by the SIP Call-ID (the platform id of the call).
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, cast

import aiohttp
import numpy as np

from voicebot.accuracy import CallFn, EvalClip, lost_frames
from voicebot.audio.resample import Pcm16
from voicebot.caller import fetch_record
from voicebot.protocol.g711 import alaw_decode, alaw_encode

PCMA = 8
FRAME = 160  # samples of a 20 ms packet at 8 kHz
VOICED = 500
QUIET_S = 1.5


@dataclass
class _Rtp(asyncio.DatagramProtocol):
    """Collects the bot's RTP audio: when voiced packets arrived last."""

    started: float = field(default_factory=time.monotonic)
    last_voiced: float = -1.0
    packets: int = 0

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        if len(data) < 12 or data[1] & 0x7F != PCMA:
            return
        self.packets += 1
        pcm = alaw_decode(data[12:])
        if pcm.size and int(np.max(np.abs(pcm.astype(np.int32)))) > VOICED:
            self.last_voiced = time.monotonic()


@dataclass
class _Sip(asyncio.DatagramProtocol):
    """The caller's SIP socket: responses by CSeq method, requests from the gateway answered."""

    transport: asyncio.DatagramTransport | None = None
    responses: asyncio.Queue[str] = field(default_factory=asyncio.Queue)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        text = data.decode("utf-8", "replace")
        if text.startswith("SIP/2.0"):
            self.responses.put_nowait(text)
        elif self.transport is not None and not text.startswith("ACK"):
            # a BYE or re-INVITE from the gateway: 200 OK with its headers (no body)
            head = [
                ln
                for ln in text.split("\r\n")
                if ln.split(":")[0].lower() in ("via", "from", "to", "call-id", "cseq")
            ]
            reply = "\r\n".join(["SIP/2.0 200 OK", *head, "Content-Length: 0", "", ""])
            self.transport.sendto(reply.encode(), addr)


def _header(message: str, name: str) -> str:
    for line in message.split("\r\n"):
        key, _, value = line.partition(":")
        if key.strip().lower() == name.lower():
            return value.strip()
    return ""


def _sdp_port(message: str) -> int:
    for line in message.split("\r\n"):
        if line.startswith("m=audio "):
            return int(line.split()[1])
    raise RuntimeError("the 200 OK has no audio in its SDP")


class SipCaller:
    """Calls sip:bot@host:port from loopback; one INVITE dialogue per `call`."""

    def __init__(self, host: str, port: int, http_url: str, token: str) -> None:
        self.host, self.port, self.http_url, self.token = host, port, http_url, token

    def _request(self, method: str, cseq: int, call: dict[str, str], body: str = "") -> bytes:
        to_tag = f";tag={call['to_tag']}" if call.get("to_tag") else ""
        lines = [
            f"{method} sip:bot@{self.host}:{self.port} SIP/2.0",
            f"Via: SIP/2.0/UDP 127.0.0.1:{call['sip_port']};branch=z9hG4bK{uuid.uuid4().hex[:16]}",
            f"From: <sip:+4921400000000@127.0.0.1:{call['sip_port']}>;tag={call['tag']}",
            f"To: <sip:bot@{self.host}:{self.port}>{to_tag}",
            f"Call-ID: {call['call_id']}",
            f"CSeq: {cseq} {method}",
            f"Contact: <sip:caller@127.0.0.1:{call['sip_port']}>",
            "Max-Forwards: 70",
        ]
        if body:
            lines.append("Content-Type: application/sdp")
        lines += [f"Content-Length: {len(body.encode())}", "", body]
        return "\r\n".join(lines).encode()

    async def _final(self, sip: _Sip, method: str, timeout: float = 15.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise asyncio.TimeoutError(f"no final answer to the {method}")
            msg = await asyncio.wait_for(sip.responses.get(), left)
            code = int(msg.split()[1])
            if _header(msg, "CSeq").endswith(method) and code >= 200:
                if code >= 300:
                    raise RuntimeError(f"the {method} was refused: {msg.splitlines()[0]}")
                return msg

    async def call(self, clip: EvalClip, pcm: Pcm16, seed: int, loss: bool) -> dict[str, Any]:
        """One call with the clip's audio; returns the call record."""
        loop = asyncio.get_running_loop()
        sip_t, sip = await loop.create_datagram_endpoint(_Sip, local_addr=("127.0.0.1", 0))
        rtp_t, rtp = await loop.create_datagram_endpoint(_Rtp, local_addr=("127.0.0.1", 0))
        call = {
            "sip_port": str(sip_t.get_extra_info("sockname")[1]),
            "tag": uuid.uuid4().hex[:10],
            "call_id": f"acc-{uuid.uuid4().hex}@127.0.0.1",
        }
        rtp_port = rtp_t.get_extra_info("sockname")[1]
        sdp = "\r\n".join(
            [
                "v=0",
                "o=caller 1 1 IN IP4 127.0.0.1",
                "s=-",
                "c=IN IP4 127.0.0.1",
                "t=0 0",
                f"m=audio {rtp_port} RTP/AVP {PCMA}",
                f"a=rtpmap:{PCMA} PCMA/8000",
                "a=ptime:20",
                "",
            ]
        )
        try:
            sip_t.sendto(self._request("INVITE", 1, call, sdp), (self.host, self.port))
            ok = await self._final(sip, "INVITE")
            call["to_tag"] = _header(ok, "To").partition("tag=")[2].split(";")[0]
            sip_t.sendto(self._request("ACK", 1, call), (self.host, self.port))
            dest = (self.host, _sdp_port(ok))
            await self._send_audio(
                rtp_t, rtp, dest, pcm, set(lost_frames(pcm, seed)) if loss else set()
            )
            sip_t.sendto(self._request("BYE", 2, call), (self.host, self.port))
            with contextlib.suppress(asyncio.TimeoutError, RuntimeError):
                await self._final(sip, "BYE", 5.0)
        finally:
            sip_t.close()
            rtp_t.close()
        async with aiohttp.ClientSession() as http:
            ws_like = self.http_url.replace("http", "ws", 1)
            record = await fetch_record(http, ws_like, call["call_id"], self.token, 30.0)
        if record is None:
            raise RuntimeError(f"no call record for {call['call_id']}")
        return record

    async def _send_audio(
        self,
        rtp_t: asyncio.DatagramTransport,
        rtp: _Rtp,
        dest: tuple[str, int],
        pcm: Pcm16,
        lost: set[int],
    ) -> None:
        """Silence until the greeting ends, the clip (minus lost packets), silence until the
        bot has answered and fallen quiet; 20 ms packets at real time, one SSRC."""
        seq, ts, n_sent = 1, 0, 0
        silence = alaw_encode(np.zeros(FRAME, dtype=np.int16))
        start = time.monotonic()

        def send(payload: bytes | None) -> None:
            nonlocal seq, ts, n_sent
            if payload is not None:
                header = struct.pack("!BBHII", 0x80, PCMA, seq & 0xFFFF, ts, 0x0ACC0001)
                rtp_t.sendto(header + payload, dest)
            seq, ts, n_sent = seq + 1, ts + FRAME, n_sent + 1

        async def pace() -> None:
            await asyncio.sleep(max(0.0, start + n_sent * 0.02 - time.monotonic()))

        async def until_quiet(since: float, quiet: float, limit: float) -> None:
            deadline = time.monotonic() + limit
            while time.monotonic() < deadline:
                heard = rtp.last_voiced > since
                if heard and time.monotonic() - rtp.last_voiced >= quiet:
                    return
                send(silence)
                await pace()

        # RTP has no marks: the greeting has ended when the bot was quiet for a while (its
        # sentence gaps are shorter), the answer likewise
        await until_quiet(start, QUIET_S, 40.0)  # the greeting
        for n in range(len(pcm) // FRAME):
            frame = pcm[n * FRAME : (n + 1) * FRAME]
            send(None if n in lost else alaw_encode(frame))
            await pace()
        await until_quiet(time.monotonic(), QUIET_S, 40.0)  # the answer


def sip_caller(host: str, port: int, http_url: str, token: str, loss: bool) -> CallFn:
    """A CallFn over SIP/RTP (A-law); `loss` drops the condition's packets instead of zeroing."""
    caller = SipCaller(host, port, http_url, token)

    async def call(clip: EvalClip, pcm: Pcm16, seed: int) -> dict[str, Any] | None:
        return await caller.call(clip, pcm, seed, loss)

    return call
