"""The ASR worker accounting that speculative transcription relies on (a stand-in model)."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

from voicebot.config import AsrSettings
from voicebot.services.asr import AsrService


class _GatedModel:
    """Transcribes nothing until the test opens the gate."""

    def __init__(self) -> None:
        self.gate = threading.Event()

    def transcribe(self, audio: Any, **_: Any) -> tuple[list[Any], Any]:
        self.gate.wait(5)
        return [], SimpleNamespace(language="de")


def test_idle_workers_count_queued_and_running_transcriptions() -> None:
    service = AsrService(AsrSettings(num_workers=1), Path("unused"), [])
    model = _GatedModel()
    service._model = model
    pcm = np.zeros(1600, dtype=np.int16)

    async def scenario() -> list[int]:
        seen = [service.idle_workers]
        first = asyncio.create_task(service.transcribe(pcm))
        second = asyncio.create_task(service.transcribe(pcm))
        await asyncio.sleep(0.05)
        seen.append(service.idle_workers)
        second.cancel()  # still queued behind the first: it never runs
        await asyncio.sleep(0.05)
        model.gate.set()
        await first
        seen.append(service.idle_workers)
        return seen

    try:
        assert asyncio.run(scenario()) == [1, 0, 1]
    finally:
        service.close()
