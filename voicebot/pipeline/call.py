"""One call: caller audio -> VAD -> Whisper -> Rasa -> Piper -> paced audio back.

The transport feeds audio, DTMF and hang-up into the session and gives it a MediaSink for the
way back. A single dialogue task handles inputs strictly in order; the segmenter keeps running
while the bot speaks, so caller speech can interrupt playback (barge-in). Every turn is written
to the call record, and a call that ends in the middle of anything still leaves a complete one.

The session only composes the stages, each in its own module: `listening` (the segmenter's one
owner), `speculation` (ASR started at a pause), `dtmf` (key entries), `no_input` (when silence
counts), `dialogue` (Rasa, filler, faults, the typed reply `directives`), `playback` (pacing and
barge-in), `handoff_step` (the end handed to a person) and `turns` (the call record).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any

from voicebot.audio.resample import Pcm16, StreamResampler
from voicebot.audio.vad import SpeechPaused, SpeechStarted
from voicebot.errors import VoicebotError
from voicebot.pipeline.dialogue import CallContext, CallInput, Dialogue, DtmfEntry, Start
from voicebot.pipeline.directives import Voice
from voicebot.pipeline.dtmf import DtmfCollector
from voicebot.pipeline.handoff_step import hand_off
from voicebot.pipeline.listening import Listener
from voicebot.pipeline.no_input import next_input
from voicebot.pipeline.playback import Playback
from voicebot.pipeline.playout import MediaSink
from voicebot.pipeline.services import Services
from voicebot.pipeline.speculation import SpeculativeAsr
from voicebot.pipeline.turns import TurnRecorder
from voicebot.store.calls import CallRecord, iso

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CallInfo:
    """Who is calling over what."""

    call_id: str
    transport: str
    language: str
    caller: str | None = None
    stream_id: str | None = None
    platform_id: str | None = None  # the platform's id (callSid, SIP Call-ID); call_id is ours
    dialled: str | None = None  # the number the caller dialled (number_plan.py)
    topic: str | None = None  # the topic the dialled number starts with, if any


class TransportError(VoicebotError):
    """The transport of a call failed unexpectedly (its receive loop, decoding, the feed)."""


@dataclass(frozen=True)
class _Wake:
    """Input that only wakes the dialogue task (a failure is waiting in `_failure`)."""


class CallSession:
    """The pipeline of one call; create it when the stream starts, `finish()` it at the end."""

    def __init__(self, info: CallInfo, sink: MediaSink, services: Services) -> None:
        self.info = info
        self._sink = sink
        self._svc = services
        settings = services.settings
        self._inputs: asyncio.Queue[CallInput | _Wake] = asyncio.Queue()
        self._recorder = TurnRecorder(info.call_id, services.store)
        self._listener = Listener(services.new_segmenter(), services.vad_pool)
        self._to_16k = StreamResampler(sink.sample_rate, 16000)
        self._asr = SpeculativeAsr(services.asr)
        self._playback = Playback(sink, self._recorder, services.tts, services.prompts)
        self._dtmf = DtmfCollector(settings.dtmf_interdigit_ms / 1000, self._dtmf_entry)
        self._voice = Voice(info.language, settings.tts.length_scale)
        self._call = CallContext(
            info.call_id, info.transport, info.caller, info.dialled, info.topic
        )
        parts = (self._recorder, self._playback, self._asr, self._listener)
        self._dialogue = Dialogue(
            self._call,
            settings,
            services.rasa,
            services.handoff,
            parts,
            self._voice,
            services.tts.languages,
        )
        self._task: asyncio.Task[None] | None = None
        self._finished = False
        self._failure: BaseException | None = None  # the transport failed: apologise next
        self.ended = asyncio.Event()  # set when the bot decided to end the call

    @property
    def language(self) -> str:
        """The call's language now (a reply directive may switch it)."""
        return self._voice.language

    @property
    def speculative_hits(self) -> int:
        """Utterances answered from the speculative transcript."""
        return self._asr.hits

    # ---- lifecycle -------------------------------------------------------------------------
    async def start(self) -> None:
        """Stores the call and starts the dialogue (the greeting plays at once)."""
        await self._recorder.start(
            CallRecord(
                call_id=self.info.call_id,
                transport=self.info.transport,
                language=self.language,
                started_at=iso(self._recorder.t0_wall),
                stream_id=self.info.stream_id,
                caller=self.info.caller,
                platform_call_id=self.info.platform_id,
            )
        )
        self._inputs.put_nowait(Start())
        self._task = asyncio.create_task(self._run(), name=f"call-{self.info.call_id}")

    async def finish(self, reason: str = "hangup") -> None:
        """Ends the call: stops work in flight and writes what is left of the record (always,
        whatever fails on the way)."""
        if self._finished:
            return
        self._finished = True
        self._dtmf.cancel()
        try:
            task = self._task
            while task is not None and not task.done():
                task.cancel()  # again until it ends: a cancel can be lost in a library's await
                await asyncio.wait({task}, timeout=0.1)
            if task is not None and not task.cancelled() and task.exception() is not None:
                log.error("call %s: dialogue task failed: %r", self.info.call_id, task.exception())
            await self._keep_last_words()
        except Exception:  # noqa: BLE001 - the record is closed below whatever happened
            log.exception("call %s: error while ending the call", self.info.call_id)
        finally:
            o = self._dialogue.outcome
            await self._recorder.close(o.reason or reason, o.department, o.handoff_reason)

    def fail(self, error: BaseException) -> bool:
        """The transport failed (`error`): the dialogue apologises and hands the call to a
        person next, as for a fault of its own (the reply it is speaking ends first), then the
        bot ends the call. False when no dialogue runs that could (not started, ended)."""
        task = self._task
        if self._finished or self.ended.is_set() or task is None or task.done():
            return False
        if self._failure is None:
            self._failure = error
            self._inputs.put_nowait(_Wake())
        return True

    async def _keep_last_words(self) -> None:
        """The caller hung up mid-utterance: keep what they said (not answered)."""
        leftover = await self._listener.flush()
        if leftover is None:
            self._asr.drop()
            return
        if not self._svc.asr.loaded:
            return
        turn = self._recorder.new("caller", "")
        turn.complete = False
        turn.started_at = self._recorder.wall(leftover.start_ms)
        turn.ended_at = self._recorder.wall(leftover.speech_end_ms)
        try:
            heard = await self._asr.transcribe(leftover, self.language)
            turn.text, turn.asr_confidence = heard.text, round(heard.confidence, 3)
            turn.asr_ms = round(heard.asr_ms, 1)
        except VoicebotError as exc:
            log.warning(
                "call %s: final partial utterance not transcribed: %s", self.info.call_id, exc
            )

    # ---- input from the transport ----------------------------------------------------------
    async def feed_audio(self, pcm: Pcm16) -> None:
        """Caller audio at the sink's rate; VAD runs in its own thread, in order. An error in
        here fails the call (apology and handoff), it does not reach the transport."""
        if self._finished or self._failure is not None:
            return
        try:
            await self._feed_audio(pcm)
        except Exception as exc:  # noqa: BLE001 - never dead air: the dialogue apologises
            log.exception("call %s: caller audio failed", self.info.call_id)
            self.fail(TransportError(f"caller audio failed: {exc!r}"))

    async def _feed_audio(self, pcm: Pcm16) -> None:
        # while the caller keys digits, a pause in their speech does not end the utterance
        events = await self._listener.push(self._to_16k.process(pcm), self._dtmf.collecting)
        if self._finished:
            return
        for event in events:
            if isinstance(event, SpeechStarted):
                if self._playback.barge_in():
                    log.info("call %s: barge-in, stopping playback", self.info.call_id)
            elif isinstance(event, SpeechPaused):
                self._asr.speculate(event.utterance, self.language)
            else:
                self._inputs.put_nowait(event)
        # the caller spoke again after the pause: that transcript is outdated
        self._asr.caller_spoke_until(self._listener.speech_end_ms)

    def feed_dtmf(self, digit: str) -> None:
        """One DTMF key; an entry ends with '#' or after the inter-digit timeout."""
        if self._finished or self._failure is not None:
            return
        self._playback.barge_in()
        self._dtmf.press(digit)

    def _dtmf_entry(self, digits: str) -> None:
        self._inputs.put_nowait(DtmfEntry(digits))

    # ---- the dialogue task -----------------------------------------------------------------
    async def _run(self) -> None:
        """Handles inputs in order until the bot ends the call, then hands off if asked and
        closes the stream. An unforeseen error is a fault too: apology, handoff, close."""
        dialogue = self._dialogue
        at_start = True  # until the Start is handled: an apology then carries the disclosure
        try:
            while dialogue.outcome.reason is None:
                hold = dialogue.opener_hold_s  # after "Guten Tag.": wait for the question
                wait_s = self._svc.settings.no_input_s if hold is None else hold
                item = await next_input(self._inputs, wait_s, self._busy)
                if self._failure is not None:
                    log.error(
                        "call %s: %s; apologising and handing off",
                        self.info.call_id,
                        self._failure,
                    )
                    await dialogue.fault(self._failure, at_start=at_start)
                    break
                if isinstance(item, _Wake):
                    continue
                await dialogue.handle(item)
                at_start = False
        except Exception as exc:  # noqa: BLE001 - never dead air: apologise and hand off
            log.exception("call %s: the dialogue failed", self.info.call_id)
            if dialogue.outcome.reason is None:  # else its own fault handling failed
                await self._quietly(dialogue.fault(exc, at_start=False))
        if dialogue.outcome.reason == "handoff" and self._svc.handoff is not None:
            await self._quietly(
                hand_off(
                    self._svc.handoff,
                    self._call,
                    dialogue.outcome,
                    self._voice,
                    self._playback,
                    self._sink,
                )
            )
        try:
            await self._quietly(self._sink.close(dialogue.outcome.reason or "handoff"))
        finally:
            self.ended.set()

    async def _quietly(self, step: Coroutine[Any, Any, None]) -> None:
        """Runs a closing step; an error in it is logged, and the call still ends."""
        try:
            await step
        except Exception:  # noqa: BLE001 - the next closing step must still run
            log.exception("call %s: error while ending the call", self.info.call_id)

    def _busy(self) -> bool:
        """Whether silence is not the caller saying nothing: speaking, typing, or on hold."""
        return self._listener.in_speech or self._dtmf.collecting or self._sink.on_hold
