"""Regenerates audio_fixtures/: German caller utterances from espeak-ng, made telephone-like.

Run `python -m voicebot.tools.make_fixtures`. Every clip comes from the CLIPS table below
(deterministic: same espeak-ng, same bytes); the manifest records how each was made and what
Whisper base hears in it. `--search` looks for a voice/speed that Whisper understands for
clips whose key words are lost, so the table can be updated by hand.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import soundfile

from voicebot.audio.resample import Pcm16, resample
from voicebot.services.tts_engines import EspeakEngine, espeak_version
from voicebot.tools import normalise

RATE = 8000
LEAD_S = 0.3
TRAIL_S = 0.6
PEAK_DBFS = -3.0
BAND_HZ = (300.0, 3400.0)
FIR_TAPS = 101
SILENCE_FLOOR = 0.01  # espeak's own leading/trailing near-silence is trimmed below this
POST_PROCESSING = (
    "trim espeak silence; soxr HQ 22050->8000 Hz; pad 0.3 s lead / 0.6 s trail; "
    "300-3400 Hz band-pass (101-tap Hamming windowed-sinc FIR); peak normalised to -3 dBFS; "
    "16-bit PCM mono"
)
DEFAULT_DIR = Path("audio_fixtures")
ASR_DESCRIPTION = (
    "faster-whisper, Whisper base int8, language de, beam_size 1, temperature 0, "
    "without_timestamps, vad_filter False, 8 kHz clip resampled to 16 kHz"
)


@dataclass(frozen=True)
class Clip:
    """One fixture: what is said, which intent it carries, how espeak-ng says it."""

    name: str
    text: str
    intent: str
    key_words: tuple[str, ...]
    voice: str = "de"
    speed: int = 150
    pitch: int = 50
    word_gap: int = 0  # espeak -g, in units of 10 ms
    note: str = ""


SEARCHED = "voice/speed picked by --search: the variant whose transcripts kept most key words"
VAD_LATE = (
    "voice changed: with the first choice Silero VAD started over 0.2 s late (a soft onset); "
    "this one is detected in time and keeps the most key words"
)
HARD = "hard case: Whisper base lost the key word with every espeak-ng voice and speed tried"
CLIPS: tuple[Clip, ...] = (
    # ask_opening_hours
    Clip("oeffnungszeiten_buergerbuero", "Wann hat das Bürgerbüro geöffnet?",
         "ask_opening_hours", ("geöffnet",), "de+klatt3", 150, 50, 0,
         note="about 90 voice/speed/pitch variants tried, then about 40 more through the gateway "
         "path "
         "(u-law, all 8 VAD window phases, onset-aligned cut, hotwords): the only one detected in "
         "every phase that Whisper always hears as an opening-hours question"),
    Clip("oeffnungszeiten_standesamt", "Wann ist das Standesamt geöffnet?",
         "ask_opening_hours", ("standesamt", "geöffnet"), "de+m1", 140, 50, note=SEARCHED),
    Clip("oeffnungszeiten_heute", "Haben Sie heute noch geöffnet?",
         "ask_opening_hours", ("heute", "geöffnet"), "de+m1", 160, 45),
    Clip("oeffnungszeiten_samstag", "Ist das Bürgerbüro am Samstag offen?",
         "ask_opening_hours", ("samstag", "offen"), "de+m1", 140, 50, note=SEARCHED),
    Clip("oeffnungszeiten_allgemein", "Wie sind Ihre Öffnungszeiten?",
         "ask_opening_hours", ("öffnungszeiten",), "de+m7", 145, 50),
    Clip("oeffnungszeiten_montag", "Bis wann kann ich am Montag vorbeikommen?",
         "ask_opening_hours", ("montag",), "de+m3", 150, 60, note=VAD_LATE),
    Clip("oeffnungszeiten_rathaus", "Wann öffnet das Rathaus morgen?",
         "ask_opening_hours", ("rathaus",), "de+f3", 150, 50, note=HARD),
    # request_human (the first one is what the integration tests use)
    Clip("mensch_reden", "Ich will mit einem Menschen reden.",
         "request_human", ("menschen",), "de+m3", 140, 50,
         note="replaces 'Ich möchte mit jemandem sprechen.': Whisper base lost 'jemandem' with "
         "every voice that Silero VAD detected in time"),
    Clip("mensch_sprechen", "Ich möchte mit einem Menschen sprechen.",
         "request_human", ("menschen", "sprechen"), "de+m1", 140, 50, note=VAD_LATE),
    Clip("mitarbeiter_bitte", "Bitte einen Mitarbeiter.",
         "request_human", ("mitarbeiter",), "de+m1", 140, 50,
         note="replaces 'Verbinden Sie mich bitte mit einem Mitarbeiter.', which Whisper base "
         "never understood; " + SEARCHED),
    Clip("echte_person", "Kann ich bitte mit einer echten Person reden?",
         "request_human", ("person",), "de+m1", 145, 50, note=HARD),
    Clip("mitarbeiter_brauchen", "Ich brauche einen Mitarbeiter, bitte.",
         "request_human", ("mitarbeiter",), "de+m3", 140, 50, note=SEARCHED),
    # goodbye
    Clip("tschuess_danke", "Tschüss, vielen Dank.",
         "goodbye", ("tschüss",), "de+f5", 140, 50, note=VAD_LATE),
    Clip("auf_wiederhoeren", "Auf Wiederhören.",
         "goodbye", ("wiederhören",), "de+m3", 140, 50, note=SEARCHED),
    Clip("danke_wiedersehen", "Danke, auf Wiedersehen.",
         "goodbye", ("wiedersehen",), "de+m3", 140, 50,
         note="replaces 'Das war alles, auf Wiedersehen.', which Whisper base never understood"),
    # greet
    Clip("guten_tag", "Guten Tag.", "greet", ("guten", "tag"), "de+f2", 140, 50),
    Clip("hallo_guten_morgen", "Hallo, guten Morgen.",
         "greet", ("hallo", "morgen"), "de+m3", 150, 60),
    Clip("guten_abend", "Guten Abend.", "greet", ("abend",), "de+m3", 140, 50),
    # bot_challenge
    Clip("mensch_verbunden", "Bin ich mit einem Menschen verbunden?",
         "bot_challenge", ("menschen", "verbunden"), "de+m3", 140, 50, note=SEARCHED),
    Clip("roboter_frage", "Sind Sie ein Roboter?",
         "bot_challenge", ("roboter",), "de+m3", 150, 60, note=VAD_LATE),
    Clip("computer_frage", "Spreche ich mit einem Computer?",
         "bot_challenge", ("computer",), "de+m1", 140, 50, note=VAD_LATE),
    # out_of_scope
    Clip("wetter_morgen", "Wie wird das Wetter morgen?",
         "out_of_scope", ("wetter",), "de+m1", 140, 50, note=SEARCHED),
    Clip("pizza_bestellen", "Können Sie mir eine Pizza bestellen?",
         "out_of_scope", ("pizza",), "de+m1", 140, 50, note=HARD),
    Clip("fussball_ergebnis", "Wer hat gestern das Fußballspiel gewonnen?",
         "out_of_scope", ("fussball",), "de+m3", 150, 50, note=HARD),
    # affirm, and a free-text answer (the callback form's topic)
    Clip("ja_gerne", "Ja, gerne.", "affirm", ("ja",), "de+m3", 140, 50),
    Clip("thema_ausweis", "Es geht um meinen Ausweis.",
         "out_of_scope", ("ausweis",), "de+m3", 140, 50,
         note="free text for the callback form's topic; " + HARD),
)  # fmt: skip

# Tried in this order by --search when Whisper loses a clip's key words.
SEARCH_VOICES = ("de+m3", "de+f2", "de+m1", "de+f5", "de+m7", "de+f3", "de", "de+m4", "de+f1")
SEARCH_SPEEDS = (140, 120, 160)
SEARCH_PITCHES = (50, 70, 30)
SEARCH_GAPS = (0, 3)


def key_words_found(transcript: str, key_words: Sequence[str]) -> bool:
    """True when every key word appears (as a substring) in the normalised transcript."""
    heard = normalise(transcript)
    return all(normalise(word) in heard for word in key_words)


def band_pass(signal: npt.NDArray[np.float64], rate: int = RATE) -> npt.NDArray[np.float64]:
    """Telephone band (300-3400 Hz) by a windowed-sinc FIR: no scipy needed, deterministic."""
    n = np.arange(FIR_TAPS) - (FIR_TAPS - 1) / 2

    def low_pass(cutoff: float) -> npt.NDArray[np.float64]:
        kernel: npt.NDArray[np.float64] = 2 * cutoff / rate * np.sinc(2 * cutoff / rate * n)
        return kernel

    taps = (low_pass(BAND_HZ[1]) - low_pass(BAND_HZ[0])) * np.hamming(FIR_TAPS)
    filtered: npt.NDArray[np.float64] = np.convolve(signal, taps, mode="same")
    return filtered


def phone_line(pcm: Pcm16, rate: int) -> Pcm16:
    """Makes synthesised speech telephone-like: 8 kHz, padded, band-limited, -3 dBFS peak."""
    narrow = resample(pcm, rate, RATE).astype(np.float64) / 32768.0
    voiced = np.nonzero(np.abs(narrow) > SILENCE_FLOOR)[0]
    if voiced.size:
        narrow = narrow[voiced[0] : voiced[-1] + 1]
    padded = np.concatenate(
        [np.zeros(round(LEAD_S * RATE)), narrow, np.zeros(round(TRAIL_S * RATE))]
    )
    filtered = band_pass(padded)
    peak = float(np.max(np.abs(filtered))) or 1.0
    scaled = filtered / peak * 10 ** (PEAK_DBFS / 20)
    return np.clip(np.round(scaled * 32767), -32768, 32767).astype(np.int16)


def render(clip: Clip) -> Pcm16:
    """The clip's audio at 8 kHz, from espeak-ng plus the phone-line processing."""
    engine = EspeakEngine(clip.voice, clip.speed, clip.pitch, word_gap=clip.word_gap)
    return phone_line(engine.synthesize(clip.text), engine.sample_rate)


