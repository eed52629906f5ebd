"""One call's RTP: a UDP endpoint from the port range, jitter buffer, DTMF, the outgoing stream.

Incoming packets are checked (`parse_rtp`, the payload bound), bad ones dropped and counted.
Only the signalled peer is heard: a packet must come from the SDP's c= address and m= port;
with `latching` (`[sip] rtp_symmetric_latching`) another port of that same address is accepted
too, the first one latched for good. Anything else, and anything before the SDP, is ignored and
counted (`rtp_wrong_source`). A 20 ms
ticker plays the jitter buffer into the pipeline (a lost packet becomes 20 ms of silence, and
so does every tick once the peer stopped sending, e.g. silence suppression, so that endpointing
still sees the pause) and watches for RTP silence (no packets at all: the call is abandoned).
Outgoing audio is already paced by the pipeline: `send_frame` packetizes one 20 ms frame, and a
pause in the bot's speech starts a new talk-spurt (marker).
The call's audio rate (`sample_rate`) is its first codec's: 16 kHz with G.722, else 8 kHz; the
RTP clock is 8000 Hz for all of them (RFC 3551), so 20 ms are always 160 timestamp units.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import ipaddress
import logging
import random
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import numpy as np

from voicebot.audio.resample import Pcm16
from voicebot.errors import ProtocolError
from voicebot.protocol.dtmf import DtmfReceiver
from voicebot.protocol.rtp import JitterBuffer, RtpPacketizer, max_payload, parse_rtp
from voicebot.protocol.sdp import Negotiated
from voicebot.transports.sip.codec import MediaCodec
from voicebot.transports.sip.srtp import SrtpError, SrtpStreams, is_rtcp

log = logging.getLogger(__name__)

SAMPLE_RATE = 8000  # G.711; a G.722 call runs at 16000
FRAME_SAMPLES = 160  # 20 ms in RTP timestamp units (8000 Hz clock, G.722 included)
TICK_S = 0.02
DC_TRACKING = 0.05  # per 20 ms frame: the DC estimate settles within about half a second
DTX_AFTER_S = 0.1  # no audio packet this long: the peer is silent, not late
Address = tuple[str, int]


@dataclass
class RtpCallbacks:
    """What the endpoint reports to its call."""

    audio: Callable[[Pcm16], Awaitable[None]]  # 20 ms of caller audio, in order
    dtmf: Callable[[str], None]
    silence_timeout: Callable[[], None]


class _Protocol(asyncio.DatagramProtocol):
    """Hands datagrams to the endpoint."""

    def __init__(self, endpoint: RtpEndpoint) -> None:
        self.endpoint = endpoint

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.endpoint.receive(data, (addr[0], addr[1]))

    def error_received(self, exc: Exception) -> None:
        log.debug("RTP socket error: %s", exc)


class RtpEndpoint:
    """The media side of one call; `negotiate` (re)sets codec and peer from the SDP exchange."""

    def __init__(
        self, port: int, metrics: Counter[str], timeout_s: float, *, latching: bool = False
    ) -> None:
        self.port = port
        self.latching = latching
        self.metrics = metrics
        self.timeout_s = timeout_s
        self.transport: asyncio.DatagramTransport | None = None
        self.negotiated: Negotiated | None = None
        self.srtp: SrtpStreams | None = None  # set by the SDES answer (SipCall): SRTP only
        self.sample_rate = SAMPLE_RATE  # the pipeline's: set by the first negotiation
        self._codec: MediaCodec | None = None
        self.callbacks: RtpCallbacks | None = None
        self.source: Address | None = None
        self.received = 0
        self.sent = 0
        self._jitter = JitterBuffer(depth=3)
        self._dtmf = DtmfReceiver()
        self._packetizer: RtpPacketizer | None = None
        self._queue: asyncio.Queue[Pcm16] = asyncio.Queue(maxsize=200)
        self._tasks: list[asyncio.Task[None]] = []
        self._last_rx = self._last_audio = 0.0
        self._dc = 0.0  # running mean of the caller's audio (DC offset), removed on decode
        self._last_tx: float | None = None
        self._spurt_ended = False
        self._timed_out = False

    # ---- set-up ----------------------------------------------------------------------------
    def negotiate(self, negotiated: Negotiated) -> None:
        """Applies an SDP answer; a new codec restarts the outgoing stream's payload type."""
        old = self.negotiated
        self.negotiated = negotiated
        if old is None:
            self.sample_rate = negotiated.sample_rate
        self._dtmf.payload_type = negotiated.dtmf_payload_type
        if self._packetizer is None:
            self._packetizer = RtpPacketizer(negotiated.payload_type)
        else:
            self._packetizer.payload_type = negotiated.payload_type
        if old is not None and (old.remote_address, old.remote_port) != (
            negotiated.remote_address,
            negotiated.remote_port,
        ):
            self.source = None  # the peer moved: latch again
        self._last_rx = asyncio.get_running_loop().time()  # hold/resume restarts the watch

    def start(self, callbacks: RtpCallbacks) -> None:
        """Starts playing received audio into the call and watching for RTP silence."""
        self.callbacks = callbacks
        self._last_rx = asyncio.get_running_loop().time()
        self._tasks = [
            asyncio.create_task(self._tick(), name=f"rtp-tick-{self.port}"),
            asyncio.create_task(self._feed(), name=f"rtp-feed-{self.port}"),
        ]

    async def close(self) -> None:
        """Stops the tasks and frees the port."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []
        if self.transport is not None:
            self.transport.close()
            self.transport = None

    # ---- receiving -------------------------------------------------------------------------
    def receive(self, data: bytes, addr: Address) -> None:
        """One datagram: check, latch or filter the source, then buffer audio or take DTMF."""
        if self.srtp is not None:  # authenticated before anything else (and before latching)
            plain = self._unprotect(self.srtp, data)
            if plain is None:
                return
            data = plain
        try:
            packet = parse_rtp(data)
        except ProtocolError as exc:
            self.metrics["rtp_bad_packets"] += 1
            log.debug("RTP from %s dropped: %s", addr, exc.reason)
            return
        neg = self.negotiated
        if neg is None or not self._from_peer(neg, addr):
            self.metrics["rtp_wrong_source"] += 1
            return
        if len(packet.payload) > max_payload(neg.ptime):
            self.metrics["rtp_oversized"] += 1
            return
        self._last_rx = asyncio.get_running_loop().time()
        if packet.payload_type == neg.payload_type:
            self.received += 1
            self._last_audio = self._last_rx
            self._jitter.put(packet)
        elif neg.dtmf_payload_type is not None and packet.payload_type == neg.dtmf_payload_type:
            try:
                digit = self._dtmf.feed(packet)
            except ProtocolError:
                self.metrics["rtp_bad_packets"] += 1
                return
            if digit is not None and self.callbacks is not None:
                self.metrics["dtmf_digits"] += 1
                self.callbacks.dtmf(digit.digit)
        elif packet.payload_type in (13, 19):  # comfort noise: silence, nothing to play
            return
        else:
            self.metrics["rtp_unknown_payload_type"] += 1

    def _unprotect(self, srtp: SrtpStreams, data: bytes) -> bytes | None:
        """SRTP to RTP; None for SRTCP (rtcp-mux: checked, not used) and for a packet that is
        not authentic or replayed (`srtp_rejected`: plain RTP on an SRTP call lands here)."""
        try:
            if is_rtcp(data):
                srtp.unprotect_rtcp(data)
                return None
            return srtp.unprotect(data)
        except SrtpError:
            self.metrics["srtp_rejected"] += 1
            return None

    def _from_peer(self, neg: Negotiated, addr: Address) -> bool:
        """Whether a packet's source is the signalled peer (the SDP address, see the module)."""
        if neg.remote_address is None or _normal(addr[0]) != neg.remote_address:
            return False
        if addr[1] == neg.remote_port or addr == self.source:
            return True
        if self.latching and self.source is None:
            self.source = addr  # an asymmetric sender: its first port on the signalled host
            return True
        return False

    def _decode(self, payload: bytes) -> Pcm16:
        """Payload to PCM without DC: A-law's idle pattern decodes to +8, not 0, and a constant
        offset keeps the VAD from ever hearing speech after a quiet start (seen with baresip)."""
        pcm = self._media_codec().decode(payload).astype(np.int32)
        if len(pcm):
            self._dc += DC_TRACKING * (float(pcm.mean()) - self._dc)
            pcm -= int(round(self._dc))
        return np.clip(pcm, -32768, 32767).astype(np.int16)

    def _media_codec(self) -> MediaCodec:
        """The negotiated codec's coder; a new one (fresh state) when the codec changed."""
        assert self.negotiated is not None
        if self._codec is None or self._codec.codec != self.negotiated.codec:
            self._codec = MediaCodec(self.negotiated.codec, self.sample_rate)
        return self._codec

    async def _tick(self) -> None:
        """Every 20 ms: take one packet from the jitter buffer; watch for RTP silence."""
        loop = asyncio.get_running_loop()
        next_at = started = loop.time()
        while True:
            next_at += TICK_S
            await asyncio.sleep(max(0.0, next_at - loop.time()))
            if loop.time() - next_at > 0.2:
                next_at = loop.time()  # the loop stalled: do not catch up in a burst
            lost = self._jitter.lost
            packet = self._jitter.get()
            if packet is not None:
                self._enqueue(self._decode(packet.payload))
            elif self._jitter.lost > lost or (
                loop.time() - (self._last_audio if self.received else started) > DTX_AFTER_S
            ):  # a lost packet, a peer that stops sending in pauses (DTX) or has not started
                # yet: silence, so that endpointing goes on and the call's audio clock keeps
                # wall-clock time (turn timestamps are stream time)
                self._enqueue(np.zeros(self.sample_rate // 50, dtype=np.int16))
            neg = self.negotiated
            watching = neg is not None and neg.receive and neg.remote_port > 0
            idle = loop.time() - self._last_rx
            if watching and idle > self.timeout_s and not self._timed_out:
                self._timed_out = True
                self.metrics["rtp_timeouts"] += 1
                if self.callbacks is not None:
                    self.callbacks.silence_timeout()

    def _enqueue(self, pcm: Pcm16) -> None:
        try:
            self._queue.put_nowait(pcm)
        except asyncio.QueueFull:
            self.metrics["rtp_frames_dropped"] += 1  # the pipeline fell far behind

    async def _feed(self) -> None:
        """Feeds the call's pipeline in order; a slow VAD never stalls the ticker."""
        while True:
            pcm = await self._queue.get()
            if self.callbacks is not None:
                await self.callbacks.audio(pcm)

    # ---- sending ---------------------------------------------------------------------------
    def send_frame(self, frame: Pcm16) -> None:
        """Packetizes one paced 20 ms frame; after a pause the packet starts a talk-spurt."""
        neg, pkt, transport = self.negotiated, self._packetizer, self.transport
        if neg is None or pkt is None or transport is None:
            return
        now = asyncio.get_running_loop().time()
        if self._last_tx is not None and (self._spurt_ended or now - self._last_tx > 0.06):
            gap = max(0.0, now - self._last_tx - TICK_S)
            pkt.silence(int(round(gap * 50)) * FRAME_SAMPLES)  # clock runs on during silence
        self._spurt_ended = False
        self._last_tx = now
        payload = self._media_codec().encode(frame)
        packet = pkt.audio(payload, FRAME_SAMPLES)
        if not neg.send or neg.remote_address is None:
            return  # on hold: the clock runs on, nothing leaves
        data = packet.to_bytes()
        if self.srtp is not None:
            try:
                data = self.srtp.protect(data)
            except SrtpError:
                self.metrics["srtp_protect_failed"] += 1
                return
        transport.sendto(data, (neg.remote_address, neg.remote_port))
        self.sent += 1

    def end_talk_spurt(self) -> None:
        """The bot finished an utterance: its next frame carries the marker."""
        self._spurt_ended = True


def _normal(host: str) -> str:
    """A socket's source address in the compressed form `media_address` gives the SDP's."""
    try:
        return ipaddress.ip_address(host.split("%")[0]).compressed
    except ValueError:
        return host


class PortAllocator:
    """Hands out even RTP ports from a range in random order (not guessable), skipping ports
    in use; binds them to the media address only."""

    def __init__(self, host: str, low: int, high: int, *, latching: bool = False) -> None:
        if low > high or low < 1024 or high > 65535:
            raise ValueError(f"bad RTP port range {low}-{high}")
        self.host, self.low, self.high = host, low + (low % 2), high
        self.latching = latching
        self._random = random.SystemRandom()

    async def open(self, metrics: Counter[str], timeout_s: float) -> RtpEndpoint:
        """Binds a random free even port of the range; OSError when all are taken."""
        loop = asyncio.get_running_loop()
        ports = list(range(self.low, self.high + 1, 2))
        self._random.shuffle(ports)
        for port in ports:
            endpoint = RtpEndpoint(port, metrics, timeout_s, latching=self.latching)
            try:
                transport, _ = await loop.create_datagram_endpoint(
                    functools.partial(_Protocol, endpoint), local_addr=(self.host, port)
                )
            except OSError:
                continue
            endpoint.transport = transport
            return endpoint
        raise OSError(f"no free RTP port in {self.low}-{self.high}")
