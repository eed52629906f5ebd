"""Twilio Media Streams over an aiohttp WebSocket: wire <-> the call's session.

Malformed input closes that one connection with the protocol's close code and a logged
reason; nothing is raised into the server, so other calls are unaffected. The call itself is
admitted, started and ended by the `CallLifecycle`; the stream closes only after the call's
record is final, so a platform that reads the record on close reads a closed one.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Awaitable, Callable

import aiohttp
from aiohttp import web

from voicebot.audio.resample import Pcm16
from voicebot.config import Settings
from voicebot.errors import ProtocolError
from voicebot.lifecycle import CallLifecycle, LiveCall, new_call_id
from voicebot.number_plan import call_entry
from voicebot.pipeline.call import CallInfo
from voicebot.protocol.g711 import ulaw_decode, ulaw_encode
from voicebot.protocol.media import twilio
from voicebot.protocol.media.pacing import MediaPacer
from voicebot.transports import media_auth

log = logging.getLogger(__name__)

CLOSE_TRY_AGAIN_LATER = 1013  # overload or models still loading
TransferHook = Callable[[str, str], Awaitable[bool]]
Handler = Callable[[web.Request], Awaitable[web.WebSocketResponse]]


class TwilioSink:
    """Sends bot audio, marks and clear messages to the far end of one stream."""

    sample_rate = twilio.SAMPLE_RATE

    def __init__(
        self,
        ws: web.WebSocketResponse,
        stream_sid: str,
        transfer_hook: TransferHook | None = None,
    ) -> None:
        self._ws = ws
        self._sid = stream_sid
        self._transfer_hook = transfer_hook
        self.closed_reason: str | None = None

    @property
    def on_hold(self) -> bool:
        """Media Streams do not signal hold: the caller is never on hold here."""
        return False

    async def send_audio(self, frame: Pcm16) -> None:
        """One 20 ms u-law media message."""
        if not self._ws.closed:
            await self._ws.send_str(twilio.media_message(self._sid, ulaw_encode(frame)))

    async def send_mark(self, name: str) -> None:
        """A mark after each bot utterance; Twilio echoes it once played."""
        if not self._ws.closed:
            await self._ws.send_str(twilio.mark_message(self._sid, name))

    async def clear(self) -> None:
        """Drops audio Twilio has buffered (barge-in)."""
        if not self._ws.closed:
            await self._ws.send_str(twilio.clear_message(self._sid))

    async def transfer(self, target: str, handoff_id: str) -> bool:
        """POSTs the signed transfer request to the configured hook (none: the platform's own)."""
        if self._transfer_hook is None:
            return True
        return await self._transfer_hook(target, handoff_id)

    async def close(self, reason: str) -> None:
        """The bot ends the call with `reason`: remembered for the close frame, which is sent
        by `hang_up` once the lifecycle has closed the call's record."""
        self.closed_reason = reason

    async def hang_up(self, reason: str) -> None:
        """Ends the stream; the telephony platform continues (e.g. its transfer TwiML)."""
        if not self._ws.closed:
            message = (self.closed_reason or reason).encode()[:120]
            await self._ws.close(code=aiohttp.WSCloseCode.OK, message=message)


class StreamGate:
    """What one gateway's media endpoint allows: credentials, and sockets still without a call
    (each counts against `max_calls` like a ringing call, and at most `max_pending` of them)."""

    def __init__(self, calls: CallLifecycle, settings: Settings) -> None:
        self.calls = calls
        self.settings = settings
        self.pending = 0

    def check_upgrade(self, request: web.Request) -> bool:
        """Raises 401 for an upgrade without valid credentials; returns whether the `start`
        must still prove itself (a Twilio-signed request whose signature cannot be checked
        here, for `customParameters.token`)."""
        if not media_auth.auth_required(self.settings) or media_auth.upgrade_authorised(
            request, self.settings
        ):
            return False
        signed = "X-Twilio-Signature" in request.headers
        if signed and not self.settings.media.twilio_auth_token and self.settings.media.token:
            return True
        self.calls.metrics["media_auth_refused"] += 1
        log.warning("refusing media stream from %s: no valid credentials", request.remote)
        raise web.HTTPUnauthorized(
            text="media stream refused: missing or wrong credentials",
            headers={"WWW-Authenticate": 'Bearer realm="voicebot-media"'},
        )

    def refusal(self) -> str | None:
        """Why one more socket cannot wait for its `start` now, or None."""
        if self.pending >= self.settings.media.max_pending:
            self.calls.metrics["calls_refused"] += 1
            return f"too many streams waiting for start (max {self.settings.media.max_pending})"
        return self.calls.refusal(ringing=self.pending)


def twilio_stream_handler(calls: CallLifecycle, settings: Settings) -> Handler:
    """The handler of GET /media/twilio for one gateway's calls; raises ConfigError for
    `media_auth = "none"` off loopback."""
    media_auth.check_media_auth(settings)
    gate = StreamGate(calls, settings)

    async def handler(request: web.Request) -> web.WebSocketResponse:
        return await handle_twilio_stream(request, gate)

    return handler


async def handle_twilio_stream(request: web.Request, gate: StreamGate) -> web.WebSocketResponse:
    """GET /media/twilio: one bidirectional Twilio media stream."""
    settings = gate.settings
    needs_start_token = gate.check_upgrade(request)  # 401 before the upgrade
    ws = web.WebSocketResponse(heartbeat=30, max_msg_size=settings.media.max_message_bytes)
    await ws.prepare(request)
    peer = request.remote
    refusal = gate.refusal()
    if refusal is not None:
        log.warning("refusing media stream from %s: %s", peer, refusal)
        await ws.close(code=CLOSE_TRY_AGAIN_LATER, message=refusal.encode())
        return ws
    stream = _Stream(gate, ws, needs_start_token)
    gate.pending += 1
    try:
        await stream.run(peer)
    finally:
        if not stream.started:
            gate.pending -= 1
    return ws


class _Stream:
    """One stream's receive loop: start (within the timeout, authorised, admitted), then media."""

    def __init__(self, gate: StreamGate, ws: web.WebSocketResponse, needs_token: bool) -> None:
        self.gate = gate
        self.ws = ws
        self.needs_token = needs_token
        self.started = False
        self.protocol = twilio.TwilioSession()
        self.pacer = MediaPacer(twilio.SAMPLE_RATE, gate.settings.media.burst_ms)
        self.call: LiveCall | None = None

    async def _next(self, deadline: float) -> aiohttp.WSMessage:
        """The next frame; before the call starts, only until the start deadline."""
        if self.call is not None:
            return await self.ws.receive()
        try:
            return await self.ws.receive(timeout=max(deadline - time.monotonic(), 0.001))
        except asyncio.TimeoutError:
            timeout = self.gate.settings.media.start_timeout_s
            raise twilio_fail(f"no start within {timeout:g} s") from None

    async def run(self, peer: str | None) -> None:
        """Receives until the stream ends; ends the call and closes the socket whatever fails."""
        calls, ws = self.gate.calls, self.ws
        end_reason = "hangup"
        close: tuple[int, bytes] | None = None  # the close frame for a protocol error
        deadline = time.monotonic() + self.gate.settings.media.start_timeout_s
        try:
            while True:
                msg = await self._next(deadline)
                if msg.type == aiohttp.WSMsgType.ERROR:
                    calls.metrics["protocol_errors"] += 1
                    log.warning("media stream from %s failed: %s", peer, msg.data)
                    end_reason = "protocol_error"
                    break
                if msg.type not in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
                    break
                if not await self._handle(self.protocol.receive(msg.data)):
                    break
        except ProtocolError as exc:
            log.warning("closing media stream from %s: %s (code %d)", peer, exc.reason, exc.status)
            calls.metrics["protocol_errors"] += 1
            end_reason = "protocol_error"
            close = (exc.status, exc.reason.encode()[:120])
        except Exception:  # noqa: BLE001 - one broken call must not reach the server; logged
            log.exception("media stream from %s failed", peer)
            calls.metrics["transport_errors"] += 1
            end_reason = "error"
        finally:
            if self.call is not None:
                await self.call.end(end_reason)  # the record is final before the close
            if not ws.closed:
                await (ws.close(code=close[0], message=close[1]) if close else ws.close())

    async def _handle(self, event: twilio.TwilioEvent) -> bool:
        """Acts on one event; False once the stream is over."""
        call = self.call
        if isinstance(event, twilio.Start):
            await self._start(event)
        elif call is None:
            pass  # `connected` before `start`
        elif isinstance(event, twilio.Media):
            self.pacer.arrive(len(event.payload), time.monotonic())
            if event.track in ("inbound", "inbound_track"):
                await call.session.feed_audio(ulaw_decode(event.payload))
        elif isinstance(event, twilio.Dtmf):
            call.session.feed_dtmf(event.digit)
        elif isinstance(event, twilio.Stop):
            return False
        return True

    async def _start(self, start: twilio.Start) -> None:
        """Checks the start's token (first), admission, then starts the call."""
        settings = self.gate.settings
        if self.needs_token and not media_auth.start_authorised(start.custom_parameters, settings):
            self.gate.calls.metrics["media_auth_refused"] += 1
            raise twilio_fail("start: missing or wrong token")
        why = self.gate.calls.refusal()  # a stream with its start goes before idle ones
        if why is not None:
            raise ProtocolError(why, CLOSE_TRY_AGAIN_LATER)
        self.gate.pending -= 1
        self.started = True
        self.call = await _start_call(self.gate.calls, settings, self.ws, start)


def twilio_fail(reason: str) -> ProtocolError:
    """A policy violation (1008) on a media stream."""
    return ProtocolError(f"Twilio media stream: {reason}", twilio.CLOSE_POLICY_VIOLATION)


async def _start_call(
    calls: CallLifecycle, settings: Settings, ws: web.WebSocketResponse, start: twilio.Start
) -> LiveCall:
    """Starts the call from the stream's start message."""
    params = {
        k: v for k, v in start.custom_parameters.items() if k != media_auth.START_TOKEN_PARAMETER
    }
    dialled = (params.get("to") or params.get("called") or "")[:64] or None
    plan = settings.numbers.plan
    language, topic = call_entry(
        plan, dialled, settings.language, params.get("language"), params.get("topic")
    )
    info = CallInfo(
        call_id=new_call_id("twilio"),  # ours; Twilio's callSid is kept as platform_id
        platform_id=start.call_sid,
        transport="twilio",
        language=language,
        caller=params.get("caller") or params.get("from") or None,
        stream_id=start.stream_sid,
        dialled=dialled,
        topic=topic,
    )
    hook: TransferHook | None = None
    handoffs = calls.services.handoff if calls.services is not None else None
    if handoffs is not None:
        hook = functools.partial(
            handoffs.request_transfer, call_id=info.call_id, stream_id=info.stream_id
        )
    sink = TwilioSink(ws, start.stream_sid, hook)
    call = await calls.start(info, sink, sink.hang_up)
    log.info(
        "call %s started (Twilio call %s, stream %s, caller %s)",
        info.call_id,
        info.platform_id,
        info.stream_id,
        info.caller,
    )
    return call
