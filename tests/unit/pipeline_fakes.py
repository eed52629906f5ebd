"""Fakes for the pipeline's unit tests: sink, ASR, Rasa, TTS, store, segmenter, handoff.

Each records what the pipeline did to it, so a test feeds inputs (frames in) and reads what came
out (frames, marks, clears, turns, transfers). `until()` waits for a state, never a fixed time.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from voicebot.audio.resample import Pcm16
from voicebot.audio.vad import Utterance, VadEvent
from voicebot.config import RasaSettings, Settings
from voicebot.pipeline.prompts import PROMPT_TEXTS, Prompts
from voicebot.pipeline.services import Services
from voicebot.services.asr import Transcript
from voicebot.services.dialogue import BotMessage, TrackerSummary
from voicebot.store.calls import CallRecord, TurnRecord

RATE = 8000
FRAME = RATE // 50  # samples in 20 ms


async def until(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    """Waits until `predicate()` holds (checked every loop turn), failing after `timeout`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError("the expected state was not reached")
        await asyncio.sleep(0.001)


def pcm(frames: int, level: int = 1000) -> Pcm16:
    """`frames` 20 ms frames of a constant non-zero level at RATE."""
    return np.full(frames * FRAME, level, dtype=np.int16)


def utterance(start_ms: int = 0, end_ms: int = 800, complete: bool = True) -> Utterance:
    """An utterance of the caller (its audio does not matter to the fakes)."""
    return Utterance(
        pcm=np.ones(16000, dtype=np.int16),
        start_ms=start_ms,
        speech_end_ms=end_ms,
        endpoint_ms=end_ms + 600,
        voiced_ms=end_ms - start_ms,
        complete=complete,
    )


class FakeSink:
    """Records every frame, mark, clear, transfer and close."""

    sample_rate = RATE

    def __init__(self, transfer_ok: bool = True) -> None:
        self.frames: list[Pcm16] = []
        self.marks: list[str] = []
        self.clears = 0
        self.transfers: list[tuple[str, str]] = []
        self.closed: list[str] = []
        self.transfer_ok = transfer_ok
        self.hold = False
        self.hold_checks = 0

    @property
    def on_hold(self) -> bool:
        self.hold_checks += 1
        return self.hold

    async def send_audio(self, frame: Pcm16) -> None:
        assert len(frame) == FRAME
        self.frames.append(frame)

    async def send_mark(self, name: str) -> None:
        self.marks.append(name)

    async def clear(self) -> None:
        self.clears += 1

    async def close(self, reason: str) -> None:
        self.closed.append(reason)

    async def transfer(self, target: str, handoff_id: str) -> bool:
        self.transfers.append((target, handoff_id))
        return self.transfer_ok


class FakeTts:
    """Speaks every text as `frames_per_sentence` frames per sentence-like chunk."""

    languages = ["de", "en"]

    def __init__(self, frames: int = 2, fail: BaseException | None = None) -> None:
        self.frames = frames
        self.fail = fail
        self.said: list[tuple[str, str, float | None]] = []

    async def stream(
        self, text: str, language: str, out_rate: int, length_scale: float | None = None
    ) -> AsyncIterator[Pcm16]:
        self.said.append((text, language, length_scale))
        if self.fail is not None:
            raise self.fail
        for _ in range(2):
            yield pcm(self.frames)


class FakeAsr:
    """Transcribes every utterance as `text`; `gate` (if set) holds transcriptions back."""

    def __init__(self, text: str = "Wann hat das Bürgerbüro geöffnet") -> None:
        self.text = text
        self.confidence = 0.9
        self.loaded = True
        self.idle_workers = 1
        self.calls = 0
        self.cancelled = 0
        self.gate: asyncio.Event | None = None
        self.expected: list[str | None] = []  # the expectation of each recognize() call

    async def transcribe(self, pcm: Pcm16, language: str | None = None) -> Transcript:
        self.calls += 1
        try:
            if self.gate is not None:
                await self.gate.wait()
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        return Transcript(self.text, language or "de", self.confidence, 0.01, 1.0, 2.0)

    async def recognize(self, pcm: Pcm16, language: str | None, expect: str | None) -> Transcript:
        """Notes the expected answer (`expected`), then transcribes as above."""
        self.expected.append(expect)
        return await self.transcribe(pcm, language)


class FakeRasa:
    """Answers each turn from `replies` (a list per turn; an exception is raised instead)."""

    def __init__(self, *replies: list[BotMessage] | BaseException, delay_s: float = 0.0) -> None:
        self.replies: list[list[BotMessage] | BaseException] = list(replies)
        self.delay_s = delay_s  # how slow Rasa is (the filler tests)
        self.sent: list[tuple[str, dict[str, Any]]] = []
        self.actions_up = True  # what the action server's health check says

    async def actions_ready(self) -> bool:
        return self.actions_up

    async def send(self, sender: str, text: str, metadata: dict[str, Any]) -> list[BotMessage]:
        self.sent.append((text, metadata))
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        reply = self.replies.pop(0) if self.replies else [BotMessage(text="Noch etwas?")]
        if isinstance(reply, BaseException):
            raise reply
        return reply

    async def tracker(self, sender: str) -> TrackerSummary:
        return TrackerSummary("ask_hours", 0.97, {})


