"""One call: caller audio -> VAD -> Whisper -> Rasa -> Piper -> paced audio back.

The transport feeds audio, DTMF and hang-up into the session and gives it a MediaSink for the
way back. A single dialogue task handles inputs strictly in order; the segmenter keeps running
while the bot speaks, so caller speech can interrupt playback (barge-in). Every turn is written
to the call record, and a call that ends in the middle of anything still leaves a complete one.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from voicebot.audio.resample import Pcm16, StreamResampler
from voicebot.audio.vad import SpeechPaused, SpeechStarted, Utterance
from voicebot.errors import VoicebotError
from voicebot.pipeline.no_input import NoInputPolicy
from voicebot.pipeline.playout import MediaSink, Pacer, frames
from voicebot.pipeline.services import Services
from voicebot.services.asr import Transcript
from voicebot.services.dialogue import BotMessage, DialogueError
from voicebot.store.calls import CallRecord, TurnRecord, iso, utc_now

log = logging.getLogger(__name__)
SLOWER_STEP = 1.25  # {"speech": "slower"}: each request makes speech this much longer
MAX_LENGTH_SCALE = 1.6  # slower than this sounds broken


@dataclass(frozen=True)
class CallInfo:
    """Who is calling over what."""

    call_id: str
    transport: str
    language: str
    caller: str | None = None
    stream_id: str | None = None


@dataclass(frozen=True)
class _Start:
    """Input: the call has started; fetch the greeting."""


@dataclass(frozen=True)
class _NoInput:
    """Input: the caller said and typed nothing for `no_input_s` after the bot spoke."""


@dataclass(frozen=True)
class _Dtmf:
    """Input: a complete DTMF entry."""

    digits: str


@dataclass
class _Outcome:
    """How the call should end once the bot has finished speaking."""

    reason: str | None = None
    department: str | None = None
    handoff_reason: str | None = None
    handoff_kind: str | None = None  # "callback": the caller asked for one, never transfer


@dataclass
class _Speculation:
    """ASR started at a short pause, for the utterance that ends at `speech_end_ms`."""

    start_ms: int
    speech_end_ms: int
    task: asyncio.Task[Transcript]


def _retrieve_exception(task: asyncio.Task[Transcript]) -> None:
    """Marks a dropped speculative task's error as seen (no "never retrieved" warnings)."""
    if not task.cancelled():
        task.exception()


@dataclass
class _Spoken:
    """What happened while one bot message was played."""

    first_audio: float | None = None
    started_at: str | None = None
    ended_at: str | None = None
    interrupted: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


async def _one_chunk(audio: Pcm16) -> AsyncIterator[Pcm16]:
    """A fixed prompt as a one-chunk stream for `_play`."""
    yield audio


