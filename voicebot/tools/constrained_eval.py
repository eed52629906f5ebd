"""Measures constrained recognition against free transcription on short expected answers.

Run `python -m voicebot.tools.constrained_eval`. It synthesises short answers (postcodes and
phone numbers spoken digit by digit, yes and no, and answers that are neither) with SVOX Pico
at three speeds and espeak-ng (the harsh case), puts them through the phone line (8 kHz,
300-3400 Hz) with and without light noise, and for each clip reports:

- free: what the gateway's free transcript (faster-whisper's `transcribe` with the gateway's
  options and hot words) gives the dialogue (digits read from it, or a yes / no word), as
  before constrained recognition;
- digits-only: the best digit hypothesis of the decoding with non-digit tokens suppressed;
- constrained: `ConstrainedRecognizer.recognize` (the scored choice the gateway now makes);
- CPU seconds of the free transcription alone and of the whole constrained recognition.

Nothing is tuned on these clips' answers beyond the two constants in
voicebot/services/constrained.py; the clips are generated, not stored. docs/accuracy.md
("Constrained recognition") has the table this prints.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from voicebot.audio.resample import Pcm16, resample
from voicebot.services.constrained import ConstrainedRecognizer
from voicebot.services.constrained_text import says_yes_or_no, spoken_digits
from voicebot.services.tts_engines import EspeakEngine, PicoEngine
from voicebot.tools import load_whisper, transcribe_phone
from voicebot.tools.make_fixtures import RATE, gateway_hotwords, phone_line


@dataclass(frozen=True)
class Answer:
    """A spoken answer, the kind the dialogue expects, and what it means."""

    text: str
    kind: str
    meaning: str  # digits, "ja", "nein" or "other" (neither: must not become an answer)


ANSWERS = (
    Answer("Fünf eins drei sieben drei.", "postcode", "51373"),
    Answer("Fünf null sechs sieben null.", "postcode", "50670"),
    Answer("Fünf eins drei sieben neun.", "postcode", "51379"),
    Answer("Vier null zwei eins null.", "postcode", "40210"),
    Answer("Fünf eins drei acht eins.", "postcode", "51381"),
    Answer("Ich möchte abbrechen.", "postcode", "other"),
    Answer("Null zwei eins vier, eins zwei drei vier fünf sechs.", "phone", "0214123456"),
    Answer("Null zwo eins vier, sieben sieben eins zwo drei.", "phone", "021477123"),
    Answer("Null eins sieben eins, neun acht sieben sechs fünf vier drei.", "phone", "01719876543"),
    Answer("Das weiß ich nicht.", "phone", "other"),
    Answer("Ja.", "yes_no", "ja"),
    Answer("Nein.", "yes_no", "nein"),
    Answer("Ja, gerne.", "yes_no", "ja"),
    Answer("Nein, danke.", "yes_no", "nein"),
    Answer("Ich möchte mit einem Menschen sprechen.", "yes_no", "other"),
)
VOICES = ("pico-1.0", "pico-1.2", "pico-0.9", "espeak-de+m3")
NOISE_DBFS = -40.0  # light line noise: white noise at about -40 dBFS RMS


def synthesize(answer: Answer, voice: str) -> Pcm16:
    """The answer as an 8 kHz phone-line clip."""
    if voice.startswith("pico-"):
        pico = PicoEngine("de-DE", pace=float(voice.removeprefix("pico-")))
        return phone_line(pico.synthesize(answer.text), pico.sample_rate)
    espeak = EspeakEngine(voice.removeprefix("espeak-"), 140)
    return phone_line(espeak.synthesize(answer.text), espeak.sample_rate)


def with_noise(pcm: Pcm16, seed: int) -> Pcm16:
    """Light white noise added (deterministic per seed)."""
    rng = np.random.default_rng(seed)
    noise = rng.normal(0.0, 32768 * 10 ** (NOISE_DBFS / 20), len(pcm))
    return np.clip(pcm.astype(np.float64) + noise, -32768, 32767).astype(np.int16)


def meaning(text: str, kind: str) -> str:
    """What the dialogue would read from a text: digits, ja, nein, or other."""
    if kind == "yes_no":
        words = text.lower()
        if says_yes_or_no(text):
            return "nein" if "nein" in words or "nee" in words else "ja"
        return "other"
    return spoken_digits(text) or "other"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--voices", nargs="*", default=list(VOICES))
    args = parser.parse_args(argv)
    model, how = load_whisper()
    hotwords = gateway_hotwords()
    recognizer = ConstrainedRecognizer(model, "de", hotwords, 1)
    print(f"# {how}, the gateway's hot words, beam 1; {len(ANSWERS)} answers x")
    print(f"# {len(args.voices)} voices x (clean, light noise)")
    totals: dict[str, list[int]] = {}
    cpu = {"free": 0.0, "constrained": 0.0}
    runs = 0
    for voice in args.voices:
        for n, answer in enumerate(ANSWERS):
            for noisy in (False, True):
                pcm = synthesize(answer, voice)
                pcm = with_noise(pcm, n) if noisy else pcm
                audio = resample(pcm, RATE, 16000).astype(np.float32) / 32768.0
                started = time.process_time()
                free = transcribe_phone(model, pcm, RATE, hotwords)  # the gateway until now
                free_cpu = time.process_time() - started
                encoded, _ = recognizer.encode(audio)
                started = time.process_time()
                heard = recognizer.recognize(audio, "de", answer.kind)
                cpu["constrained"] += time.process_time() - started
                cpu["free"] += free_cpu
                runs += 1
                hyps = (
                    recognizer.digit_hypotheses(encoded, "de", 15)
                    if answer.kind != "yes_no"
                    else []
                )
                got = {
                    "free": meaning(free, answer.kind),
                    "digits-only": hyps[0] if hyps else "other",
                    "constrained": meaning(heard.text, answer.kind),
                }
                key = f"{answer.kind}:{voice}"
                row = totals.setdefault(key, [0, 0, 0, 0])
                row[3] += 1
                for i, name in enumerate(("free", "digits-only", "constrained")):
                    row[i] += got[name] == answer.meaning
                print(
                    f"{voice:13} {'noise' if noisy else 'clean':5} {answer.kind:8} "
                    f"{answer.meaning:11} free={free!r} -> {got['free']} | digits-only="
                    f"{got['digits-only']} | constrained={heard.text!r} -> {got['constrained']}"
                )
    print(
        "\n| kind | voice | clips | free | digits-only | constrained |\n|---|---|---|---|---|---|"
    )
    for key, (f, d, c, n) in sorted(totals.items()):
        kind, voice = key.split(":")
        digits = "-" if kind == "yes_no" else f"{d}/{n}"
        print(f"| {kind} | {voice} | {n} | {f}/{n} | {digits} | {c}/{n} |")
    print(
        f"\nCPU per clip: free transcription {cpu['free'] / runs:.2f} s, "
        f"constrained recognition (one encoder pass, free + constrained + scoring) "
        f"{cpu['constrained'] / runs:.2f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
