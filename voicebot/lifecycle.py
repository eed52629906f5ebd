"""The life of every call, whatever the transport: admit or refuse, start, end, clean up.

A transport asks `CallLifecycle.refusal()` before it accepts a call, then `start()`s it with
its `MediaSink` and a hang-up function, and `end()`s it when the far end goes away. The call
also ends when the bot ends it (`CallSession.ended`): the lifecycle then finishes the session
and calls the transport's hang-up. Either way, and whatever raises on the way, the record is
closed before the transport closes the media (so a caller who sees the close reads a final
record) and the call's slot is released exactly once. A transport whose loop failed ends the
call with `TRANSPORT_FAILED`: the caller first hears the apology and is handed to a person
(transfer or callback record), as for a fault of the dialogue, never dead air.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable

from voicebot.config import Settings
from voicebot.errors import VoicebotError
from voicebot.pipeline.call import CallInfo, CallSession, TransportError
from voicebot.pipeline.playout import MediaSink
from voicebot.pipeline.services import Services

log = logging.getLogger(__name__)

HangUp = Callable[[str], Awaitable[None]]
"""The transport's way to close the media once the lifecycle ended a call (BYE, WS close)."""
Farewell = Callable[["LiveCall"], Awaitable[None]]
"""What a call hears when the gateway ends it (the drain's goodbye), before the hang-up."""
FAREWELL_S = 30.0  # the longest a goodbye may take

BOT_ENDED = "bot_ended"
START_FAILED = "error"
TRANSPORT_FAILED = "error"  # the transport's loop raised: the caller still hears the apology
FAULT_GRACE_S = 60.0  # how long the apology and the handoff may take before the call just ends


def new_call_id(transport: str) -> str:
    """A call id of the gateway's own, unique per call: the key of the call's record and its
    Rasa conversation, so no platform id (reused, forged, or with `/` and `?`) can pick them."""
    prefix = "".join(c for c in transport.lower() if c.isalnum())[:8] or "call"
    return f"{prefix}-{uuid.uuid4().hex}"


class LiveCall:
    """One admitted call: its session, and the one way it ends."""

    def __init__(self, lifecycle: CallLifecycle, session: CallSession, hang_up: HangUp) -> None:
        self.info = session.info
        self.session = session
        self._lifecycle = lifecycle
        self._hang_up = hang_up
        self.sink: MediaSink | None = None  # the way back to the caller (the drain's goodbye)
        self._ending: asyncio.Future[None] | None = None
        self._watcher: asyncio.Task[None] | None = None

    @property
    def ended(self) -> bool:
        """Whether the call has begun to end (its slot is, or is about to be, free)."""
        return self._ending is not None

    async def end(self, reason: str) -> None:
        """The transport ends the call (hang-up, BYE, protocol error): finishes the session,
        closes the record and frees the slot. Idempotent; returns once all of that is done,
        also when another caller started the end (and even if this caller is cancelled).
        For `TRANSPORT_FAILED` while the dialogue runs, the caller first hears the apology and
        is handed off (at most `FAULT_GRACE_S`); the lifecycle then hangs up itself."""
        if reason == TRANSPORT_FAILED and self._ending is None:
            failure = TransportError(f"the {self.info.transport} transport failed")
            if self.session.fail(failure):
                self._lifecycle.metrics["calls_transport_faults"] += 1
                try:
                    await asyncio.wait_for(self.session.ended.wait(), FAULT_GRACE_S)
                except asyncio.TimeoutError:
                    log.error(
                        "call %s: no end %g s after the apology", self.info.call_id, FAULT_GRACE_S
                    )
                # ended by the bot (the watcher hangs up), or here past the grace
                await self._end(reason, hang_up=True)
                return
        await self._end(reason, hang_up=False)

    async def _end(self, reason: str, *, hang_up: bool) -> None:
        if self._ending is None:
            # a task of its own: cancelling whoever waits cannot stop a record half closed
            self._ending = asyncio.ensure_future(self._close(reason, hang_up))
        await asyncio.shield(self._ending)

    def watch(self) -> None:
        """Ends the call (and hangs up) when the bot ends it."""

        async def watch() -> None:
            await self.session.ended.wait()
            await self._end(BOT_ENDED, hang_up=True)

        self._watcher = asyncio.create_task(watch(), name=f"end-{self.info.call_id}")

    async def shut_down(self, reason: str, farewell: Farewell | None = None) -> None:
        """The gateway stops: ends the call (the record closes with `reason`), then, while the
        line is still open, `farewell` (the drain's goodbye, at most `FAREWELL_S`), and hangs up."""
        if self._ending is None and farewell is not None:
            self._ending = asyncio.ensure_future(self._farewell(reason, farewell))
        await self._end(reason, hang_up=True)

    async def _farewell(self, reason: str, farewell: Farewell) -> None:
        try:
            await self.session.finish(reason)  # the dialogue stops: nothing else speaks now
            await asyncio.wait_for(farewell(self), FAREWELL_S)
        except Exception:  # noqa: BLE001 - the call still ends below
            log.exception("call %s: the goodbye failed", self.info.call_id)
        await self._close(reason, hang_up=True)

    async def _close(self, reason: str, hang_up: bool) -> None:
        """Session, record, slot, then the transport: each step runs whatever the last did."""
        lifecycle = self._lifecycle
        try:
            await self.session.finish(reason)
        except Exception:  # noqa: BLE001 - the record and the slot are closed below regardless
            lifecycle.metrics["calls_finish_failed"] += 1
            log.exception("call %s: finishing the session failed", self.info.call_id)
            await lifecycle.close_record(self.info.call_id, reason)
        finally:
            lifecycle.release(self)
            if self._watcher is not None and self._watcher is not asyncio.current_task():
                self._watcher.cancel()
        if hang_up:
            try:
                await self._hang_up(reason)
            except Exception:  # noqa: BLE001 - the call is over; the transport logs its side
                log.exception("call %s: hanging up failed", self.info.call_id)


