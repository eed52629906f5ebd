"""Constrained recognition with the real Whisper base model on the short answer fixtures: the
expected answer is heard where free transcription is unreliable, an answer of another kind is
left alone, and the work runs on the ASR pool, never on the event loop.

No exact transcript is asserted: only what the dialogue reads from the answer (its digits, yes
or no), which is what the recogniser is for."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile

from tests.unit.pipeline_fakes import until
from voicebot.audio.resample import resample
from voicebot.config import AsrSettings
from voicebot.services.asr import AsrService
from voicebot.services.constrained import ConstrainedRecognizer, Heard
from voicebot.services.constrained_text import says_yes_or_no, spoken_digits

FIXTURES = Path(__file__).resolve().parents[2] / "audio_fixtures"


@pytest.fixture(scope="module")
def recognizer() -> Iterator[ConstrainedRecognizer]:
    from faster_whisper import WhisperModel

    from voicebot.tools import whisper_model_dir

    directory, _how = whisper_model_dir()
    model = WhisperModel(str(directory), device="cpu", compute_type="int8", cpu_threads=2)
    yield ConstrainedRecognizer(model, "de", None, 1)


def clip(name: str) -> np.ndarray:
    pcm, rate = soundfile.read(str(FIXTURES / name), dtype="int16")
    return resample(pcm, rate, 16000).astype(np.float32) / 32768.0


def hear(recognizer: ConstrainedRecognizer, name: str, kind: str | None) -> Heard:
    return recognizer.recognize(clip(name), "de", kind)


@pytest.mark.parametrize(
    ("name", "digits"),
    [("postleitzahl_leverkusen.wav", "51373"), ("postleitzahl_koeln.wav", "50670")],
)
def test_a_postcode_spoken_digit_by_digit_is_heard(
    recognizer: ConstrainedRecognizer, name: str, digits: str
) -> None:
    heard = hear(recognizer, name, "postcode")
    assert spoken_digits(heard.text) == digits, heard


def test_a_phone_number_spoken_digit_by_digit_is_heard(recognizer: ConstrainedRecognizer) -> None:
    heard = hear(recognizer, "telefon_ziffern.wav", "phone")
    assert spoken_digits(heard.text) == "0214123456", heard
    # the candidates were scored in one batch, the free transcript among them
    assert heard.free_text in [s.text for s in heard.scored], heard


def test_a_no_is_heard_as_no(recognizer: ConstrainedRecognizer) -> None:
    heard = hear(recognizer, "nein.wav", "yes_no")
    assert says_yes_or_no(heard.text) and "nein" in heard.text.lower(), heard


@pytest.mark.parametrize(
    ("name", "kind"),
    [("mitarbeiter_bitte.wav", "postcode"), ("echte_person.wav", "yes_no")],
)
def test_an_answer_of_another_kind_keeps_its_free_transcript(
    recognizer: ConstrainedRecognizer, name: str, kind: str
) -> None:
    """A request for a person when digits or a yes/no are expected is passed on as heard."""
    heard = hear(recognizer, name, kind)
    assert not heard.constrained and heard.text == heard.free_text, heard
    assert spoken_digits(heard.text) is None and not says_yes_or_no(heard.text), heard


def test_without_an_expectation_only_the_free_transcript_is_made(
    recognizer: ConstrainedRecognizer,
) -> None:
    heard = hear(recognizer, "postleitzahl_leverkusen.wav", None)
    assert heard.scored == () and not heard.constrained and heard.text == heard.free_text


class _GatedRecognizer:
    """Recognises nothing until the test opens the gate; notes the thread it ran on."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.threads: list[str] = []

    def recognize(self, audio: Any, language: str, kind: str | None) -> Heard:
        self.threads.append(threading.current_thread().name)
        self.gate.wait(5)
        return Heard("51373", "5 1 3 7 3", 0.8, 0.01, language, True)


def test_recognition_runs_on_the_asr_pool_and_the_loop_keeps_running() -> None:
    service = AsrService(AsrSettings(num_workers=1), Path("unused"), [])
    gated = _GatedRecognizer()
    service._model = object()
    service._constrained = gated  # type: ignore[assignment]
    pcm = np.zeros(1600, dtype=np.int16)

    async def scenario() -> tuple[bool, int, str, bool]:
        job = asyncio.create_task(service.recognize(pcm, "de", "postcode"))
        await until(lambda: bool(gated.threads))  # the loop polls while the job waits
        pending, busy = not job.done(), service.idle_workers
        gated.gate.set()  # only the loop opens the gate: it was never blocked
        heard = await job
        return pending, busy, heard.text, heard.constrained

    try:
        pending, busy, text, constrained = asyncio.run(scenario())
    finally:
        service.close()
    assert pending and busy == 0
    assert (text, constrained) == ("51373", True)
    assert gated.threads and all(name.startswith("asr") for name in gated.threads)
