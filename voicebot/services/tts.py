"""Speech synthesis: sentence splitting and a service that streams one audio chunk per sentence.

Synthesis is blocking (Piper's onnxruntime, the espeak-ng binary) and always runs in a worker
thread; the next sentence is synthesised while the caller plays the current one.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from collections.abc import AsyncIterator, Mapping
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from voicebot.audio.resample import resample
from voicebot.config import TtsSettings
from voicebot.errors import ModelError, VoicebotError
from voicebot.services.audio_cache import AudioCache
from voicebot.services.tts_engines import (
    EspeakEngine,
    Pcm16,
    PicoEngine,
    PiperEngine,
    SpeechEngine,
    TtsError,
)

__all__ = [
    "EspeakEngine",
    "PicoEngine",
    "PiperEngine",
    "SpeechEngine",
    "TtsError",
    "TtsService",
    "VoiceChoice",
    "VoiceLike",
    "make_engine",
    "split_sentences",
]

# --- sentence splitting -------------------------------------------------------------------

# A run of terminators, optionally closed by quotes or brackets, followed by whitespace.
_BOUNDARY = re.compile(r"[.!?:;]+[\"'»«“”)\]]*(?=\s)")
_LAST_TOKEN = re.compile(r"(\S+)$")
_NEXT_TOKEN = re.compile(r"\s+(\S+)")
# Single-word abbreviations (lower case, without the period) that never end a sentence.
_ABBREVIATIONS = frozenset(
    [
        "nr",
        "ca",
        "bzw",
        "usw",
        "str",
        "dr",
        "tel",
        "vgl",
        "ggf",
        "evtl",
        "inkl",
        "prof",
        "hr",
        "fr",
        "abs",
        "bzgl",
        "gem",
        "max",
        "min",
        "mind",
        "zzgl",
    ]
)
# Two-part abbreviations written compactly ("z.B") or as their first letter ("z" of "z. B.").
_COMPACT = frozenset({"z.b", "u.a", "d.h", "o.ä", "u.u", "z.t", "u.ä", "s.o", "s.u"})
_SECOND_PART = re.compile(r"(?:^|\s)[zZuUdDoOsS]\.\s?[A-Za-zÄÖÜäöü]$")
_FIRST_PART = re.compile(r"\s+[A-Za-zÄÖÜäöü]\.")
_MONTHS = frozenset(
    [
        "januar",
        "februar",
        "märz",
        "april",
        "mai",
        "juni",
        "juli",
        "august",
        "september",
        "oktober",
        "november",
        "dezember",
        "jan",
        "feb",
        "mär",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "okt",
        "nov",
        "dez",
        "stock",
        "etage",
        "obergeschoss",
    ]
)


def _keeps_sentence(text: str, start: int, end: int) -> bool:
    """True when the period at `start` belongs to an abbreviation or ordinal, not a sentence end."""
    if text[start:end].rstrip("\"'»«“”)]") != ".":
        return False  # "!", "?", ":", ";" and "..." always end a sentence
    before = text[:start]
    token_match = _LAST_TOKEN.search(before)
    token = token_match.group(1).lower() if token_match else ""
    token = token.lstrip("(\"'»«“”")
    after = _NEXT_TOKEN.match(text, end)
    next_word = after.group(1) if after else ""
    if token in _ABBREVIATIONS or token in _COMPACT or token.endswith("str"):
        return True
    if _SECOND_PART.search(before):
        return True  # "B" of "z. B."
    if len(token) == 1 and token.isalpha() and _FIRST_PART.match(text, end):
        return True  # "z" of "z. B."
    if next_word[:1].islower():
        return True  # German sentences start with a capital: "ca. zehn", "3. bis"
    return token.isdigit() and len(token) <= 2 and next_word.lower().rstrip(".,") in _MONTHS


def split_sentences(text: str) -> list[str]:
    """Splits German text into sentences at . ! ? : ; plus whitespace, keeping abbreviations."""
    sentences: list[str] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        if _keeps_sentence(text, match.start(), match.end()):
            continue
        part = text[start : match.end()].strip()
        if part:
            sentences.append(part)
        start = match.end()
    tail = text[start:].strip()
    if tail:
        sentences.append(tail)
    return [s for s in sentences if any(ch.isalnum() for ch in s)]


# --- voices -------------------------------------------------------------------------------


class VoiceLike(Protocol):
    """What the service needs from a resolved voice (models.ResolvedModel has this shape)."""

    @property
    def engine(self) -> str: ...

    @property
    def path(self) -> Path | None: ...

    @property
    def config_path(self) -> Path | None: ...


@dataclass(frozen=True)
class VoiceChoice:
    """A voice named by hand (tools, tests): engine "piper", "pico" or "espeak" and its files."""

    engine: str
    path: Path | None = None
    config_path: Path | None = None


def _base_language(language: str) -> str:
    """ "de-DE" -> "de": voices are keyed by the base language."""
    return language.replace("_", "-").split("-")[0].lower()


def _piper_phonemizer_language(config_path: Path) -> str:
    """The espeak voice a Piper voice was trained with (e.g. "en-us"), from its .onnx.json."""
    try:
        data = json.loads(config_path.read_text("utf-8"))
        return str(data["espeak"]["voice"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelError(f"Piper voice config {config_path} is missing or invalid ({exc})") from exc


def make_engine(
    voice: VoiceLike, language: str, settings: TtsSettings, threads: int = 1
) -> SpeechEngine:
    """Builds (loads) the engine for a resolved voice; blocking, so call it in a thread."""
    lang = _base_language(language)
    if voice.engine == "espeak":
        espeak_voice = settings.espeak_voice if lang == "de" else lang
        binary = (
            voice.path if voice.path is not None and voice.path.name.startswith("espeak") else None
        )
        return EspeakEngine(voice=espeak_voice, speed=settings.espeak_speed, binary=binary)
    if voice.engine == "pico":
        return PicoEngine(language=lang, binary=voice.path)
    if voice.engine != "piper":
        raise ModelError(f"unknown TTS engine {voice.engine!r}; use 'piper', 'pico' or 'espeak'")
    if voice.path is None:
        raise ModelError(f"no Piper voice file for language {lang!r}; run `voicebot models fetch`")
    config_path = voice.config_path or Path(f"{voice.path}.json")
    trained = _piper_phonemizer_language(config_path)
    # A voice trained on another language (the English joe voice as German fallback) still
    # needs German phonemes, or it reads German text with English spelling rules.
    override = lang if _base_language(trained) != lang else None
    return PiperEngine(voice.path, config_path, espeak_voice=override, threads=threads)


# --- the service --------------------------------------------------------------------------


class TtsService:
    """Synthesises bot answers per language; engines load lazily or via `load()` in a thread."""

    def __init__(
        self,
        settings: TtsSettings,
        voices: Mapping[str, VoiceLike],
        *,
        threads: int = 1,
        executor: Executor | None = None,
        engines: Mapping[str, SpeechEngine] | None = None,
    ) -> None:
        self.settings = settings
        self._voices = {_base_language(k): v for k, v in voices.items()}
        self._engines: dict[str, SpeechEngine] = {
            _base_language(k): e for k, e in (engines or {}).items()
        }
        self._threads = threads
        self._executor = executor
        self._lock = threading.Lock()
        self.cache = AudioCache(settings.cache_mb * 1024 * 1024)

    @property
    def languages(self) -> list[str]:
        """Languages this service can speak."""
        return sorted(set(self._voices) | set(self._engines))

    def load(self) -> float:
        """Loads every configured voice now (blocking); returns the seconds it took."""
        started = time.perf_counter()
        for language in self.languages:
            self.engine(language)
        return time.perf_counter() - started

    def engine(self, language: str) -> SpeechEngine:
        """The engine for a language, loaded on first use (blocking; thread-safe)."""
        lang = _base_language(language)
        with self._lock:
            engine = self._engines.get(lang)
            if engine is None:
                voice = self._voices.get(lang)
                if voice is None:
                    known = ", ".join(self.languages) or "none"
                    raise TtsError(f"no voice for language {language!r} (configured: {known})")
                engine = make_engine(voice, lang, self.settings, self._threads)
                self._engines[lang] = engine
            return engine

    def synthesize_sentence(
        self, sentence: str, language: str, out_rate: int, length_scale: float | None = None
    ) -> Pcm16:
        """One sentence as int16 audio at `out_rate` (blocking; cached, read-only)."""
        scale = self.settings.length_scale if length_scale is None else length_scale
        key = (_base_language(language), sentence, out_rate, scale)
        cached = self.cache.get(key)
        if cached is not None:
            return cached
        engine = self.engine(language)
        try:
            audio = engine.synthesize(sentence, scale)
        except VoicebotError:
            raise
        except Exception as exc:
            raise TtsError(f"speech synthesis failed on {sentence[:60]!r}: {exc}") from exc
        pcm = resample(audio, engine.sample_rate, out_rate)
        self.cache.put(key, pcm)
        return pcm

    def synthesize_blocking(
        self, text: str, language: str, out_rate: int, length_scale: float | None = None
    ) -> Pcm16:
        """The whole text as one buffer, for prompts synthesised once at start-up (blocking)."""
        chunks = [
            self.synthesize_sentence(s, language, out_rate, length_scale)
            for s in split_sentences(text)
        ]
        return np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int16)

    async def stream(
        self, text: str, language: str, out_rate: int, length_scale: float | None = None
    ) -> AsyncIterator[Pcm16]:
        """Yields one chunk per sentence at `out_rate`, synthesising the next one meanwhile."""
        sentences = split_sentences(text)
        if not sentences:
            return
        loop = asyncio.get_running_loop()

        def submit(sentence: str) -> asyncio.Future[Pcm16]:
            return loop.run_in_executor(
                self._executor, self.synthesize_sentence, sentence, language, out_rate, length_scale
            )

        pending = submit(sentences[0])
        try:
            for following in [*sentences[1:], None]:
                chunk = await pending
                if following is not None:
                    pending = submit(following)  # prefetch one ahead while the caller plays
                if chunk.size:
                    yield chunk
        finally:
            # Barge-in or an error: drop the prefetched sentence (a running thread finishes).
            if not pending.done():
                pending.cancel()
            elif not pending.cancelled():
                pending.exception()  # mark a failure as retrieved, it is no longer wanted