@dataclass
class FakeStore:
    """Records the call row, turns and the end of the call."""

    calls: list[CallRecord] = field(default_factory=list)
    turns: list[TurnRecord] = field(default_factory=list)
    ends: list[tuple[str, str, str | None, str | None]] = field(default_factory=list)
    fail_turns: BaseException | None = None

    async def start_call(self, call: CallRecord) -> None:
        self.calls.append(call)

    async def add_turn(self, turn: TurnRecord) -> None:
        if self.fail_turns is not None:
            raise self.fail_turns
        self.turns.append(turn)

    async def end_call(
        self,
        call_id: str,
        reason: str,
        handoff_department: str | None = None,
        handoff_reason: str | None = None,
    ) -> None:
        self.ends.append((call_id, reason, handoff_department, handoff_reason))

    def texts(self, speaker: str) -> list[str]:
        return [t.text for t in self.turns if t.speaker == speaker]


class FakeSegmenter:
    """Returns scripted VAD events, one list per push; records who touched it and when."""

    def __init__(self) -> None:
        self.script: list[list[VadEvent]] = []
        self.pushes = 0
        self.leftover: Utterance | None = None
        self.in_speech = False
        self.speech_end_ms = 0
        self.answers: list[str] = []  # each end-of-turn switch, in order
        self.held: list[bool] = []  # the keypad hold of each push
        self.threads: set[str] = set()
        self.flushed = False

    def expect_answer(self, answer: str) -> None:
        self.threads.add(threading.current_thread().name)
        self.answers.append(answer)

    def hold_end_of_turn(self, hold: bool) -> None:
        self.threads.add(threading.current_thread().name)
        self.held.append(hold)

    def push(self, audio: Pcm16) -> list[VadEvent]:
        self.threads.add(threading.current_thread().name)
        assert not self.flushed, "audio pushed after the flush"
        self.pushes += 1
        return self.script.pop(0) if self.script else []

    def flush(self) -> Utterance | None:
        self.threads.add(threading.current_thread().name)
        self.flushed = True
        return self.leftover


@dataclass
class FakeHandoff:
    """What the session uses of the handoff service; records handoffs and failed transfers."""

    kind: str = "transfer"
    created: list[dict[str, Any]] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def agents_available(self) -> bool:
        return self.kind == "transfer"

    def hours_de(self) -> str:
        return "Montag bis Freitag"

    def target_for(self, department: str, catalogue_target: str | None = None) -> str:
        return catalogue_target or f"sip:{department}@pbx"

    async def create(
        self,
        call_id: str,
        caller: str | None,
        language: str,
        department: str | None,
        reason: str | None,
        *,
        callback_requested: bool = False,
        target: str | None = None,
    ) -> Any:
        self.created.append({"department": department, "reason": reason, "target": target})
        kind = "callback" if callback_requested else self.kind
        target = self.target_for(department or "default", target) if kind == "transfer" else None
        return _Handoff("H7K2", department or "default", kind, target)

    def announcement(self, handoff: Any, language: str) -> tuple[str, str]:
        return f"Ihre Nummer ist {handoff.handoff_id}.", "Ihre Nummer ist H 7 K 2."

    def transfer_failed_prompt(self, language: str) -> str:
        return "Die Weiterleitung hat nicht geklappt."

    async def transfer_failed(self, handoff: Any) -> None:
        self.failed.append(handoff.handoff_id)


@dataclass
class _Handoff:
    handoff_id: str
    department: str
    kind: str
    target: str | None


def prompts() -> Prompts:
    """Every prompt as two frames of audio at the sink's rate."""
    audio = {(name, lang): pcm(2) for lang, texts in PROMPT_TEXTS.items() for name in texts}
    return Prompts(source_rate=RATE, audio=audio)


def settings(**overrides: Any) -> Settings:
    """Settings with tiny timers: no filler unless asked, no no-input unless asked."""
    rasa = RasaSettings(filler_after_ms=overrides.pop("filler_after_ms", 60_000))
    values: dict[str, Any] = {"no_input_s": 0.0, "dtmf_interdigit_ms": 20, **overrides}
    return Settings(rasa=rasa, **values)


@dataclass
class Fakes:
    """One call's fakes and the services made of them."""

    settings: Settings = field(default_factory=settings)
    sink: FakeSink = field(default_factory=FakeSink)
    asr: FakeAsr = field(default_factory=FakeAsr)
    tts: FakeTts = field(default_factory=FakeTts)
    rasa: FakeRasa = field(default_factory=FakeRasa)
    store: FakeStore = field(default_factory=FakeStore)
    segmenter: FakeSegmenter = field(default_factory=FakeSegmenter)
    handoff: FakeHandoff | None = None
    pool: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=1, thread_name_prefix="vad")
    )

    def services(self) -> Services:
        services = Services(
            settings=self.settings,
            asr=self.asr,  # type: ignore[arg-type]
            tts=self.tts,  # type: ignore[arg-type]
            rasa=self.rasa,  # type: ignore[arg-type]
            store=self.store,  # type: ignore[arg-type]
            vad=None,  # type: ignore[arg-type]
            prompts=prompts(),
            vad_pool=self.pool,
            handoff=self.handoff,  # type: ignore[arg-type]
        )
        services.new_segmenter = lambda: self.segmenter  # type: ignore[assignment,method-assign,return-value]
        return services
