"""Domain words for Whisper's `hotwords`, taken from the Rasa NLU training data.

German nouns are capitalised, so the capitalised words of the training examples (services,
offices, documents) plus lookup-table and synonym entries make a good hint list. A list of
words, not a sentence: a sentence-style prompt leaks into transcripts (MODELS.md).
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

_WORD = re.compile(r"[A-ZÄÖÜ][\wäöüÄÖÜß-]{3,}")
_ANNOTATION = re.compile(r"\[([^\]]+)\]\([^)]*\)|\[([^\]]+)\]\{[^}]*\}")
# capitalised only because they start a question or sentence
_STOPWORDS = {
    "Wann",
    "Wie",
    "Was",
    "Wo",
    "Wer",
    "Welche",
    "Welcher",
    "Kann",
    "Können",
    "Ich",
    "Sie",
    "Bitte",
    "Danke",
    "Hallo",
    "Guten",
    "Gibt",
    "Haben",
    "Brauche",
    "Muss",
    "Möchte",
    "Wohin",
    "Warum",
    "Sind",
    "Bin",
    "Ist",
    "Hat",
    "Darf",
    "Dann",
    "Also",
    "Nein",
    "Tschüss",
    "Vielen",
}


def _examples(node: dict[str, Any]) -> list[str]:
    """The example lines of one nlu item (intent, lookup or synonym)."""
    raw = node.get("examples", "")
    lines = [line.strip().removeprefix("- ").strip() for line in str(raw).splitlines()]
    return [line for line in lines if line]


def extract_hotwords(nlu_dir: Path, limit: int = 40) -> list[str]:
    """The most frequent domain words of the NLU files under `nlu_dir`, most frequent first."""
    counts: Counter[str] = Counter()
    for path in sorted(nlu_dir.rglob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for item in data.get("nlu", []) or []:
            if not isinstance(item, dict):
                continue
            weight = 3 if ("lookup" in item or "synonym" in item) else 1
            for line in _examples(item):
                text = _ANNOTATION.sub(lambda m: m.group(1) or m.group(2), line)
                for word in _WORD.findall(text):
                    if word not in _STOPWORDS:
                        counts[word] += weight
    return [word for word, _ in counts.most_common(limit)]
