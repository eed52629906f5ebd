"""End-of-turn by dialogue state on real Silero VAD: a long answer keeps its pause, a yes or no
ends sooner, and keypad entry holds the end-of-turn timer."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import soundfile as sf
import yaml

from tests.support import FIXTURES
from voicebot.audio.resample import StreamResampler
from voicebot.audio.vad import Answer, Segmenter, SileroVad, Utterance
from voicebot.caller import load_caller_audio
from voicebot.config import VadSettings
from voicebot.protocol.g711 import ulaw_decode, ulaw_encode

RATE = 8000
PAUSED_ADDRESS = "adresse_pause.wav"


@pytest.fixture(scope="module")
def vad() -> SileroVad:
    return SileroVad()


def derived(name: str) -> dict[str, Any]:
    manifest = yaml.safe_load((FIXTURES / "manifest.yml").read_text(encoding="utf-8"))
    (entry,) = [c for c in manifest["dialogue_test_clips"] if c["file"] == name]
    return dict(entry)


def utterances(
    vad: SileroVad, pcm: np.ndarray, answer: Answer, lead_ms: int = 0
) -> list[Utterance]:
    """The utterances a call's segmenter cuts from 8 kHz audio (u-law, 20 ms frames)."""
    segmenter = Segmenter(vad.stream(), VadSettings())
    segmenter.expect_answer(answer)
    resampler = StreamResampler(RATE, 16000)
    lead = np.zeros(lead_ms * RATE // 1000, dtype=np.int16)
    audio = np.concatenate([lead, pcm, np.zeros(2 * RATE, dtype=np.int16)])
    events = []
    for i in range(0, len(audio), 160):
        frame = ulaw_decode(ulaw_encode(audio[i : i + 160]))
        events += segmenter.push(resampler.process(frame))
    return [e for e in events if isinstance(e, Utterance)]


def test_the_paused_address_clip_is_made_as_its_manifest_says() -> None:
    entry = derived(PAUSED_ADDRESS)
    source = load_caller_audio(FIXTURES / entry["source"]["from"])
    cut = int(1.10 * RATE)
    rebuilt = np.concatenate([source[:cut], np.zeros(900 * RATE // 1000, np.int16), source[cut:]])
    pcm, rate = sf.read(FIXTURES / PAUSED_ADDRESS, dtype="int16")
    assert rate == RATE and np.array_equal(pcm, rebuilt)
    assert abs(len(pcm) / RATE - entry["duration_s"]) < 0.01


@pytest.mark.parametrize("lead_ms", range(0, 32, 4))  # every phase of the 32 ms VAD windows
def test_an_address_with_a_900_ms_pause_arrives_whole_only_when_a_long_answer_is_expected(
    vad: SileroVad, lead_ms: int
) -> None:
    pcm = load_caller_audio(FIXTURES / PAUSED_ADDRESS)
    assert len(utterances(vad, pcm, "normal", lead_ms)) == 2  # cut after "Hauptstraße"
    (whole,) = utterances(vad, pcm, "long", lead_ms)
    assert whole.speech_end_ms - whole.start_ms > 2500  # both halves, the pause inside
    assert whole.duration_s > 3.0


def test_a_yes_or_no_is_answered_sooner(vad: SileroVad) -> None:
    pcm = load_caller_audio(FIXTURES / "ja_stimmt.wav")
    (normal,) = utterances(vad, pcm, "normal")
    (short,) = utterances(vad, pcm, "yes_no")
    settings = VadSettings()
    assert short.speech_end_ms == normal.speech_end_ms  # the whole "Ja, das stimmt"
    assert short.endpoint_ms - short.speech_end_ms >= settings.yes_no_end_silence_ms
    assert short.endpoint_ms - short.speech_end_ms < settings.end_silence_ms
    assert normal.endpoint_ms - short.endpoint_ms >= 150


def test_keypad_entry_holds_the_end_of_turn_timer(vad: SileroVad) -> None:
    """Speech, then silence while the caller types: no end of turn until the entry is done,
    then the usual silence (the timer goes on where it stood) ends it."""
    pcm = load_caller_audio(FIXTURES / "mensch_reden.wav")
    segmenter = Segmenter(vad.stream(), VadSettings())
    resampler = StreamResampler(RATE, 16000)

    def feed(audio: np.ndarray) -> list[Utterance]:
        out = []
        for i in range(0, len(audio), 160):
            out += segmenter.push(resampler.process(audio[i : i + 160]))
        return [e for e in out if isinstance(e, Utterance)]

    speech = pcm[: len(pcm) - int(0.5 * RATE)]  # the words, without the trailing silence
    assert feed(speech) == []
    segmenter.hold_end_of_turn(True)  # a key was pressed
    assert feed(np.zeros(3 * RATE, dtype=np.int16)) == []  # three seconds of typing
    assert segmenter.in_speech
    segmenter.hold_end_of_turn(False)  # the entry is complete
    (done,) = feed(np.zeros(RATE, dtype=np.int16))
    released_ms = (len(speech) + 3 * RATE) * 1000 // RATE
    assert done.complete and released_ms < done.endpoint_ms
    assert done.endpoint_ms <= released_ms + VadSettings().end_silence_ms  # not counted afresh
