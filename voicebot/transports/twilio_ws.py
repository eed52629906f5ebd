"""Twilio Media Streams over an aiohttp WebSocket: wire <-> the call's session.

Malformed input closes that one connection with the protocol's close code and a logged
reason; nothing is raised into the server, so other calls are unaffected. The call itself is
admitted, started and ended by the `CallLifecycle`; the stream closes only after the call's
record is final, so a platform that reads the record on close reads a closed one.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable

import aiohttp
from aiohttp import web

from voicebot.audio.resample import Pcm16
from voicebot.config import Settings
from voicebot.errors import ProtocolError
from voicebot.lifecycle import CallLifecycle, LiveCall
from voicebot.pipeline.call import CallInfo
from voicebot.protocol.g711 import ulaw_decode, ulaw_encode
from voicebot.protocol.media import twilio

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


def twilio_stream_handler(calls: CallLifecycle, settings: Settings) -> Handler:
    """The handler of GET /media/twilio for one gateway's calls."""

    async def handler(request: web.Request) -> web.WebSocketResponse:
        return await handle_twilio_stream(request, calls, settings)

    return handler


async def handle_twilio_stream(
    request: web.Request, calls: CallLifecycle, settings: Settings
) -> web.WebSocketResponse:
    """GET /media/twilio: one bidirectional Twilio media stream."""
    ws = web.WebSocketResponse(heartbeat=30, max_msg_size=256 * 1024)
    await ws.prepare(request)
    peer = request.remote
    refusal = calls.refusal()
    if refusal is not None:
        log.warning("refusing media stream from %s: %s", peer, refusal)
        await ws.close(code=CLOSE_TRY_AGAIN_LATER, message=refusal.encode())
        return ws
    protocol = twilio.TwilioSession()
    call: LiveCall | None = None
    end_reason = "hangup"
    close: tuple[int, bytes] | None = None  # the close frame for a protocol error
    try:
        async for msg in ws:
            if msg.type not in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
                break
            event = protocol.receive(msg.data)
            if isinstance(event, twilio.Start):
                call = await _start_call(calls, settings, ws, event)
            elif call is None:
                continue  # `connected` before `start`
            elif isinstance(event, twilio.Media):
                if event.track in ("inbound", "inbound_track"):
                    await call.session.feed_audio(ulaw_decode(event.payload))
            elif isinstance(event, twilio.Dtmf):
                call.session.feed_dtmf(event.digit)
            elif isinstance(event, twilio.Stop):
                break
    except ProtocolError as exc:
        log.warning("closing media stream from %s: %s (code %d)", peer, exc.reason, exc.status)
        calls.metrics["protocol_errors"] += 1
        end_reason = "protocol_error"
        close = (exc.status, exc.reason.encode()[:120])
    except Exception:  # noqa: BLE001 - one broken call must not reach the server; logged
        log.exception("media stream from %s failed", peer)
        end_reason = "error"
    finally:
        if call is not None:
            await call.end(end_reason)  # the record is final before the caller sees the close
        if not ws.closed:
            await (ws.close(code=close[0], message=close[1]) if close else ws.close())
    return ws


async def _start_call(
    calls: CallLifecycle, settings: Settings, ws: web.WebSocketResponse, start: twilio.Start
) -> LiveCall:
    """Starts the call from the stream's start message."""
    params = start.custom_parameters
    language = params.get("language", settings.language)
    if language not in ("de", "en"):
        language = settings.language
    info = CallInfo(
        call_id=start.call_sid,
        transport="twilio",
        language=language,
        caller=params.get("caller") or params.get("from") or None,
        stream_id=start.stream_sid,
    )
    hook: TransferHook | None = None
    handoffs = calls.services.handoff if calls.services is not None else None
    if handoffs is not None:
        hook = functools.partial(
            handoffs.request_transfer, call_id=info.call_id, stream_id=info.stream_id
        )
    sink = TwilioSink(ws, start.stream_sid, hook)
    call = await calls.start(info, sink, sink.hang_up)
    log.info("call %s started (stream %s, caller %s)", info.call_id, info.stream_id, info.caller)
    return call