def _variants(clip: Clip) -> Iterator[Clip]:
    """Voice/speed/pitch/gap combinations for --search, the clip's own first."""
    yield clip
    for gap, pitch, speed, voice in itertools.product(
        SEARCH_GAPS, SEARCH_PITCHES, SEARCH_SPEEDS, SEARCH_VOICES
    ):
        yield Clip(clip.name, clip.text, clip.intent, clip.key_words, voice, speed, pitch, gap)


def key_word_score(transcript: str, key_words: Sequence[str]) -> int:
    """How many of the key words the transcript contains."""
    heard = normalise(transcript)
    return sum(normalise(word) in heard for word in key_words)


def search(clip: Clip, model: Any, limit: int, hotwords: str | None) -> tuple[Clip, str]:
    """The variant (within `limit` tries) whose transcripts keep the most key words."""
    from voicebot.tools import transcribe_phone

    best: tuple[int, Clip, str] | None = None
    for variant in itertools.islice(_variants(clip), limit):
        audio = render(variant)
        plain = transcribe_phone(model, audio, RATE)
        hinted = transcribe_phone(model, audio, RATE, hotwords) if hotwords else plain
        score = key_word_score(plain, clip.key_words) + key_word_score(hinted, clip.key_words)
        label = f"{variant.voice} s{variant.speed} p{variant.pitch} g{variant.word_gap}"
        print(f"  {label}: {plain!r} / hotwords: {hinted!r}")
        if best is None or score > best[0]:
            best = (score, variant, plain)
        if score == 2 * len(clip.key_words):
            break
    assert best is not None
    return best[1], best[2]