class CallLifecycle:
    """Admits, starts and ends the calls of one gateway, for every transport."""

    def __init__(self, settings: Settings, metrics: Counter[str]) -> None:
        self.settings = settings
        self.metrics = metrics
        self.live: dict[str, LiveCall] = {}
        self.services: Services | None = None  # set by the gateway once the models are loaded
        self.unavailable = "models loading"  # why no call is taken while `services` is None
        self.draining = False  # SIGTERM: no new call (voicebot/drain.py)
        self.on_refused: list[Callable[[str], None]] = []  # metrics: why (starting, ...)

    def __len__(self) -> int:
        return len(self.live)

    def availability(self, ringing: int = 0) -> tuple[str, str] | None:
        """Why no new call can be taken now, as (kind, text), kind one of `starting`,
        `draining`, `capacity`; None when one can. Counts nothing (OPTIONS asks it too).
        `ringing`: calls the transport holds a slot for that have not started yet (SIP)."""
        limit = self.settings.max_calls
        if self.draining:
            return "draining", "the gateway is shutting down, try another"
        if self.services is None:
            return "starting", f"{self.unavailable}, try again later"
        if len(self.live) >= limit:
            return "capacity", f"maximum of {limit} concurrent calls reached"
        if len(self.live) + ringing >= limit:
            return "capacity", f"maximum of {limit} concurrent calls reached (some still ringing)"
        return None

    def refusal(self, ringing: int = 0) -> str | None:
        """Why a new call cannot be taken now (counted in `calls_refused`), or None."""
        state = self.availability(ringing)
        if state is None:
            return None
        self.metrics["calls_refused"] += 1
        for observer in self.on_refused:
            observer(state[0])
        return state[1]

    async def start(self, info: CallInfo, sink: MediaSink, hang_up: HangUp) -> LiveCall:
        """Creates the call's session, takes its slot and stores the record; the greeting
        plays at once. When this raises, the slot is free again and the record closed.
        An `info` without `platform_id` carries the platform's id as `call_id`: the call then
        gets an id of ours (`new_call_id`) and keeps the platform's as `platform_id`."""
        if info.platform_id is None:
            info = dataclasses.replace(
                info, call_id=new_call_id(info.transport), platform_id=info.call_id
            )
        if self.services is None:
            raise VoicebotError(f"cannot start call {info.call_id}: {self.unavailable}")
        call = LiveCall(self, CallSession(info, sink, self.services), hang_up)
        call.sink = sink
        self.live[info.call_id] = call  # before the first await: the slot is taken at once
        self.metrics["calls_started"] += 1
        try:
            await call.session.start()
        except BaseException:
            log.exception("call %s: starting the session failed", info.call_id)
            await call.end(START_FAILED)
            raise
        call.watch()
        return call

    def release(self, call: LiveCall) -> None:
        """Frees a call's slot and counts it (once per call: `LiveCall` calls it once)."""
        if self.live.get(call.info.call_id) is call:
            del self.live[call.info.call_id]
        self.metrics["calls_ended"] += 1
        # turns whose transcript was ready before the end of turn (speculative ASR)
        self.metrics["asr_speculative_hits"] += call.session.speculative_hits

    async def close_record(self, call_id: str, reason: str) -> None:
        """Closes a call record directly, when the session could not (last resort)."""
        if self.services is None:
            return
        try:
            await self.services.store.end_call(call_id, reason)
        except Exception:  # noqa: BLE001 - nothing more to try; the log says which call
            log.exception("call %s: the record could not be closed", call_id)

    async def shut_down(
        self, reason: str = "gateway_shutdown", farewell: Farewell | None = None
    ) -> None:
        """Ends every live call and hangs up (gateway shutdown), each after `farewell`."""
        await asyncio.gather(
            *(call.shut_down(reason, farewell) for call in list(self.live.values()))
        )
