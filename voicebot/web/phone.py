"""The trainer's test phone: /agent/phone (page) and /agent/phone/ws (audio), trainer role.

A trainer talks to the bot from the browser through the same pipeline as a phone call: the
page (static/phone.js) takes the microphone with getUserMedia, an AudioWorklet
(static/phone-worklet.js) turns it into 8 kHz mono PCM16 (the telephone's rate, so the bot
hears what a caller's line carries) and sends 20 ms frames as binary WebSocket messages.
The bot's audio comes back the same way and is played; text messages carry the rest:

browser -> gateway: binary PCM16 LE 8 kHz; `{"type": "dtmf", "digit": "5"}`; `{"type": "hangup"}`
gateway -> browser: binary PCM16 LE 8 kHz; `{"type": "call", "call_id"}`; `{"type": "turn",
  "seq", "speaker", "text", "intent", "confidence", "asr_confidence", "dtmf"}`;
  `{"type": "slots", "slots"}`; `{"type": "clear"}`; `{"type": "transfer", "target"}`;
  `{"type": "ended", "reason"}`.

The WebSocket needs the console session of a trainer (cookie, same origin), never the API or
media token. The call counts against `max_calls` like any other (none free: close 1013) and
has the media stream's bounds: frames of at most `[media] max_message_bytes`, audio no faster
than real time beyond `burst_ms`. Its record has transport `browser`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from dataclasses import asdict
from typing import Any

import aiohttp
import numpy as np
from aiohttp import web

from voicebot.audio.resample import Pcm16
from voicebot.errors import ProtocolError
from voicebot.lifecycle import LiveCall, new_call_id
from voicebot.pipeline.call import CallInfo
from voicebot.pipeline.services import Services
from voicebot.protocol.media.pacing import MediaPacer
from voicebot.web import agent_auth as auth
from voicebot.web.console_render import render
from voicebot.web.keys import GATEWAY

log = logging.getLogger(__name__)
SAMPLE_RATE = 8000
POLL_S = 0.3  # how often the call's record is read for new turns
DIGITS = frozenset("0123456789*#")
CLOSE_TRY_AGAIN_LATER = 1013
CLOSE_POLICY = 1008


class BrowserSink:
    """The bot's side of a browser call: PCM16 frames and JSON events on the WebSocket."""

    sample_rate = SAMPLE_RATE

    def __init__(self, ws: web.WebSocketResponse) -> None:
        self._ws = ws
        self.closed_reason: str | None = None

    @property
    def on_hold(self) -> bool:
        """A browser call is never on hold."""
        return False

    async def send(self, message: dict[str, Any]) -> None:
        if not self._ws.closed:
            with contextlib.suppress(ConnectionError):
                await self._ws.send_str(json.dumps(message, ensure_ascii=False))

    async def send_audio(self, frame: Pcm16) -> None:
        """One 20 ms frame, little-endian PCM16."""
        if not self._ws.closed:
            with contextlib.suppress(ConnectionError):
                await self._ws.send_bytes(frame.astype("<i2").tobytes())

    async def send_mark(self, name: str) -> None:
        """The end of a bot utterance (the page needs no echo)."""
        await self.send({"type": "mark", "name": name})

    async def clear(self) -> None:
        """Barge-in: the page drops the audio it has queued."""
        await self.send({"type": "clear"})

    async def transfer(self, target: str, handoff_id: str) -> bool:
        """A handoff: the page shows where a phone call would have gone."""
        await self.send({"type": "transfer", "target": target, "handoff_id": handoff_id})
        return True

    async def close(self, reason: str) -> None:
        """The bot ends the call; the close follows in `hang_up`."""
        self.closed_reason = reason

    async def hang_up(self, reason: str) -> None:
        """Tells the page why the call ended and closes the socket."""
        await self.send({"type": "ended", "reason": self.closed_reason or reason})
        if not self._ws.closed:
            await self._ws.close(code=aiohttp.WSCloseCode.OK)


async def phone_page(request: web.Request) -> web.Response:
    """GET /agent/phone: the test phone (trainers)."""
    auth.require_role(request, "trainer")
    return render(request, "phone.html")


async def phone_redirect(_: web.Request) -> web.Response:
    """GET /phone: the test phone lives under /agent, where the console's session cookie is."""
    raise web.HTTPSeeOther("/agent/phone")


def _turn_message(turn: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "turn",
        "seq": turn["seq"],
        "started_at": turn.get("started_at"),
        "speaker": turn["speaker"],
        "text": turn["text"],
        "intent": turn.get("intent"),
        "confidence": turn.get("intent_confidence"),
        "asr_confidence": turn.get("asr_confidence"),
        "dtmf": turn.get("dtmf"),
    }


