"""The reviewed turns as a Rasa NLU training data file (YAML, `version: "3.1"`).

One `- intent:` block per intent with its examples as a literal block, the masks written as
`<Telefon>`, `<Name>`, ... (square brackets would be Rasa's entity markup). Examples are
de-duplicated, stripped of characters YAML or Rasa's markup would misread, and masked again
(a review stores masked text; masking twice changes nothing). `rasa data validate` accepts
the file next to the project's data (tests/integration/test_training_export.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from voicebot.training.masking import mask_text
from voicebot.training.reviews import Review

HEADER = (
    "# Reviewed by the hotline's trainers (voicebot trainer export): caller turns the bot\n"
    "# understood badly, with the intent a trainer assigned. Personal data is masked\n"
    "# (<Telefon>, <E-Mail>, <Name>, ...). Review before adding to rasa_project/data/nlu/.\n"
)
_MASK = re.compile(r"\[(Telefon|E-Mail|Name|Adresse|Nummer|IBAN|Datum)\]")
_MARKUP = re.compile(r"[\[\]{}()\"\\]")
_INTENT = re.compile(r"^[A-Za-z0-9_]{1,64}$")


def example_text(text: str) -> str:
    """One example as Rasa reads it: masked, markup characters removed, on one line."""
    text = _MASK.sub(r"<\1>", mask_text(text))
    text = _MARKUP.sub(" ", text)
    return re.sub(r"\s+", " ", text).strip()


def nlu_yaml(reviews: Iterable[Review]) -> str:
    """The NLU file for the reviews that carry an intent."""
    by_intent: dict[str, list[str]] = {}
    for review in reviews:
        if not review.intent or not _INTENT.match(review.intent):
            continue
        example = example_text(review.text)
        examples = by_intent.setdefault(review.intent, [])
        if example and example.lower() not in {e.lower() for e in examples}:
            examples.append(example)
    lines = [HEADER.rstrip("\n"), 'version: "3.1"']
    if not any(by_intent.values()):
        return "\n".join([*lines, "nlu: []", ""])
    lines.append("nlu:")
    for intent in sorted(by_intent):
        if not by_intent[intent]:
            continue
        lines += [f"- intent: {intent}", "  examples: |"]
        lines += [f"    - {example}" for example in by_intent[intent]]
    return "\n".join(lines) + "\n"
