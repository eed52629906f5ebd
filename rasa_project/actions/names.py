"""The caller's name from what Whisper heard, for every form that asks for one.

"mein Name ist anna schmidt." -> "Anna Schmidt"; a spelled name ("S wie Siegfried, C H ...")
is put together letter by letter. None when the answer does not look like a name: "ja, das
stimmt", "weiß ich nicht", digits, a date ("in drei Wochen"), or the introduction alone
("Mein Name ist", when Whisper lost the name itself).
"""

from __future__ import annotations

import re

from .catalogue.match import words
from .normalise import parse_number_word, parse_spelled_name

_NAME_INTRO = re.compile(
    r"^(?:(?:also|äh|ähm|ja|gut|okay|ok)[,.]?\s+)*"
    r"(?:mein\s+name\s+ist|mein\s+name\s+lautet|mein\s+name|der\s+name\s+ist|der\s+name|name|"
    r"ich\s+hei(?:ß|ss)e|ich\s+bin|hier\s+ist|hier\s+spricht|das\s+ist|auf\s+den\s+namen)"
    r"(?:[\s:,]+|$)",
    re.IGNORECASE,
)
_NAME_WORD = re.compile(r"[^\W\d_]+(?:['’.-][^\W\d_]*)*", re.UNICODE)
_NAME_PARTICLES = {"von", "van", "vom", "zu", "zum", "zur", "der", "den", "de", "ter", "la"}
# Folded words (catalogue.match.words) that show an answer to another question.
_NOT_A_NAME = {"ja", "nein", "nicht", "weiss", "keine", "ahnung", "egal", "hallo", "tschuss"}
_NOT_A_NAME |= {"termin", "warum", "was", "wieso", "keinen", "sage", "sagen", "doch"}
_NOT_A_NAME |= {"stimmt", "richtig", "genau", "falsch", "korrekt", "okay", "ok", "hm"}
_NOT_A_NAME |= {"aeh", "aehm", "woche", "wochen", "morgen", "heute", "uhr"}
_POLITE = {"bitte", "danke"}
_ONE = {"ein", "eine", "einen", "einem", "einer", "eins"}


def parse_name(text: str) -> str | None:
    """The caller's name, cleaned and capitalised, or None when it does not look like one."""
    text = " ".join(str(text or "").split())
    spelled = parse_spelled_name(text)
    if spelled is not None and sum(c.isalpha() for c in spelled) >= 3:
        return spelled
    if any(c.isdigit() for c in text):
        return None
    rest = _NAME_INTRO.sub("", text.strip(" .,!?;:")).strip(" .,!?;:")
    parts = [p.strip(".") for p in _NAME_WORD.findall(rest)]
    while parts and words(parts[-1]) and words(parts[-1])[0] in _POLITE:
        parts.pop()
    parts = [p for p in parts if p]
    if not parts or len(parts) > 6 or sum(len(p) for p in parts) < 2:
        return None
    if any(w in _NOT_A_NAME for p in parts for w in words(p)):
        return None
    if any(w.lower() not in _ONE and parse_number_word(w) is not None for w in parts):
        return None  # "in drei Wochen": an answer to another question
    last = len(parts) - 1
    named = [
        p.lower() if p.lower() in _NAME_PARTICLES and n < last else p[:1].upper() + p[1:]
        for n, p in enumerate(parts)
    ]
    return " ".join(named)
