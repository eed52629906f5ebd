"""One dialogue step: an input of the call (start, utterance, keys, silence) answered by the bot.

The caller's input goes to Rasa with the call's metadata; every message of the answer is spoken
in turn, and its directives (handoff, hangup, the answer expected next, speech rate, language,
sentences the caller cannot interrupt) are acted on.
A slow Rasa is covered by a short filler prompt; any failure becomes an apology and a handoff
to a person, never dead air.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from dataclasses import dataclass
from typing import Any

from voicebot.audio.vad import Utterance
from voicebot.config import Settings
from voicebot.errors import VoicebotError
from voicebot.handoff.service import HandoffService
from voicebot.pipeline.directives import Directives, Outcome, Voice, paired
from voicebot.pipeline.hearing import ACOUSTIC_MISS, judge
from voicebot.pipeline.listening import Listener
from voicebot.pipeline.no_input import NoInput, NoInputPolicy
from voicebot.pipeline.openers import is_opener, joined
from voicebot.pipeline.playback import Playback, Spoken
from voicebot.pipeline.speculation import SpeculativeAsr
from voicebot.pipeline.turns import TurnRecorder
from voicebot.services.dialogue import BotMessage, DialogueError, RasaClient, TrackerSummary
from voicebot.store.calls import TurnRecord

log = logging.getLogger(__name__)


def _note_intent(turn: TurnRecord, summary: TrackerSummary) -> None:
    """The intent Rasa recognised for the caller's turn, as the tracker reports it."""
    turn.intent = summary.intent
    if summary.intent_confidence is not None:
        turn.intent_confidence = round(summary.intent_confidence, 3)


def _seen(task: asyncio.Future[Any]) -> None:
    """Marks an abandoned Rasa request's error as retrieved (no "never retrieved" warning)."""
    if not task.cancelled():
        task.exception()


@dataclass(frozen=True)
class Start:
    """Input: the call has started; fetch the greeting."""


@dataclass(frozen=True)
class DtmfEntry:
    """Input: a complete DTMF entry."""

    digits: str


CallInput = Start | DtmfEntry | Utterance


@dataclass(frozen=True)
class _HeldOpener:
    """A caller turn that was only an opener ("Guten Tag."), waiting for the question."""

    turn: TurnRecord
    text: str


@dataclass(frozen=True)
class CallContext:
    """Who is calling over what, as Rasa's metadata needs it."""

    call_id: str
    transport: str
    caller: str | None
    dialled: str | None = None  # the number dialled and its topic (number_plan.py)
    topic: str | None = None


def call_start_message(settings: Settings, handoff: HandoffService | None) -> str:
    """The configured start message, telling Rasa when agents are not available."""
    message = settings.rasa.call_start_message
    if handoff is None or "{" in message or handoff.agents_available():
        return message
    return message + json.dumps({"service_state": "closed"})


def entry_metadata(call: CallContext) -> dict[str, Any]:
    """The number dialled and the topic it starts with, when known (number_plan.py)."""
    entry = {"dialled": call.dialled, "topic": call.topic}
    return {k: v for k, v in entry.items() if v}


def service_metadata(handoff: HandoffService | None) -> dict[str, Any]:
    """Whether agents take calls now, for Rasa's handoff decision (callback offer)."""
    if handoff is None:
        return {}
    return {"service_open": handoff.agents_available(), "service_hours": handoff.hours_de()}


