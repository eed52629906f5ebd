"""Writes rasa_project/data/nlu/generated_asr_<voice>.yml: NLU examples as Whisper writes them.

Run `python -m voicebot.tools.asr_nlu` (about five minutes on two idle cores). A deterministic
sample of each intent's hand-written German examples (not the generated files) is
spoken by SVOX Pico de-DE (the product's offline default voice) and by espeak-ng (the harsh
case), made telephone-like (8 kHz, 300-3400 Hz, u-law, make_fixtures.phone_line) and
transcribed by the gateway's own AsrService (Whisper base, its settings and hot words).

The transcripts are reviewed before they are written; dropped are
- what the gateway would not answer either: empty, a hallucination, a loop or low confidence
  (voicebot.pipeline.hearing.judge),
- word salad: less than 60 % of the example's words survive (REVIEW_MIN_KEPT), or a
  confidence below REVIEW_MIN_CONFIDENCE, or rejected by hand after reading (REJECTED),
- the example itself (adds nothing) or an example of another intent,
- an example whose service word cannot be found again: the transcript is annotated with the
  service the catalogue matcher finds in it (phonetic matching included), and must name the
  same service as the example did.
The clips of audio_fixtures/ are not used (the evaluation set must stay unseen).
"""

from __future__ import annotations

import argparse
import random
import re
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from voicebot.audio.resample import Pcm16, resample
from voicebot.pipeline.hearing import judge
from voicebot.protocol.g711 import ulaw_decode, ulaw_encode
from voicebot.tools.make_fixtures import RATE, gateway_hotwords, phone_line

NLU_DIR = Path("rasa_project/data/nlu")
GENERATED_PREFIX = "generated_asr_"
# The intents a caller opens with; yes/no, digits, e-mail and the like are too short or are
# recognised with constrained recognition.
INTENTS = (
    "ask_service",
    "ask_documents",
    "ask_fee",
    "ask_processing_time",
    "ask_address",
    "ask_phone",
    "ask_form",
    "report_lost",
    "ask_opening_hours",
    "request_human",
    "bot_challenge",
    "request_sperrmuell",
    "request_appointment",
    "request_form",
    "frustrated",
    "out_of_scope",
    "switch_language",
)
PER_INTENT = 5
SEED = 17
REVIEW_MIN_KEPT = 0.6
# Stricter than the gateway (asr.min_confidence): from 0.1 to 0.3 the bot still answers, with
# an implicit confirmation, but such transcripts are mostly word salad to learn from.
REVIEW_MIN_CONFIDENCE = 0.3
# Transcripts read and rejected by hand: word salad that kept enough words, or the words of
# another intent ("ich brauche einen termin ..." is no out_of_scope).
REJECTED = frozenset({"ich brauche einen termin wangsan ab", "jetzt machen wir schon"})
_ANNOTATION = re.compile(r"\[([^\]]+)\](\([^)]*\)|\{[^}]*\})")
_WORD = re.compile(r"[a-zäöüß0-9']+")


@dataclass(frozen=True)
class Example:
    """One hand-written example: intent, plain text, and the service it names (or None)."""

    intent: str
    text: str
    service: str | None


def plain(text: str) -> str:
    """Lower case words only, as the NLU files write them ("Wie lange dauert's?" -> ...)."""
    return " ".join(_WORD.findall(text.lower()))


# Words only English examples have: those are not spoken by the German voices.
_ENGLISH = frozenset(
    [
        "the",
        "you",
        "your",
        "i",
        "i'm",
        "my",
        "please",
        "english",
        "what",
        "when",
        "where",
        "how",
        "is",
        "are",
        "do",
    ]
)


def english(text: str) -> bool:
    """Whether an example is English (two or more English marker words)."""
    return sum(word in _ENGLISH for word in plain(text).split()) >= 2


