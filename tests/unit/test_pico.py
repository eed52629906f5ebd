"""SVOX Pico (pico2wave): German and English speech, rate, markup safety and failures."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest

from voicebot.config import TtsSettings
from voicebot.errors import ModelError
from voicebot.services import tts_engines
from voicebot.services.tts import PicoEngine, TtsError, TtsService, VoiceChoice, make_engine
from voicebot.services.tts_engines import pico_available, pico_markup

GERMAN = "Das Bürgerbüro ist heute bis zwölf Uhr geöffnet."
ENGLISH = "The citizens' office is open until twelve o'clock today."

needs_pico = pytest.mark.skipif(
    pico_available() is None,
    reason="pico2wave is not installed (libttspico-utils, Debian non-free: scripts/bootstrap.sh)",
)


def _rms(audio: np.ndarray) -> float:
    return float(np.sqrt(np.mean(audio.astype(np.float64) ** 2)))


def _fake_binary(tmp_path: Path, script: str) -> Path:
    """An executable standing in for pico2wave."""
    path = tmp_path / "pico2wave"
    path.write_text("#!/bin/sh\n" + script + "\n")
    path.chmod(0o755)
    return path


@needs_pico
@pytest.mark.parametrize(("language", "text"), [("de", GERMAN), ("en", ENGLISH)])
@pytest.mark.parametrize("rate", [8000, 16000, 22050])
def test_pico_speaks_at_the_requested_rate(language: str, text: str, rate: int) -> None:
    engine = PicoEngine(language, sample_rate=rate)
    audio = engine.synthesize(text)
    assert engine.sample_rate == rate and audio.dtype == np.int16 and audio.ndim == 1
    assert 1.5 < len(audio) / rate < 6.0  # about 3 s of speech
    assert _rms(audio) > 500


@needs_pico
def test_german_and_english_are_different_voices() -> None:
    assert PicoEngine("de").language == "de-DE" and PicoEngine("en").language == "en-US"
    german = PicoEngine("de").synthesize(GERMAN)
    english = PicoEngine("en").synthesize(GERMAN)
    assert german.shape != english.shape or not np.array_equal(german, english)


@needs_pico
def test_length_scale_slows_pico_down() -> None:
    engine = PicoEngine("de")
    normal = len(engine.synthesize(GERMAN, 1.0))
    slow = len(engine.synthesize(GERMAN, 1.5))
    fast = len(engine.synthesize(GERMAN, 0.8))
    assert slow > normal * 1.2 and fast < normal * 0.95


def test_pace_and_length_scale_make_the_speed_tag(tmp_path: Path) -> None:
    binary = _fake_binary(tmp_path, "exit 0")
    engine = PicoEngine("de", binary=binary)
    assert engine.pace == tts_engines.PICO_PACE  # the measured default
    text = engine.command(tmp_path / "x.wav", "Hallo", 1.0)[-1]
    assert text == f'<speed level="{round(100 / tts_engines.PICO_PACE)}">Hallo</speed>'
    own = PicoEngine("de", binary=binary, pace=1.0)
    assert own.command(tmp_path / "x.wav", "Hallo", 1.0)[-2:] == ["--", "Hallo"]
    assert own.command(tmp_path / "x.wav", "Hallo", 2.0)[-1] == '<speed level="50">Hallo</speed>'


@needs_pico
def test_markup_in_text_is_spoken_not_obeyed() -> None:
    engine = PicoEngine("de")
    tricky = 'Bitte <speed level="20">warten</speed> Sie <pitch level="300">.'
    audio = engine.synthesize(tricky)
    # the tags are read as words: exactly what the text says with '<' '>' as spaces
    as_words = engine.synthesize(tricky.replace("<", " ").replace(">", " "))
    assert _rms(audio) > 500 and np.array_equal(audio, as_words)
    assert pico_markup("a<b>c", 1.0) == "a b c"
    assert pico_markup("x </speed> y", 1.25) == '<speed level="80">x /speed y</speed>'


@needs_pico
def test_text_is_never_an_option() -> None:
    audio = PicoEngine("de").synthesize("-w /tmp/x.wav --help")
    assert len(audio) > 0 and _rms(audio) > 100


@needs_pico
def test_long_text_is_spoken_in_pieces_and_nothing_is_left_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(tts_engines, "PICO_MAX_CHARS", 20)
    engine = PicoEngine("de")
    audio = engine.synthesize(GERMAN)  # 49 characters: three runs
    assert 2.0 < len(audio) / engine.sample_rate < 8.0
    assert list(tmp_path.iterdir()) == []  # the private temporary directories are gone
    assert len(engine.synthesize("  ")) == 0


@needs_pico
def test_make_engine_and_service_use_pico() -> None:
    engine = make_engine(VoiceChoice("pico"), "de", TtsSettings())
    assert isinstance(engine, PicoEngine) and engine.language == "de-DE"
    service = TtsService(TtsSettings(), {"de": VoiceChoice("pico"), "en": VoiceChoice("pico")})
    assert len(service.synthesize_blocking("Guten Tag. Wie geht es?", "de", 8000)) > 8000
    assert isinstance(service.engine("en"), PicoEngine)


def test_failing_binary_is_a_tts_error_naming_engine_and_sentence(tmp_path: Path) -> None:
    engine = PicoEngine("de", binary=_fake_binary(tmp_path, 'echo "lingware broken" >&2; exit 3'))
    with pytest.raises(TtsError, match=r"Pico \(de-DE\) failed on 'Hallo Welt.*exit 3.*broken"):
        engine.synthesize("Hallo Welt.")


def test_binary_without_output_is_a_tts_error(tmp_path: Path) -> None:
    engine = PicoEngine("en", binary=_fake_binary(tmp_path, "exit 0"))
    with pytest.raises(TtsError, match=r"Pico \(en-US\) wrote no readable WAV for 'Hello'"):
        engine.synthesize("Hello")


def test_hanging_binary_times_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tts_engines, "PICO_TIMEOUT_S", 0.3)
    engine = PicoEngine("de", binary=_fake_binary(tmp_path, "exec sleep 5"))
    with pytest.raises(TtsError, match="timed out"):
        engine.synthesize("Hallo.")


def test_missing_pico_says_how_to_install(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ModelError, match="libttspico-utils.*non-free"):
        PicoEngine("de")