class Dialogue:
    """Answers one call's inputs in order and decides how the call ends (`outcome`)."""

    def __init__(
        self,
        call: CallContext,
        settings: Settings,
        rasa: RasaClient,
        handoff: HandoffService | None,
        parts: tuple[TurnRecorder, Playback, SpeculativeAsr, Listener],
        voice: Voice,
        tts_languages: list[str],
    ) -> None:
        self._call = call
        self._settings = settings
        self._rasa = rasa
        self._handoff = handoff
        self._recorder, self._playback, self._asr, self._listener = parts
        self.voice = voice
        self._tts_languages = tts_languages
        self.outcome = Outcome()
        self._no_input = NoInputPolicy(settings.no_input_reprompts)
        self._filler_was_last = False
        self._last_message: str | None = None  # repeated when the caller stays silent
        self._held: _HeldOpener | None = None  # an opener waiting for the caller to go on

    @property
    def _id(self) -> str:
        """The call id, for the log."""
        return self._call.call_id

    @property
    def _lang(self) -> str:
        """The call's language now."""
        return self.voice.language

    @property
    def opener_hold_s(self) -> float | None:
        """How long to wait for the caller to go on after an opener; None when none is held."""
        if self._held is None:
            return None
        return self._settings.vad.opener_hold_ms / 1000

    async def handle(self, item: CallInput | NoInput) -> None:
        """Answers one input; a failure is apologised for and ends in a handoff."""
        if not isinstance(item, NoInput):
            self._no_input.heard()
        try:
            if self._held is not None and not isinstance(item, Utterance):
                await self._answer_opener()  # the caller did not go on: answer the greeting
                if isinstance(item, NoInput):
                    return
            if isinstance(item, NoInput):
                await self._reprompt_or_end()
            elif isinstance(item, Start):
                await self._turn(None, call_start_message(self._settings, self._handoff), {})
            elif isinstance(item, DtmfEntry):
                turn = self._recorder.new("caller", f"DTMF {item.digits}")
                turn.dtmf = item.digits
                text = "/dtmf" + json.dumps({"dtmf_digits": item.digits})
                await self._turn(turn, text, {"dtmf": item.digits})
            else:
                await self._utterance(item)
        except VoicebotError as exc:
            log.error("call %s: %s; apologising and handing off", self._id, exc)
            await self.fault(exc, at_start=isinstance(item, Start))
        except Exception as exc:  # noqa: BLE001 - an unforeseen error must not leave dead air
            log.exception("call %s: unexpected error; apologising and handing off", self._id)
            await self.fault(exc, at_start=isinstance(item, Start))

    async def fault(self, exc: BaseException, at_start: bool) -> None:
        """Something failed: apologise, then hand the call to a person. Never dead air."""
        if isinstance(exc, VoicebotError):
            reason = type(exc).__name__.removesuffix("Error").lower() + "_failed"
        else:
            reason = "internal_failed"
        self.outcome = Outcome("handoff", "default", reason)
        with contextlib.suppress(VoicebotError, ConnectionError):
            # at the start it carries the AI disclosure: the caller cannot talk it away
            name = "fault_at_start" if at_start else "fault"
            await self._playback.prompt(name, self._lang, barge_in=not at_start)

    async def _reprompt_or_end(self) -> None:
        """Asks whether the caller is still there and repeats the question; after the last
        reprompt says goodbye and ends the call."""
        what = self._no_input.silence()
        text = self._no_input.text(what, self._lang, self._last_message)
        log.info("call %s: no input from the caller: %s", self._id, what)
        await self._speak(BotMessage(text=text))
        if what == "goodbye":
            self.outcome = Outcome("no_input")

    async def _utterance(self, utt: Utterance) -> None:
        """Transcribes one utterance and answers it (after a held opener: one turn)."""
        held, self._held = self._held, None
        turn = held.turn if held is not None else self._recorder.new("caller", "")
        if held is None:
            turn.started_at = self._recorder.wall(utt.start_ms)
        turn.ended_at = self._recorder.wall(utt.speech_end_ms)
        turn.endpointing_ms = float(utt.endpoint_ms - utt.speech_end_ms)
        heard = await self._asr.transcribe(utt, self._lang, self._listener.recognition)
        turn.asr_queue_ms = round((turn.asr_queue_ms or 0) + heard.queue_ms, 1)
        turn.asr_ms = round((turn.asr_ms or 0) + heard.asr_ms, 1)
        verdict = judge(heard.text, heard.confidence, self._settings.asr.min_confidence)
        if held is not None:  # "Guten Tag." and what followed (unless noise): one message
            if heard.text and verdict.understood:
                turn.text = joined(held.text, heard.text)
                turn.asr_confidence = round(min(turn.asr_confidence or 1.0, heard.confidence), 3)
            await self._turn(turn, turn.text, {"asr_confidence": turn.asr_confidence})
            return
        turn.text = heard.text
        turn.asr_confidence = round(heard.confidence, 3)
        if not heard.text:
            log.info("call %s: utterance without words ignored", self._id)
            turn.intent = "silence_or_noise"
            await self._recorder.write(turn)
            return
        meta = {"asr_confidence": turn.asr_confidence}
        if not verdict.understood:  # a guess is never answered: Rasa asks again (hearing.py)
            log.info("call %s: not heard well (%s)", self._id, verdict.reason)
            await self._turn(turn, ACOUSTIC_MISS, {**meta, "not_heard": verdict.reason})
            return
        if self._may_hold(heard.text):
            log.info("call %s: waiting for the caller to go on", self._id)
            self._held = _HeldOpener(turn, heard.text)
            return
        await self._turn(turn, heard.text, meta)

    def _may_hold(self, text: str) -> bool:
        """Whether to wait for the rest before answering: an opener, or the caller is already
        speaking again (a pause mid-request); not for a closed answer, not when switched off."""
        return (
            self._settings.vad.opener_hold_ms > 0
            and self._listener.recognition is None
            and (is_opener(text) or self._listener.in_speech)
        )

    async def _answer_opener(self) -> None:
        """The caller did not go on after the opener: Rasa answers it alone."""
        held, self._held = self._held, None
        if held is not None:
            await self._turn(held.turn, held.text, {"asr_confidence": held.turn.asr_confidence})

    async def _turn(self, turn: TurnRecord | None, text: str, meta: dict[str, Any]) -> None:
        """Sends one input to Rasa and speaks every message of the answer."""
        metadata = {
            "caller": self._call.caller,
            "language": self._lang,
            "transport": self._call.transport,
            **entry_metadata(self._call),
            **service_metadata(self._handoff),
            **meta,
        }
        started = time.perf_counter()
        replies = await self._ask_with_filler(text, metadata)
        replied = time.perf_counter()
        if not replies and not await self._rasa.actions_ready():
            # Rasa swallows a failed custom action and answers []: a fault like Rasa down
            raise DialogueError("Rasa answered nothing and the action server is down")
        tracker = asyncio.create_task(self._rasa.tracker(self._id))
        if turn is not None:
            turn.dialogue_ms = round((replied - started) * 1000, 1)
        self._listener.expect_answer("normal")
        messages = paired(replies)
        for _, d in messages:
            self._apply_voice(d)  # before the answer that carries it is spoken
        said = [m.text for m in replies if m.text]
        if said:
            self._last_message = said[-1]
        try:
            first_audio = await self._speak_all(messages)
        except BaseException:
            # the caller hung up while the bot spoke: keep the intent if Rasa's tracker said it
            done = tracker.done() and not tracker.cancelled()
            if turn is not None and done and tracker.exception() is None:
                _note_intent(turn, tracker.result())
            tracker.cancel()
            raise
        if turn is None:
            tracker.cancel()
            return
        if first_audio is not None:
            turn.tts_first_audio_ms = round((first_audio - replied) * 1000, 1)
        try:
            _note_intent(turn, await tracker)
        except DialogueError as exc:
            log.warning("call %s: tracker not read: %s", self._id, exc)
        await self._recorder.write(turn)

    async def _speak_all(self, messages: list[tuple[BotMessage, Directives]]) -> float | None:
        """Speaks the messages in order, acting on each one's directives once it is spoken;
        a barge-in drops the rest. Returns when the first audio left (perf_counter)."""
        first_audio: float | None = None
        for message, d in messages:
            spoken = await self._speak(message, d.uninterruptible)
            if first_audio is None:
                first_audio = spoken.first_audio
            self._apply(d)
            if spoken.interrupted:
                break
        return first_audio

    async def _ask_with_filler(self, text: str, metadata: dict[str, Any]) -> list[BotMessage]:
        """Asks Rasa; if it is slow, says "Einen Moment bitte" (not in two turns in a row)."""
        request = asyncio.ensure_future(self._rasa.send(self._id, text, metadata))
        request.add_done_callback(_seen)
        delay = self._settings.rasa.filler_after_ms / 1000
        played = False
        try:
            done, _ = await asyncio.wait({request}, timeout=delay)
            if not done and not self._filler_was_last:
                played = True
                await self._playback.prompt("filler", self._lang)
            return await request
        finally:
            request.cancel()  # the call ended or the filler failed: nobody waits for Rasa
            self._filler_was_last = played

    async def _speak(self, message: BotMessage, uninterruptible: int = 0) -> Spoken:
        """Speaks one bot message (nothing to play without text); its first `uninterruptible`
        sentences play to the end whatever the caller does (the AI disclosure)."""
        if not message.text:
            return Spoken()
        return await self._playback.say(
            message.text, self._lang, self.voice.length_scale, uninterruptible
        )

    def _apply(self, d: Directives) -> None:
        """Acts on a spoken message's directives: how the call ends, the answer expected next
        (the end-of-turn silence; the last message that names one decides)."""
        outcome = Outcome.of(d)
        if outcome is not None:
            self.outcome = outcome
        if d.expect is not None:
            self._listener.expect_answer(d.expect)

    def _apply_voice(self, d: Directives) -> None:
        """Directives that change how the rest of the call sounds: speech rate and language."""
        self.voice.apply_speech(d.speech)
        language = d.language
        if language is not None and language != self._lang:
            if language in self._tts_languages:
                log.info("call %s: language %s -> %s", self._id, self._lang, language)
                self.voice.language = language
            else:
                log.warning("call %s: no voice for language %r", self._id, language)