def gateway_hotwords() -> str | None:
    """The hot words the gateway's ASR uses: the list in asr.hotwords_file (hotwords.txt)."""
    from voicebot.config import load_settings
    from voicebot.services.hotwords import hotwords_path, load_hotwords

    return " ".join(load_hotwords(hotwords_path(load_settings()))) or None


def manifest_entry(
    clip: Clip, audio: Pcm16, plain: str, hinted: str | None, version: str
) -> dict[str, Any]:
    """One manifest record: what the clip says, exactly how it was made, what Whisper hears."""
    entry: dict[str, Any] = {
        "file": f"{clip.name}.wav",
        "text": clip.text,
        "language": "de",
        "expected_intent": clip.intent,
        "duration_s": round(len(audio) / RATE, 2),
        "key_words": list(clip.key_words),
        "source": {
            "tool": "espeak-ng",
            "version": version,
            "voice": clip.voice,
            "speed": clip.speed,
            "pitch": clip.pitch,
            "word_gap": clip.word_gap,
            "post_processing": POST_PROCESSING,
        },
        "whisper_transcript": plain,
        "key_words_recognised": key_words_found(plain, clip.key_words),
    }
    if hinted is not None:
        entry["whisper_transcript_hotwords"] = hinted
        entry["key_words_recognised_hotwords"] = key_words_found(hinted, clip.key_words)
    if clip.note:
        entry["note"] = clip.note
    return entry


