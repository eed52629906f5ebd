"""The evaluation set: citizen questions spoken by SVOX Pico, held out from all tuning.

`python -m voicebot.tools.eval_fixtures` writes `audio_fixtures/eval/*.wav` and the
`evaluation_clips:` section at the end of `audio_fixtures/manifest.yml` (the rest of the file
is kept byte for byte). The questions are worded the way callers talk (a greeting in front,
"hab", "Perso", a story before the question) and cover every topic of the catalogue
(rasa_project/catalogue) and the dialogue's own intents. `tests/unit/test_eval_set.py` checks
that none of them is an NLU training example or a hot word: **nothing may be tuned on these
clips** (not the NLU data, the hot words, the catalogue synonyms nor the ASR settings);
`voicebot bench --accuracy` and tests/integration/test_voice_accuracy.py measure on them.

Voices: SVOX Pico de-DE (en-US for the English caller) with several pitches and speeds (Pico's
own `<pitch>`/`<speed>` markup), then the phone line of make_fixtures (8 kHz, 300-3400 Hz,
-3 dBFS), some with band-limited background noise at a fixed seed. Stored as 8-bit A-law WAV
(G.711, what a phone line carries anyway): half the size of 16-bit PCM.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import soundfile as sf
import yaml

from voicebot.audio.resample import Pcm16
from voicebot.tools import load_whisper, transcribe_phone
from voicebot.tools.eval_questions import ROWS
from voicebot.tools.make_fixtures import (
    POST_PROCESSING,
    RATE,
    band_pass,
    gateway_hotwords,
    phone_line,
)
from voicebot.tools.wer import word_error_rate

SECTION = "evaluation_clips"
SUBDIR = "eval"
MARKER = "# ---- evaluation set (voicebot.tools.eval_fixtures): never tune on these clips ----"


@dataclass(frozen=True)
class Voice:
    """A Pico voice variant: language, pitch and speed levels (100 = Pico's default)."""

    name: str
    language: str
    pitch: int
    speed: int


VOICES = (
    Voice("pico-de-default", "de-DE", 100, 100),
    Voice("pico-de-low-slow", "de-DE", 80, 90),
    Voice("pico-de-high-fast", "de-DE", 118, 110),
    Voice("pico-de-low", "de-DE", 88, 100),
    Voice("pico-de-slow", "de-DE", 105, 85),
)
EN_VOICE = Voice("pico-en-us", "en-US", 100, 95)
# light noise only: Whisper base lost most words at 20 dB (white or pink) on these voices; the
# bench adds heavier noise at run time. Cycled with a different period than VOICES.
NOISE_SNR_DB = (None, 35.0, None, 30.0, None)


@dataclass(frozen=True)
class Question:
    """One evaluation question: what is said and what a right answer is about.

    `topic` is a catalogue service or office (`service:reisepass`, `office:kfz`) or an intent of
    the dialogue (`intent:request_human`); `answer_words` are words of which at least one must
    be in the bot's answer for it to be on topic (normalised, substring)."""

    name: str
    text: str
    intent: str
    topic: str
    answer_words: tuple[str, ...]
    language: str = "de"


QUESTIONS: tuple[Question, ...] = tuple(Question(*row) for row in ROWS)


def pico(voice: Voice, text: str) -> tuple[Pcm16, int]:
    """Pico's 16 kHz speech of `text` with the voice's pitch and speed markup."""
    clean = " ".join(text.replace("<", " ").replace(">", " ").split())
    markup = f'<pitch level="{voice.pitch}"><speed level="{voice.speed}">{clean}</speed></pitch>'
    with tempfile.TemporaryDirectory(prefix="voicebot-eval-") as tmp:
        wav = Path(tmp) / "q.wav"
        subprocess.run(
            ["pico2wave", "-l", voice.language, "-w", str(wav), "--", markup],
            check=True,
            capture_output=True,
            timeout=30,
        )
        data, rate = sf.read(wav, dtype="int16")
    return np.asarray(data, dtype=np.int16), int(rate)


def pink_noise(n: int, seed: int) -> npt.NDArray[np.float64]:
    """n samples of pink (1/f power) noise, phone band, from a seeded generator."""
    spectrum = np.fft.rfft(np.random.default_rng(seed).standard_normal(n))
    freqs = np.arange(len(spectrum), dtype=np.float64)
    freqs[0] = 1.0
    return band_pass(np.fft.irfft(spectrum / np.sqrt(freqs), n))


def add_noise(pcm: Pcm16, snr_db: float, seed: int) -> Pcm16:
    """Pink phone-band noise at `snr_db` below the speech's RMS (voiced part), whole clip."""
    x = pcm.astype(np.float64)
    voiced = x[np.abs(x) > 0.02 * np.max(np.abs(x))]
    speech_rms = float(np.sqrt(np.mean(voiced**2))) if voiced.size else 1.0
    noise = pink_noise(len(x), seed)
    noise *= speech_rms / 10 ** (snr_db / 20) / float(np.sqrt(np.mean(noise**2)))
    return np.clip(np.round(x + noise), -32768, 32767).astype(np.int16)


def voice_of(index: int, question: Question) -> tuple[Voice, float | None]:
    """The voice and noise level of the index-th question (cycled: every combination occurs)."""
    voice = EN_VOICE if question.language == "en" else VOICES[index % len(VOICES)]
    return voice, NOISE_SNR_DB[(index // len(VOICES) + index) % len(NOISE_SNR_DB)]


def render(index: int, question: Question) -> tuple[Pcm16, Voice, float | None]:
    """The clip's 8 kHz audio, its voice and its noise level."""
    voice, snr = voice_of(index, question)
    speech, rate = pico(voice, question.text)
    pcm = phone_line(speech, rate)
    if snr is not None:
        pcm = add_noise(pcm, snr, seed=1000 + index)
    return pcm, voice, snr


def pico_version() -> str:
    """The installed libttspico package version (Debian), or 'unknown'."""
    try:
        out = subprocess.run(
            ["dpkg-query", "-W", "-f", "${Version}", "libttspico0"],
            capture_output=True,
            text=True,
            check=True,
        )
        return f"libttspico0 {out.stdout.strip()}"
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def entry(
    question: Question, pcm: Pcm16, voice: Voice, snr: float | None, heard: str
) -> dict[str, Any]:
    """One manifest record of the evaluation section."""
    return {
        "file": f"{SUBDIR}/{question.name}.wav",
        "split": "evaluation",
        "text": question.text,
        "language": question.language,
        "expected_intent": question.intent,
        "expected_topic": question.topic,
        "answer_words": list(question.answer_words),
        "duration_s": round(len(pcm) / RATE, 2),
        "source": {
            "tool": "pico2wave",
            "version": pico_version(),
            "voice": voice.name,
            "parameters": {"language": voice.language, "pitch": voice.pitch, "speed": voice.speed},
            "noise_snr_db": snr,
            "post_processing": POST_PROCESSING
            + "; stored as 8-bit A-law WAV"
            + (f"; pink phone-band noise at {snr:g} dB SNR, seeded" if snr else ""),
        },
        "whisper_transcript_hotwords": heard,
        "wer_hotwords": round(word_error_rate(question.text, heard, question.language), 3),
    }


def write_section(manifest: Path, entries: list[dict[str, Any]]) -> None:
    """Replaces (or appends) the evaluation section at the end of the manifest; the rest of the
    file, comments included, is kept as it is."""
    text = manifest.read_text(encoding="utf-8")
    at = text.find(MARKER)
    if at < 0 and "\nsplits:" in text:  # rewritten by another generator: the section is last
        at = text.index("\nsplits:") + 1
    head = (text[:at] if at >= 0 else text).rstrip("\n") + "\n"
    body = yaml.safe_dump(
        {
            "splits": {
                "tuning": "clips and dialogue_test_clips: NLU data, hot words, catalogue "
                "synonyms and ASR settings may be tuned on them",
                "evaluation": f"{SECTION}: held out; measured only (voicebot bench --accuracy, "
                "tests/integration/test_voice_accuracy.py); nothing is tuned on them",
            },
            "evaluation_generated_by": "python -m voicebot.tools.eval_fixtures",
            SECTION: entries,
        },
        allow_unicode=True,
        sort_keys=False,
        width=100,
    )
    manifest.write_text(f"{head}{MARKER}\n{body}", encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    """Writes the evaluation clips and their manifest section."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("audio_fixtures"))
    parser.add_argument("--no-asr", action="store_true", help="skip the Whisper transcripts")
    args = parser.parse_args(argv)
    folder = args.out / SUBDIR
    folder.mkdir(parents=True, exist_ok=True)
    model = None if args.no_asr else load_whisper()[0]
    hotwords = gateway_hotwords()
    entries = []
    for index, question in enumerate(QUESTIONS):
        pcm, voice, snr = render(index, question)
        sf.write(folder / f"{question.name}.wav", pcm, RATE, subtype="ALAW")
        stored, _ = sf.read(folder / f"{question.name}.wav", dtype="int16")
        heard = "" if model is None else transcribe_phone(model, stored, RATE, hotwords)
        entries.append(entry(question, pcm, voice, snr, heard))
        print(f"{question.name}: {voice.name} snr={snr} -> {heard!r}", file=sys.stderr)
    write_section(args.out / "manifest.yml", entries)
    wers = [e["wer_hotwords"] for e in entries]
    print(f"wrote {len(entries)} clips; mean WER (Whisper base, hot words) {np.mean(wers):.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