def examples(nlu_dir: Path) -> Iterator[tuple[str, str]]:
    """(intent, annotated example) of every hand-written NLU file (English ones included)."""
    for path in sorted(nlu_dir.glob("*.yml")):
        if path.name.startswith(GENERATED_PREFIX) or path.name == "english.yml":
            continue
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for block in data.get("nlu") or []:
            if "intent" in block and "examples" in block:
                for line in str(block["examples"]).splitlines():
                    line = line.strip()
                    if line.startswith("- "):
                        yield block["intent"], line[2:].strip()


@lru_cache(maxsize=1)
def _catalogue() -> Any:
    """The shipped catalogue, loaded once (the actions' own loader)."""
    from rasa_project.actions.catalogue import default_directory, load_catalogue

    return load_catalogue(default_directory())


def _score(text: str) -> float:
    """How well the best service matches `text` (more matched letters: higher)."""
    found = _catalogue().matches(text)
    return float(found[0].score) if found else 0.0


def service_of(text: str) -> str | None:
    """The catalogue service named in `text` (the actions' own matcher), or None."""
    found = _catalogue().find(text)
    return found.id if found is not None else None


def sample(nlu_dir: Path, per_intent: int, seed: int) -> list[Example]:
    """A deterministic sample of each intent's examples, with the service each names."""
    by_intent: dict[str, list[str]] = {}
    for intent, annotated in examples(nlu_dir):
        if intent in INTENTS and not english(annotated):
            by_intent.setdefault(intent, []).append(annotated)
    rng = random.Random(seed)
    chosen: list[Example] = []
    for intent in INTENTS:
        pool = sorted(set(by_intent.get(intent, [])))
        for annotated in rng.sample(pool, min(per_intent, len(pool))):
            text = plain(_ANNOTATION.sub(lambda m: m.group(1), annotated))
            marked = _ANNOTATION.search(annotated)
            service = service_of(marked.group(1)) if marked and "service" in annotated else None
            chosen.append(Example(intent, text, service))
    return chosen


def speak(voice: str, text: str) -> Pcm16:
    """The example spoken by `voice` ("pico" or "espeak"), telephone-like at 8 kHz."""
    from voicebot.services.tts_engines import EspeakEngine, PicoEngine

    engine: PicoEngine | EspeakEngine
    engine = PicoEngine("de-DE") if voice == "pico" else EspeakEngine("de", 150, 50)
    return phone_line(engine.synthesize(text), engine.sample_rate)


def gateway_audio(pcm: Pcm16) -> Pcm16:
    """What the gateway's ASR gets: u-law on the line, resampled to 16 kHz."""
    return resample(ulaw_decode(ulaw_encode(pcm)), RATE, 16000)


def annotate(transcript: str, service: str | None) -> str | None:
    """The transcript with its service words marked for the entity `service`, or None when
    the example named a service and the transcript names none or another. The shortest run
    of one or two words that names it, not beginning or ending with an article or the like
    ("[zu lassen]", not "[ich möchte sperrmüll]")."""
    if service is None:
        return transcript
    from rasa_project.actions.catalogue.phonetic import FUNCTION_WORDS

    said = transcript.split()
    for size in (1, 2):
        for start in range(len(said) - size + 1):
            run = said[start : start + size]
            if run[0] in FUNCTION_WORDS or run[-1] in FUNCTION_WORDS:
                continue
            if service_of(" ".join(run)) == service:
                return _marked(said, *_widen(said, start, start + size, service), service)
    return None


def _widen(said: list[str], start: int, end: int, service: str) -> tuple[int, int]:
    """The run grown by neighbours that name the service better ("personal [ausweist]" ->
    "[personal ausweist]"), up to three words, never over an article or the like."""
    from rasa_project.actions.catalogue.phonetic import FUNCTION_WORDS

    def names_it(first: int, last: int) -> bool:
        """Whether said[first:last] is a run that still names the service."""
        if first < 0 or last > len(said) or last - first > 3:
            return False
        grown = said[first] if first < start else said[last - 1]
        if grown in FUNCTION_WORDS or service_of(" ".join(said[first:last])) != service:
            return False
        return _score(" ".join(said[first:last])) > _score(" ".join(said[start:end]))

    for _ in range(2):
        if names_it(start - 1, end):
            start -= 1
        elif names_it(start, end + 1):
            end += 1
    return start, end