async def _follow(
    call: LiveCall, services: Services, sink: BrowserSink, ws: web.WebSocketResponse
) -> None:
    """Sends each turn once the record has it, and the slots after each caller turn."""
    sent: set[int] = set()
    while not ws.closed:
        record = await services.store.get_call(call.info.call_id)
        new = [] if record is None else [t for t in record.turns if t.seq not in sent]
        for turn in sorted(new, key=lambda t: t.seq):
            sent.add(turn.seq)
            await sink.send(_turn_message(asdict(turn)))
            if turn.speaker == "caller":
                try:
                    summary = await services.rasa.tracker(call.info.call_id)
                except Exception as exc:  # noqa: BLE001 - the slots are a nicety; logged
                    log.debug("test phone %s: no slots: %s", call.info.call_id, exc)
                else:
                    await sink.send({"type": "slots", "slots": summary.slots})
        await asyncio.sleep(POLL_S)


async def _receive(call: LiveCall, ws: web.WebSocketResponse, pacer: MediaPacer) -> None:
    """The page's audio and keys into the call, until it hangs up or the socket closes."""
    loop = asyncio.get_running_loop()
    async for msg in ws:
        if msg.type == aiohttp.WSMsgType.BINARY:
            data: bytes = msg.data
            if len(data) % 2:
                raise ProtocolError("odd number of PCM bytes", CLOSE_POLICY)
            pacer.arrive(len(data) // 2, loop.time())
            await call.session.feed_audio(np.frombuffer(data, dtype="<i2").astype(np.int16))
        elif msg.type == aiohttp.WSMsgType.TEXT:
            try:
                event = json.loads(msg.data)
            except ValueError as exc:
                raise ProtocolError("not JSON", CLOSE_POLICY) from exc
            kind = event.get("type") if isinstance(event, dict) else None
            if kind == "hangup":
                return
            digit = event.get("digit") if kind == "dtmf" else None
            if not isinstance(digit, str) or digit not in DIGITS:
                raise ProtocolError("unknown message", CLOSE_POLICY)
            call.session.feed_dtmf(digit)
        elif msg.type == aiohttp.WSMsgType.ERROR:  # e.g. a frame over the bound: 1009, sent
            raise ProtocolError(f"WebSocket error: {msg.data}", ws.close_code or 1002)
        else:
            return


async def phone_socket(request: web.Request) -> web.WebSocketResponse:
    """GET /agent/phone/ws: one call from the browser (trainers, same origin)."""
    session = auth.require_role(request, "trainer")
    origin = request.headers.get("Origin")
    if origin and origin.split("://", 1)[-1] != request.host:
        raise auth.forbidden("Fremder Ursprung.")
    gateway = request.app[GATEWAY]
    media = gateway.settings.media
    ws = web.WebSocketResponse(heartbeat=30, max_msg_size=media.max_message_bytes)
    await ws.prepare(request)
    refusal = gateway.calls.refusal()
    if refusal is not None:
        await ws.close(code=CLOSE_TRY_AGAIN_LATER, message=refusal.encode()[:120])
        return ws
    services = gateway.calls.services
    assert services is not None  # refusal() said the models are loaded
    sink = BrowserSink(ws)
    info = CallInfo(
        call_id=new_call_id("browser"),
        transport="browser",
        language=gateway.settings.language,
        platform_id=f"testtelefon:{session.agent}"[:120],
    )
    try:
        call = await gateway.calls.start(info, sink, sink.hang_up)
    except Exception:  # noqa: BLE001 - logged by the lifecycle; the page is told
        await ws.close(code=aiohttp.WSCloseCode.INTERNAL_ERROR, message=b"call failed")
        return ws
    log.info("call %s started from the test phone of %s", info.call_id, session.agent)
    await sink.send({"type": "call", "call_id": info.call_id})
    follower = asyncio.create_task(_follow(call, services, sink, ws))
    reason = "hangup"
    close: tuple[int, bytes] = (int(aiohttp.WSCloseCode.OK), b"")
    try:
        await _receive(call, ws, MediaPacer(SAMPLE_RATE, media.burst_ms))
    except ProtocolError as exc:
        log.warning("test phone %s: %s", info.call_id, exc.reason)
        reason, close = "protocol_error", (exc.status, exc.reason.encode()[:120])
    finally:
        await call.end(reason)
        follower.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await follower
        await sink.send({"type": "ended", "reason": sink.closed_reason or reason})
        if not ws.closed:
            await ws.close(code=close[0], message=close[1])
    return ws


def add_phone(app: web.Application) -> None:
    """Registers the test phone's page, its WebSocket and /phone."""
    app.router.add_get("/phone", phone_redirect)
    app.router.add_get("/agent/phone", phone_page)
    app.router.add_get("/agent/phone/ws", phone_socket)