class CallSession:
    """The pipeline of one call; create it when the stream starts, `finish()` it at the end."""

    def __init__(self, info: CallInfo, sink: MediaSink, services: Services) -> None:
        self.info = info
        self.language = info.language
        self._sink = sink
        self._svc = services
        self._settings = services.settings
        self._segmenter = services.new_segmenter()
        self._to_16k = StreamResampler(sink.sample_rate, 16000)
        self._inputs: asyncio.Queue[_Start | _Dtmf | Utterance] = asyncio.Queue()
        self._seq = 0
        self._open: dict[int, TurnRecord] = {}
        self._t0_wall = datetime.now(timezone.utc)
        self._speaking = False
        self._interrupt = asyncio.Event()
        self._outcome = _Outcome()
        self._speculation: _Speculation | None = None
        self._length_scale = self._settings.tts.length_scale  # {"speech": "slower"} raises it
        self.speculative_hits = 0  # utterances answered from the speculative transcript
        self._dtmf_digits = ""
        self._dtmf_timer: asyncio.TimerHandle | None = None
        self._task: asyncio.Task[None] | None = None
        self._finished = False
        self._filler_was_last = False
        self._no_input = NoInputPolicy(self._settings.no_input_reprompts)
        self._last_message: str | None = None  # repeated when the caller stays silent
        self.ended = asyncio.Event()  # set when the bot decided to end the call

    # ---- lifecycle -------------------------------------------------------------------------
    async def start(self) -> None:
        """Stores the call and starts the dialogue (the greeting plays at once)."""
        await self._svc.store.start_call(
            CallRecord(
                call_id=self.info.call_id,
                transport=self.info.transport,
                language=self.language,
                started_at=iso(self._t0_wall),
                stream_id=self.info.stream_id,
                caller=self.info.caller,
            )
        )
        self._inputs.put_nowait(_Start())
        self._task = asyncio.create_task(self._dialogue_loop(), name=f"call-{self.info.call_id}")

    async def finish(self, reason: str = "hangup") -> None:
        """Ends the call: stops work in flight and writes what is left of the record."""
        if self._finished:
            return
        self._finished = True
        if self._dtmf_timer:
            self._dtmf_timer.cancel()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        leftover = self._segmenter.flush()
        if leftover is None:
            self._drop_speculation()
        if leftover is not None and self._svc.asr.loaded:
            # the caller hung up mid-utterance: keep what they said, do not answer it
            turn = self._new_turn("caller", "")
            turn.complete = False
            turn.started_at = self._wall(leftover.start_ms)
            turn.ended_at = self._wall(leftover.speech_end_ms)
            try:
                heard = await self._transcribe(leftover)
                turn.text, turn.asr_confidence = heard.text, round(heard.confidence, 3)
                turn.asr_ms = round(heard.asr_ms, 1)
            except VoicebotError as exc:
                log.warning(
                    "call %s: final partial utterance not transcribed: %s", self.info.call_id, exc
                )
        for seq in sorted(self._open):
            turn = self._open.pop(seq)
            if turn.speaker == "bot":
                turn.interrupted = True  # cut off by the hang-up
                turn.ended_at = turn.ended_at or utc_now()
            await self._write_turn(turn)
        o = self._outcome
        await self._svc.store.end_call(
            self.info.call_id, o.reason or reason, o.department, o.handoff_reason
        )

    # ---- input from the transport ----------------------------------------------------------
    async def feed_audio(self, pcm: Pcm16) -> None:
        """Caller audio at the sink's rate; VAD runs in its own thread, in order."""
        if self._finished:
            return
        audio = self._to_16k.process(pcm)
        events = await self._svc.run_vad(self._segmenter, audio)
        for event in events:
            if isinstance(event, SpeechStarted):
                if self._speaking:
                    log.info("call %s: barge-in, stopping playback", self.info.call_id)
                    self._interrupt.set()
            elif isinstance(event, SpeechPaused):
                self._speculate(event.utterance)
            else:
                self._inputs.put_nowait(event)
        spec = self._speculation
        if spec is not None and self._segmenter.speech_end_ms != spec.speech_end_ms:
            self._drop_speculation()  # the caller spoke again: that transcript is outdated

    # ---- speculative ASR -------------------------------------------------------------------
    def _speculate(self, utt: Utterance) -> None:
        """Starts ASR at a short pause; _utterance keeps it if the turn ends there. Only on an
        idle worker: under load a wasted guess would delay other callers' transcriptions."""
        self._drop_speculation()
        if self._svc.asr.idle_workers == 0:
            return
        task = asyncio.create_task(self._svc.asr.transcribe(utt.pcm, self.language))
        task.add_done_callback(_retrieve_exception)
        self._speculation = _Speculation(utt.start_ms, utt.speech_end_ms, task)

    def _drop_speculation(self) -> None:
        """Cancels the speculative ASR (still queued: it never runs; running: result ignored)."""
        if self._speculation is not None:
            self._speculation.task.cancel()
            self._speculation = None

    async def _transcribe(self, utt: Utterance) -> Transcript:
        """The speculative transcript when it is of the same audio, else a new transcription."""
        spec, self._speculation = self._speculation, None
        if spec is not None and (spec.start_ms, spec.speech_end_ms) == (
            utt.start_ms,
            utt.speech_end_ms,
        ):
            self.speculative_hits += 1
            return await spec.task
        if spec is not None:
            spec.task.cancel()
        return await self._svc.asr.transcribe(utt.pcm, self.language)

    def feed_dtmf(self, digit: str) -> None:
        """One DTMF key; an entry ends with '#' or after the inter-digit timeout."""
        if self._finished:
            return
        if self._speaking:
            self._interrupt.set()
        if self._dtmf_timer:
            self._dtmf_timer.cancel()
        if digit == "#":
            self._flush_dtmf()
            return
        self._dtmf_digits += digit
        delay = self._settings.dtmf_interdigit_ms / 1000
        self._dtmf_timer = asyncio.get_running_loop().call_later(delay, self._flush_dtmf)

    def _flush_dtmf(self) -> None:
        if self._dtmf_digits:
            self._inputs.put_nowait(_Dtmf(self._dtmf_digits))
            self._dtmf_digits = ""

    # ---- the dialogue ----------------------------------------------------------------------
    async def _dialogue_loop(self) -> None:
        """Handles inputs in order until the bot ends the call."""
        while self._outcome.reason is None:
            item = await self._next_input()
            if not isinstance(item, _NoInput):
                self._no_input.heard()
            try:
                if isinstance(item, _NoInput):
                    await self._reprompt_or_end()
                elif isinstance(item, _Start):
                    await self._turn(None, self._call_start_message(), {})
                elif isinstance(item, _Dtmf):
                    turn = self._new_turn("caller", f"DTMF {item.digits}")
                    turn.dtmf = item.digits
                    text = "/dtmf" + json.dumps({"dtmf_digits": item.digits})
                    await self._turn(turn, text, {"dtmf": item.digits})
                else:
                    await self._utterance(item)
            except VoicebotError as exc:
                await self._fault(exc, at_start=isinstance(item, _Start))
        if self._outcome.reason == "handoff":
            await self._hand_off()
        await self._sink.close(self._outcome.reason)
        self.ended.set()

    async def _next_input(self) -> _Start | _Dtmf | Utterance | _NoInput:
        """The next input; _NoInput when the caller stays silent after the bot has spoken
        (not while they are speaking, typing a number, or holding the call)."""
        timeout = self._settings.no_input_s
        while True:
            if timeout <= 0:
                return await self._inputs.get()
            try:
                return await asyncio.wait_for(self._inputs.get(), timeout)
            except asyncio.TimeoutError:
                on_hold = bool(getattr(self._sink, "on_hold", False))
                if not (self._segmenter.in_speech or self._dtmf_digits or on_hold):
                    return _NoInput()

    async def _reprompt_or_end(self) -> None:
        """Asks whether the caller is still there and repeats the question; after the last
        reprompt says goodbye and ends the call."""
        what = self._no_input.silence()
        text = self._no_input.text(what, self.language, self._last_message)
        log.info("call %s: no input from the caller: %s", self.info.call_id, what)
        await self._speak_message(BotMessage(text=text))
        if what == "goodbye":
            self._outcome = _Outcome("no_input")

    async def _utterance(self, utt: Utterance) -> None:
        """Transcribes one utterance and answers it."""
        turn = self._new_turn("caller", "")
        turn.started_at = self._wall(utt.start_ms)
        turn.ended_at = self._wall(utt.speech_end_ms)
        turn.endpointing_ms = float(utt.endpoint_ms - utt.speech_end_ms)
        heard = await self._transcribe(utt)
        turn.text = heard.text
        turn.asr_confidence = round(heard.confidence, 3)
        turn.asr_queue_ms = round(heard.queue_ms, 1)
        turn.asr_ms = round(heard.asr_ms, 1)
        if not heard.text:
            log.info("call %s: utterance without words ignored", self.info.call_id)
            turn.intent = "silence_or_noise"
            await self._close_turn(turn)
            return
        meta = {"asr_confidence": turn.asr_confidence}
        await self._turn(turn, heard.text, meta)

    def _call_start_message(self) -> str:
        """The configured start message, telling Rasa when agents are not available."""
        message = self._settings.rasa.call_start_message
        handoff = self._svc.handoff
        if handoff is None or "{" in message or handoff.agents_available():
            return message
        return message + json.dumps({"service_state": "closed"})

    def _service_metadata(self) -> dict[str, Any]:
        """Whether agents take calls now, for Rasa's handoff decision (callback offer)."""
        handoff = self._svc.handoff
        if handoff is None:
            return {}
        return {"service_open": handoff.agents_available(), "service_hours": handoff.hours_de()}

    async def _turn(self, turn: TurnRecord | None, text: str, meta: dict[str, Any]) -> None:
        """Sends one input to Rasa and speaks every message of the answer."""
        metadata = {
            "caller": self.info.caller,
            "language": self.language,
            "transport": self.info.transport,
            **self._service_metadata(),
            **meta,
        }
        started = time.perf_counter()
        replies = await self._ask_with_filler(text, metadata)
        replied = time.perf_counter()
        tracker = asyncio.create_task(self._svc.rasa.tracker(self.info.call_id))
        if turn is not None:
            turn.dialogue_ms = round((replied - started) * 1000, 1)
        self._segmenter.expect_long_answer(False)
        first_audio: float | None = None
        for message in replies:
            self._apply_voice(message.custom)
        said = [m.text for m in replies if m.text]
        if said:
            self._last_message = said[-1]
        for message in replies:
            spoken = await self._speak_message(message)
            if first_audio is None and spoken.first_audio is not None:
                first_audio = spoken.first_audio
            self._apply_custom(message.custom)
            if spoken.interrupted:
                break
        if turn is not None:
            if first_audio is not None:
                turn.tts_first_audio_ms = round((first_audio - replied) * 1000, 1)
            try:
                summary = await tracker
                turn.intent = summary.intent
                if summary.intent_confidence is not None:
                    turn.intent_confidence = round(summary.intent_confidence, 3)
            except DialogueError as exc:
                log.warning("call %s: tracker not read: %s", self.info.call_id, exc)
            await self._close_turn(turn)
        else:
            tracker.cancel()

    async def _ask_with_filler(self, text: str, metadata: dict[str, Any]) -> list[BotMessage]:
        """Asks Rasa; if it is slow, says "Einen Moment bitte" (not in two turns in a row)."""
        request = asyncio.ensure_future(self._svc.rasa.send(self.info.call_id, text, metadata))
        delay = self._settings.rasa.filler_after_ms / 1000
        done, _ = await asyncio.wait({request}, timeout=delay)
        played = False
        if not done and not self._filler_was_last:
            played = True
            await self._say_prompt("filler")
        try:
            replies = await request
        finally:
            request.cancel()
            self._filler_was_last = played
        return replies

    def _apply_custom(self, custom: dict[str, Any]) -> None:
        """Acts on a bot message's custom payload (handoff, hangup, expect)."""
        if "handoff" in custom:
            handoff = custom["handoff"] if isinstance(custom["handoff"], dict) else {}
            self._outcome = _Outcome(
                "handoff",
                str(handoff.get("department") or "default"),
                str(handoff.get("reason") or "unspecified"),
                "callback" if handoff.get("kind") == "callback" else None,
            )
        elif custom.get("hangup"):
            self._outcome = _Outcome("bot_hangup")
        if custom.get("expect") in {"address", "long"}:
            self._segmenter.expect_long_answer(True)

    def _apply_voice(self, custom: dict[str, Any]) -> None:
        """Payloads that change how the rest of the call sounds: {"speech": "slower" | "normal"}
        and {"language": "en"}. Applied before the answer that carries them is spoken."""
        speech = custom.get("speech")
        if speech == "slower":
            self._length_scale = min(MAX_LENGTH_SCALE, self._length_scale * SLOWER_STEP)
        elif speech == "normal":
            self._length_scale = self._settings.tts.length_scale
        language = custom.get("language")
        if isinstance(language, str) and language != self.language:
            if language in self._svc.tts.languages:
                log.info("call %s: language %s -> %s", self.info.call_id, self.language, language)
                self.language = language
            else:
                log.warning("call %s: no voice for language %r", self.info.call_id, language)

    async def _speak_message(self, message: BotMessage) -> _Spoken:
        """Speaks one bot message sentence by sentence and records it as a bot turn."""
        spoken = _Spoken()
        if not message.text:
            return spoken
        turn = self._new_turn("bot", message.text)
        chunks = self._svc.tts.stream(
            message.text, self.language, self._sink.sample_rate, self._length_scale
        )
        await self._play(chunks, spoken, turn)
        return spoken

    async def _play(
        self,
        chunks: AsyncIterator[Pcm16],
        spoken: _Spoken,
        turn: TurnRecord,
        barge_in: bool = True,
    ) -> None:
        """Paces audio chunks to the sink, stopping on barge-in (unless `barge_in` is False);
        then closes the bot turn."""
        pacer = Pacer()
        self._interrupt.clear()
        self._speaking = barge_in
        try:
            async for chunk in chunks:
                for frame in frames(chunk, self._sink.sample_rate):
                    if barge_in and self._interrupt.is_set():
                        spoken.interrupted = True
                        break
                    await pacer.wait()
                    if spoken.first_audio is None:
                        spoken.first_audio = time.perf_counter()
                        turn.started_at = utc_now()
                    await self._sink.send_audio(frame)
                if spoken.interrupted:
                    break
                pacer.reset()
        finally:
            self._speaking = False
            turn.ended_at = utc_now()
            turn.interrupted = spoken.interrupted
        if spoken.interrupted:
            await self._sink.clear()
        else:
            await self._sink.send_mark(f"turn-{turn.seq}")
        await self._close_turn(turn)

    async def _fault(self, exc: VoicebotError, at_start: bool) -> None:
        """Something failed: apologise, then hand the call to a person. Never dead air."""
        log.error("call %s: %s; apologising and handing off", self.info.call_id, exc)
        reason = type(exc).__name__.removesuffix("Error").lower() + "_failed"
        self._outcome = _Outcome("handoff", "default", reason)
        with contextlib.suppress(VoicebotError, ConnectionError):
            await self._say_prompt("fault_at_start" if at_start else "fault")

    async def _say_prompt(self, name: str) -> None:
        """Plays one of the pre-synthesised prompts and records it as a bot turn."""
        turn = self._new_turn("bot", self._svc.prompts.text(name, self.language))
        audio = self._svc.prompts.get(name, self.language, self._sink.sample_rate)
        await self._play(_one_chunk(audio), _Spoken(), turn)

    # ---- handoff ---------------------------------------------------------------------------
    async def _hand_off(self) -> None:
        """Stores the handoff, tells the caller its id, then transfers or books a callback."""
        service = self._svc.handoff
        if service is None:
            return
        o = self._outcome
        try:
            handoff = await service.create(
                self.info.call_id,
                self.info.caller,
                self.language,
                o.department,
                o.handoff_reason,
                callback_requested=o.handoff_kind == "callback",
            )
        except Exception as exc:  # noqa: BLE001 - the caller is still handed over
            log.error("call %s: the handoff was not stored: %s", self.info.call_id, exc)
            return
        o.department = handoff.department
        await self._say_to_the_end(*service.announcement(handoff, self.language))
        if handoff.kind == "callback":
            o.reason = "callback"  # nobody to transfer to: the platform just hangs up
            return
        transfer = getattr(self._sink, "transfer", None)
        if transfer is not None and not await transfer(handoff.target, handoff.handoff_id):
            await service.transfer_failed(handoff)
            text = service.transfer_failed_prompt(self.language)
            await self._say_to_the_end(text, text)
            o.reason = "transfer_failed"

    async def _say_to_the_end(self, text: str, spoken: str) -> None:
        """Speaks a closing message without barge-in (the caller must hear the handoff id)."""
        turn = self._new_turn("bot", text)
        rate = self._sink.sample_rate
        chunks = self._svc.tts.stream(spoken, self.language, rate, self._length_scale)
        try:
            await self._play(chunks, _Spoken(), turn, barge_in=False)
        except (VoicebotError, ConnectionError) as exc:
            log.warning("call %s: closing message not played: %s", self.info.call_id, exc)
            turn.interrupted = True
            await self._close_turn(turn)

    # ---- records ---------------------------------------------------------------------------
    def _new_turn(self, speaker: str, text: str) -> TurnRecord:
        self._seq += 1
        turn = TurnRecord(call_id=self.info.call_id, seq=self._seq, speaker=speaker, text=text)
        self._open[turn.seq] = turn
        return turn

    async def _close_turn(self, turn: TurnRecord) -> None:
        self._open.pop(turn.seq, None)
        await self._write_turn(turn)

    async def _write_turn(self, turn: TurnRecord) -> None:
        await self._svc.store.add_turn(turn)

    def _wall(self, stream_ms: int) -> str:
        """Stream time (audio received so far) as wall-clock time."""
        return iso(self._t0_wall + timedelta(milliseconds=stream_ms))