def _marked(said: list[str], start: int, end: int, service: str) -> str:
    """The words with said[start:end] marked as the entity `service`."""
    entity = f'[{" ".join(said[start:end])}]{{"entity": "service", "value": "{service}"}}'
    return " ".join([*said[:start], entity, *said[end:]])


def review(example: Example, transcript: str, confidence: float, taken: dict[str, str]) -> str:
    """Why a transcript is dropped ("" when it is kept)."""
    if not transcript:
        return "nothing heard"
    verdict = judge(transcript, confidence, REVIEW_MIN_CONFIDENCE)
    if not verdict.understood:
        return f"{verdict.reason} ({confidence:.2f})"
    if transcript in REJECTED:
        return "rejected by hand"
    if transcript == example.text:
        return "same as the example"
    if taken.get(transcript, example.intent) != example.intent:
        return f"an example of {taken[transcript]}"
    source = example.text.split()
    kept = SequenceMatcher(None, source, transcript.split()).get_matching_blocks()
    if sum(b.size for b in kept) < REVIEW_MIN_KEPT * len(source):
        return "word salad"
    return ""


def render(voice: str, script: str, kept: dict[str, list[str]]) -> str:
    """The generated NLU file."""
    lines = [
        f"# GENERATED by `python -m voicebot.tools.asr_nlu` ({script}): do not edit, run it again.",
        "# What Whisper base (the gateway's settings and hot words) wrote for NLU examples spoken",
        f"# by {voice} over the 8 kHz phone band; reviewed automatically (see the script).",
        'version: "3.1"',
        "",
        "nlu:",
    ]
    for intent in INTENTS:
        if kept.get(intent):
            lines += [f"  - intent: {intent}", "    examples: |"]
            lines += [f"      - {text}" for text in sorted(set(kept[intent]))]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Generates the files; prints every transcript with its review."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-intent", type=int, default=PER_INTENT)
    parser.add_argument("--voices", nargs="+", default=["pico", "espeak"])
    parser.add_argument("--out", type=Path, default=NLU_DIR)
    args = parser.parse_args(argv)

    from voicebot.config import AsrSettings
    from voicebot.services.asr import AsrService
    from voicebot.tools import whisper_model_dir

    hotwords = (gateway_hotwords() or "").split()
    asr = AsrService(AsrSettings(), whisper_model_dir()[0], hotwords)
    asr.load()
    chosen = sample(NLU_DIR, args.per_intent, SEED)
    taken = {plain(_ANNOTATION.sub(lambda m: m.group(1), a)): i for i, a in examples(NLU_DIR)}
    for voice in args.voices:
        kept: dict[str, list[str]] = {}
        for example in chosen:
            heard = asr._transcribe_blocking(gateway_audio(speak(voice, example.text)), "de")
            transcript = plain(heard.text)
            why = review(example, transcript, heard.confidence, taken)
            annotated = None if why else annotate(transcript, example.service)
            if not why and annotated is None:
                why = "service not found again"
            mark = "drop " + why if why else "keep"
            print(f"{voice} {example.intent}: {example.text!r} -> {transcript!r}: {mark}")
            if annotated is not None:
                kept.setdefault(example.intent, []).append(annotated)
                taken.setdefault(transcript, example.intent)
        path = args.out / f"{GENERATED_PREFIX}{voice}.yml"
        path.write_text(render(voice, "voicebot/tools/asr_nlu.py", kept), encoding="utf-8")
        print(f"wrote {path}: {sum(len(v) for v in kept.values())} examples", file=sys.stderr)
    asr.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
