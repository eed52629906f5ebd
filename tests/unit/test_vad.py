"""Silero VAD endpointing on the audio fixtures, streamed the way a call delivers them."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from tests.support import FIXTURES
from voicebot.audio.resample import StreamResampler
from voicebot.audio.vad import (
    Segmenter,
    SileroVad,
    SpeechPaused,
    SpeechStarted,
    Utterance,
    VadEvent,
)
from voicebot.caller import load_caller_audio
from voicebot.config import VadSettings
from voicebot.protocol.g711 import ulaw_decode, ulaw_encode

RATE = 8000
STEADY_CLIP = "mensch_reden.wav"  # clearly voiced from start to end


@pytest.fixture(scope="module")
def vad() -> SileroVad:
    return SileroVad()


def stream(vad: SileroVad, pcm: np.ndarray, settings: VadSettings | None = None) -> list[VadEvent]:
    """Feeds 8 kHz audio in 20 ms u-law frames, as a call does, then two seconds of silence."""
    segmenter = Segmenter(vad.stream(), settings or VadSettings())
    resampler = StreamResampler(RATE, 16000)
    pcm = np.concatenate([pcm, np.zeros(2 * RATE, dtype=np.int16)])
    events: list[VadEvent] = []
    for i in range(0, len(pcm), 160):
        frame = ulaw_decode(ulaw_encode(pcm[i : i + 160]))
        events += segmenter.push(resampler.process(frame))
    return events


def voiced_span_ms(pcm: np.ndarray) -> tuple[int, int]:
    """First and last 10 ms block clearly above silence."""
    blocks = pcm[: len(pcm) // 80 * 80].astype(np.float64).reshape(-1, 80)
    loud = np.flatnonzero(np.sqrt((blocks**2).mean(axis=1)) > 500)
    return int(loud[0]) * 10, int(loud[-1] + 1) * 10


def test_each_fixture_is_one_utterance_covering_its_speech(
    vad: SileroVad, manifest: list[dict[str, Any]]
) -> None:
    for entry in manifest:
        pcm = load_caller_audio(FIXTURES / entry["file"])
        events = stream(vad, pcm)
        utterances = [e for e in events if isinstance(e, Utterance)]
        assert len(utterances) == 1, f"{entry['file']}: {len(utterances)} utterances"
        assert isinstance(next(e for e in events if not isinstance(e, SpeechPaused)), SpeechStarted)
        utt = utterances[0]
        first, last = voiced_span_ms(pcm)
        # stream times lag by the resampler's delay; allow for it and for window granularity
        assert abs(utt.start_ms - first) <= 200, entry["file"]
        assert abs(utt.speech_end_ms - last) <= 300, entry["file"]
        assert utt.endpoint_ms - utt.speech_end_ms >= VadSettings().end_silence_ms
        assert utt.duration_s * 1000 >= (last - first), "no speech was cut off"


def test_a_short_answer_is_heard_wherever_the_vad_windows_fall(
    vad: SileroVad, manifest: list[dict[str, Any]]
) -> None:
    """A caller's "Ja, das stimmt" after a quiet line must not depend on luck: 20 ms frames
    against 32 ms windows give eight alignments, and each must yield an utterance.

    Known limit (README, "What happens in a call"): from the fresh model state after an idle
    line, Silero may still score a soft first word ("Tschüss") low at some alignments; the
    rest is then heard."""
    short = [e for e in manifest if e["duration_s"] <= 2.5]
    assert len(short) >= 5, "the manifest has too few short clips for this test"
    for entry in short:
        pcm = load_caller_audio(FIXTURES / entry["file"])
        for frames_of_lead in range(8):
            lead_ms = 3000 + frames_of_lead * 20
            events = stream(vad, np.concatenate([np.zeros(lead_ms * 8, dtype=np.int16), pcm]))
            heard = [e for e in events if isinstance(e, Utterance)]
            assert heard, f"{entry['file']} after {lead_ms} ms of idle line: not heard"


def test_silence_and_a_click_are_not_utterances(vad: SileroVad) -> None:
    silence = np.zeros(RATE * 2, dtype=np.int16)
    assert stream(vad, silence) == []
    rng = np.random.default_rng(7)
    click = silence.copy()
    click[RATE : RATE + 400] = rng.integers(-20000, 20000, 400)  # 50 ms burst
    assert not [e for e in stream(vad, click) if isinstance(e, Utterance)]


def test_pause_length_decides_one_or_two_utterances(
    vad: SileroVad, manifest: list[dict[str, Any]]
) -> None:
    pcm = load_caller_audio(FIXTURES / STEADY_CLIP)
    first, last = voiced_span_ms(pcm)
    speech = pcm[first * 8 : last * 8]

    def count(gap_ms: int) -> int:
        gap = np.zeros(gap_ms * 8, dtype=np.int16)
        events = stream(vad, np.concatenate([gap, speech, gap, speech]))
        return len([e for e in events if isinstance(e, Utterance)])

    assert count(1500) == 2
    assert count(250) == 1


def test_long_answers_get_a_longer_end_of_turn(
    vad: SileroVad, manifest: list[dict[str, Any]]
) -> None:
    pcm = load_caller_audio(FIXTURES / STEADY_CLIP)
    first, last = voiced_span_ms(pcm)
    speech = pcm[first * 8 : last * 8]
    gap = np.zeros(900 * 8, dtype=np.int16)
    audio = np.concatenate([speech, gap, speech])
    assert len([e for e in stream(vad, audio) if isinstance(e, Utterance)]) == 2
    long = VadSettings(end_silence_ms=1200)
    assert len([e for e in stream(vad, audio, long) if isinstance(e, Utterance)]) == 1


def test_hang_up_mid_utterance_flushes_it_as_incomplete(
    vad: SileroVad, manifest: list[dict[str, Any]]
) -> None:
    pcm = load_caller_audio(FIXTURES / STEADY_CLIP)
    first, _ = voiced_span_ms(pcm)
    segmenter = Segmenter(vad.stream(), VadSettings())
    resampler = StreamResampler(RATE, 16000)
    part = pcm[: (first + 900) * 8]
    for i in range(0, len(part), 160):
        segmenter.push(resampler.process(part[i : i + 160]))
    utt = segmenter.flush()
    assert utt is not None and utt.complete is False
    assert segmenter.flush() is None


def test_speech_after_a_long_idle_line_is_still_detected(
    vad: SileroVad, manifest: list[dict[str, Any]]
) -> None:
    for entry in manifest:
        pcm = load_caller_audio(FIXTURES / entry["file"])
        idle = np.zeros(RATE * 15, dtype=np.int16)  # the caller listened for 15 s
        after_idle = [
            e for e in stream(vad, np.concatenate([idle, pcm])) if isinstance(e, Utterance)
        ]
        assert len(after_idle) == 1, entry["file"]
        fresh = [e for e in stream(vad, pcm) if isinstance(e, Utterance)]
        # the cut handed to Whisper does not depend on how long the line was idle
        # (up to rounding in the resampler's filter state: a sample may differ by an LSB or two)
        a, b = after_idle[0].pcm.astype(np.int32), fresh[0].pcm.astype(np.int32)
        assert a.shape == b.shape and np.abs(a - b).max() <= 2, entry["file"]


def test_a_short_pause_offers_the_utterance_for_speculative_asr(
    vad: SileroVad, manifest: list[dict[str, Any]]
) -> None:
    """The last SpeechPaused before the end of turn carries exactly the final audio."""
    for entry in manifest:
        events = stream(vad, load_caller_audio(FIXTURES / entry["file"]))
        final = next(e for e in events if isinstance(e, Utterance))
        paused = [e.utterance for e in events if isinstance(e, SpeechPaused)]
        assert paused, entry["file"]
        last = paused[-1]
        assert (last.start_ms, last.speech_end_ms) == (final.start_ms, final.speech_end_ms)
        assert np.array_equal(last.pcm, final.pcm), entry["file"]
        assert final.endpoint_ms - last.endpoint_ms >= 600 - 192 - 32


def test_speech_after_the_pause_makes_the_speculation_stale(vad: SileroVad) -> None:
    pcm = load_caller_audio(FIXTURES / STEADY_CLIP)
    first, last = voiced_span_ms(pcm)
    speech = pcm[first * 8 : last * 8]
    gap = np.zeros(400 * 8, dtype=np.int16)  # longer than the speculative pause, shorter than 600
    events = stream(vad, np.concatenate([speech, gap, speech]))
    final = [e for e in events if isinstance(e, Utterance)]
    paused = [e.utterance for e in events if isinstance(e, SpeechPaused)]
    assert len(final) == 1 and len(paused) >= 2
    assert paused[0].speech_end_ms < final[0].speech_end_ms, "the first pause is stale"
    assert paused[-1].speech_end_ms == final[0].speech_end_ms
    off = VadSettings(speculative_silence_ms=0)
    assert not [e for e in stream(vad, np.concatenate([speech, gap, speech]), off)
                if isinstance(e, SpeechPaused)]  # fmt: skip
