"""The shared services every call uses, built once per gateway process."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from voicebot.audio.vad import Segmenter, SileroVad
from voicebot.config import Settings
from voicebot.handoff.service import HandoffService
from voicebot.pipeline.prompts import Prompts
from voicebot.services.asr import AsrService
from voicebot.services.dialogue import RasaClient
from voicebot.services.tts import TtsService
from voicebot.store.calls import CallStore


@dataclass
class Services:
    """Models, clients and the store, shared by all calls of one gateway."""

    settings: Settings
    asr: AsrService
    tts: TtsService
    rasa: RasaClient
    store: CallStore
    vad: SileroVad
    prompts: Prompts
    # runs every call's segmenter jobs (pipeline.listening.Listener: one job per call at a time)
    vad_pool: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=1, thread_name_prefix="vad")
    )
    handoff: HandoffService | None = None  # handoff records, transfer hook, callbacks

    def new_segmenter(self) -> Segmenter:
        """A per-call endpointing state machine over the shared VAD model."""
        return Segmenter(self.vad.stream(), self.settings.vad)
