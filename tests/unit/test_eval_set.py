"""The held-out evaluation set (voicebot.tools.eval_fixtures): recorded as such in the manifest,
covering every topic, spoken like callers, and never part of what the NLU or ASR is tuned on."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

import soundfile
import yaml

from voicebot.tools import normalise
from voicebot.tools.eval_fixtures import QUESTIONS

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "audio_fixtures"
RASA = ROOT / "rasa_project"


def _manifest() -> dict[str, Any]:
    data = yaml.safe_load((FIXTURES / "manifest.yml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _eval() -> list[dict[str, Any]]:
    clips = _manifest()["evaluation_clips"]
    assert isinstance(clips, list)
    return clips


def nlu_examples() -> list[str]:
    """Every NLU training example of rasa_project/data (entity markup removed), normalised."""
    out = []
    for path in sorted((RASA / "data").rglob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for block in data.get("nlu", []) or []:
            for line in str(block.get("examples", "")).splitlines():
                text = line.strip().removeprefix("- ")
                text = re.sub(r"\[([^\]]*)\](\([^)]*\)|\{[^}]*\})", r"\1", text)
                if text:
                    out.append(normalise(text))
    return out


def hotwords() -> list[str]:
    lines = (RASA / "hotwords.txt").read_text(encoding="utf-8").splitlines()
    return [normalise(s) for s in lines if s.strip() and not s.lstrip().startswith("#")]


def test_the_split_is_recorded_in_the_manifest() -> None:
    manifest = _manifest()
    assert set(manifest["splits"]) == {"tuning", "evaluation"}
    assert "eval_fixtures" in manifest["evaluation_generated_by"]
    clips = _eval()
    assert len(clips) >= 40
    assert all(c["split"] == "evaluation" for c in clips)
    tuning = {c["file"] for c in [*manifest["clips"], *manifest.get("dialogue_test_clips", [])]}
    assert not tuning & {c["file"] for c in clips}
    # the manifest and the generator's table agree
    assert [c["text"] for c in clips] == [q.text for q in QUESTIONS]


def test_eval_clips_are_short_phone_audio() -> None:
    for clip in _eval():
        path = FIXTURES / clip["file"]
        info = soundfile.info(str(path))
        assert (info.samplerate, info.channels) == (8000, 1), clip["file"]
        assert 1.0 <= info.duration <= 7.0 and abs(info.duration - clip["duration_s"]) < 0.01
        assert clip["expected_intent"] and clip["answer_words"]
        assert re.fullmatch(r"(service|office|intent):[a-z_]+", clip["expected_topic"])
    on_disk = {f"eval/{p.name}" for p in (FIXTURES / "eval").iterdir()}
    assert on_disk == {c["file"] for c in _eval()}


def test_every_catalogue_topic_is_asked() -> None:
    office_of: dict[str, str] = {}  # service id -> office id
    offices: set[str] = set()
    for path in (RASA / "catalogue").glob("*.yml"):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        office_of |= {s["id"]: s["office"] for s in data.get("services", [])}
        offices |= {o["id"] for o in data.get("offices", [])}
    topics = Counter(c["expected_topic"] for c in _eval())
    assert {f"service:{s}" for s in office_of} <= set(topics), office_of
    asked = {t.split(":")[1] for t in topics if t.startswith("office:")}
    assert len(asked) >= 5  # opening hours, address, phone of offices by name
    assert offices == set(office_of.values())  # every office has a service asked about
    intents = {c["expected_intent"] for c in _eval()}
    assert {"request_human", "bot_challenge", "out_of_scope", "goodbye"} <= intents
    assert any(c["language"] == "en" for c in _eval())


def test_no_eval_question_is_tuning_data() -> None:
    """The questions are held out: not an NLU example, not containing one of five words or
    more, and no hot word line is a question."""
    examples = nlu_examples()
    assert len(examples) > 100  # the reader found the NLU data
    exact = set(examples)
    long_examples = [e for e in examples if len(e.split()) >= 5]
    hot = set(hotwords())
    for clip in _eval():
        text = normalise(clip["text"])
        assert text not in exact, clip["text"]
        inside = [e for e in long_examples if f" {e} " in f" {text} "]
        assert not inside, (clip["text"], inside)
        assert text not in hot


def test_questions_are_worded_like_callers() -> None:
    texts = [c["text"] for c in _eval()]
    greeted = [t for t in texts if re.match(r"(Hallo|Guten (Tag|Morgen))\b", t)]
    assert len(greeted) >= 8  # a greeting in front, as people start
    assert len(set(texts)) == len(texts)
    assert sum(len(t.split()) >= 8 for t in texts) >= 15  # not just key words