def main(argv: Sequence[str] | None = None) -> int:
    """Writes every clip and the manifest; exits 1 if Whisper misses a clip's key words."""
    import yaml

    from voicebot.tools import load_whisper, transcribe_phone

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_DIR, help="fixture folder")
    parser.add_argument("--search", action="store_true", help="search voices for missed clips")
    parser.add_argument("--search-limit", type=int, default=60, help="variants tried per clip")
    parser.add_argument("--only", nargs="*", default=None, help="clip names to process")
    args = parser.parse_args(argv)

    version = espeak_version()
    model, model_description = load_whisper()
    hotwords = gateway_hotwords()
    print(f"espeak-ng: {version}\nASR: {model_description}\nhotwords: {hotwords}", flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    entries: list[dict[str, Any]] = []
    missed: list[str] = []
    for clip in CLIPS:
        if args.only and clip.name not in args.only:
            continue
        audio = render(clip)
        soundfile.write(args.out / f"{clip.name}.wav", audio, RATE, subtype="PCM_16")
        heard = transcribe_phone(model, audio, RATE)
        hinted = transcribe_phone(model, audio, RATE, hotwords) if hotwords else None
        entries.append(manifest_entry(clip, audio, heard, hinted, version))
        ok = key_words_found(heard, clip.key_words)
        ok_hinted = hinted is None or key_words_found(hinted, clip.key_words)
        status = "ok  " if ok and ok_hinted else "MISS"
        print(f"{status} {clip.name}: {clip.text!r} -> {heard!r} / hotwords: {hinted!r}")
        if not ok:
            missed.append(clip.name)
            if args.search:
                best, best_heard = search(clip, model, args.search_limit, hotwords)
                print(f"  => best {best} -> {best_heard!r}", flush=True)
    if args.only:
        print("--only given: manifest not rewritten")
        return 1 if missed else 0
    path = args.out / "manifest.yml"
    old = yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else {}
    ours = {f"{clip.name}.wav" for clip in CLIPS}
    # the dialogue clips (dialogue_fixtures.py) keep their entries and header keys
    others = [c for c in old.get("clips", []) if c["file"] not in ours]
    manifest = {
        "description": "German caller utterances, synthesised with espeak-ng, telephone band",
        "generated_by": "python -m voicebot.tools.make_fixtures",
        "sample_rate": RATE,
        "asr": ASR_DESCRIPTION,
        "asr_model": model_description,
        "hotwords": hotwords or "",
        "hotwords_note": "whisper_transcript_hotwords: same decoding plus the hotwords the "
        "gateway reads from rasa_project/hotwords.txt, i.e. what the running gateway hears",
        **{k: v for k, v in old.items() if k.startswith("dialogue_")},
        "clips": entries + others,
        # the held-out evaluation set (eval_fixtures.py) stays last
        **{k: v for k, v in old.items() if k == "splits" or k.startswith("evaluation")},
    }
    text = yaml.safe_dump(manifest, allow_unicode=True, sort_keys=False, width=100)
    path.write_text(text, encoding="utf-8")
    print(f"wrote {len(entries)} clips and {path}")
    if missed:
        print(f"key words lost in: {', '.join(missed)}", file=sys.stderr)
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
