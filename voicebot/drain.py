"""SIGTERM: drain the gateway, then stop (README "Operations").

On SIGTERM the gateway stops taking calls at once: a SIP INVITE and OPTIONS get 503 with
Retry-After (a SIP load balancer such as Kamailio sends the next calls elsewhere), a media
WebSocket is closed with 1013, `/health` answers 503 with `"draining": true`. Live calls may
finish for up to `drain_timeout_s`. The calls still running then hear a short goodbye: when the
caller's number is known, a callback request is stored for the agents (a handoff of kind
`callback`, reason `gateway_shutdown`) and the goodbye says so; otherwise it asks them to call
again. Their records close with `end_reason = gateway_shutdown`, the goodbye as the last bot
turn. Then the process exits the usual way (aiohttp's shutdown). A second SIGTERM (or SIGINT)
skips the wait: every call ends at once, with the goodbye.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from typing import TYPE_CHECKING

from aiohttp import web

from voicebot.pipeline.playout import Pacer, frames
from voicebot.store.calls import TurnRecord, utc_now

if TYPE_CHECKING:
    from voicebot.gateway import Gateway
    from voicebot.lifecycle import LiveCall

log = logging.getLogger(__name__)

SHUTDOWN = "gateway_shutdown"
POLL_S = 0.2  # how often the drain looks whether the last call has ended
# (callback stored, no number known) per language: formal, short, the number never read out
GOODBYE = {
    "de": (
        "Dieser Anschluss wird gleich gewartet. Ich habe einen Rückruf für Sie notiert. "
        "Wir rufen Sie gern zurück. Auf Wiederhören!",
        "Dieser Anschluss wird gleich gewartet. Bitte rufen Sie in ein paar Minuten wieder an. "
        "Auf Wiederhören!",
    ),
    "en": (
        "This line is about to go down for maintenance. I have noted a callback for you. "
        "We will be glad to call you back. Goodbye!",
        "This line is about to go down for maintenance. Please call again in a few minutes. "
        "Goodbye!",
    ),
}


def known_number(caller: str | None) -> bool:
    """Whether the caller's number is known (not anonymous, not withheld)."""
    return caller is not None and sum(c.isdigit() for c in caller) >= 3


class Drain:
    """Drains one gateway on SIGTERM; `begin()` is the signal handler."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self._task: asyncio.Task[None] | None = None
        self._now = asyncio.Event()  # a second signal: stop waiting for the calls

    def install(self, loop: asyncio.AbstractEventLoop) -> None:
        """Takes over SIGTERM and SIGINT from aiohttp (which would cut the calls at once)."""
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.begin)

    def begin(self) -> None:
        """Starts the drain; called again, ends the calls without waiting."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self.run(), name="drain")
        else:
            log.warning("second stop signal: ending the %d call(s) now", len(self.gateway.calls))
            self._now.set()

    async def run(self, exit_after: bool = True) -> None:
        """Refuses new calls, waits for the live ones (at most `drain_timeout_s`), says goodbye
        to the rest and ends them; then stops the server."""
        calls = self.gateway.calls
        calls.draining = True
        timeout = self.gateway.settings.drain_timeout_s
        log.info("draining: no new calls; %d live call(s) may run %g s more", len(calls), timeout)
        deadline = time.monotonic() + timeout
        while len(calls) and time.monotonic() < deadline and not self._now.is_set():
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._now.wait(), POLL_S)
        if len(calls):
            log.warning("drain time over: ending %d call(s) with a goodbye", len(calls))
            await calls.shut_down(SHUTDOWN, self.farewell)
        log.info("drained; stopping")
        if exit_after:
            asyncio.get_running_loop().call_soon(_graceful_exit)

    async def farewell(self, call: LiveCall) -> None:
        """The goodbye of a call the drain ends: a callback request when the number is known,
        the spoken goodbye, and the goodbye as the record's last bot turn."""
        gw, info = self.gateway, call.info
        language = call.session.language if call.session.language in GOODBYE else "de"
        stored = False
        if known_number(info.caller) and gw.handoffs is not None:
            try:
                await gw.handoffs.create(
                    info.call_id, info.caller, language, None, SHUTDOWN, callback_requested=True
                )
                stored = True
            except Exception:  # noqa: BLE001 - the caller is still told to call again
                log.exception("call %s: callback request not stored", info.call_id)
        text = GOODBYE[language][0 if stored else 1]
        started = utc_now()
        interrupted = False
        try:
            await self._speak(call, text, language)
        except Exception as exc:  # noqa: BLE001 - the caller may have gone; the turn is kept
            log.info("call %s: goodbye not played to the end: %s", info.call_id, exc)
            interrupted = True
        record = await gw.store.get_call(info.call_id)
        seq = max((t.seq for t in record.turns), default=0) + 1 if record else 1
        turn = TurnRecord(info.call_id, seq, "bot", text, started, utc_now())
        turn.interrupted = interrupted
        await gw.store.add_turn(turn)

    async def _speak(self, call: LiveCall, text: str, language: str) -> None:
        sink = call.sink
        if sink is None:
            return
        pacer = Pacer()
        tts = self.gateway.services.tts
        async for chunk in tts.stream(text, language, sink.sample_rate):
            for frame in frames(chunk, sink.sample_rate):
                await pacer.wait()
                await sink.send_audio(frame)
            pacer.reset()
        await sink.send_mark("gateway-shutdown")


def _graceful_exit() -> None:
    raise web.GracefulExit()


def install_drain(app: web.Application, gateway: Gateway) -> None:
    """`voicebot serve`: SIGTERM drains the gateway before the process stops."""

    async def on_startup(_: web.Application) -> None:
        gateway.drain = Drain(gateway)
        gateway.drain.install(asyncio.get_running_loop())

    app.on_startup.append(on_startup)
