"""What a short expected answer may be: the kinds the dialogue asks for, and digits in German.

The dialogue says which answer it expects next ({"expect": "postcode"} and the like, see
voicebot/pipeline/directives.py). For closed answers (yes or no, digits of a known length) the
gateway scores the expected phrases against the audio (voicebot/services/constrained.py)
instead of trusting Whisper's free transcript. This module is the pure part: the kinds, how long
a digit answer may be, how the candidates are written for Whisper, and German number words
("null eins zwo drei", "einundfünfzig", "dreihundertdreiundsiebzig", "doppel null") read as
digits. No model here, so it is tested with plain tables (tests/unit/test_constrained_text.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Recognition = Literal["yes_no", "postcode", "phone", "house_number", "digits"]
RECOGNITIONS: frozenset[str] = frozenset(Recognition.__args__)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class DigitSpan:
    """How many digits an answer of this kind has."""

    shortest: int
    longest: int

    def fits(self, digits: str) -> bool:
        """Whether a digit string has an allowed length."""
        return self.shortest <= len(digits) <= self.longest


DIGIT_KINDS: dict[str, DigitSpan] = {
    "postcode": DigitSpan(5, 5),
    "phone": DigitSpan(6, 15),  # local numbers have 6+, E.164 at most 15
    "house_number": DigitSpan(1, 4),
    "digits": DigitSpan(1, 15),
}
# the closed answers to a yes/no question per call language: (as Whisper writes it, as the
# dialogue gets it); a language not listed gets no candidates (its free transcript stays)
YES_NO: dict[str, tuple[tuple[str, str], ...]] = {
    "de": (("Ja.", "Ja."), ("Nein.", "Nein.")),
    "en": (("Yes.", "Yes."), ("No.", "No.")),
}
YES_NO_WORDS = frozenset(
    {"ja", "nein", "jawohl", "genau", "stimmt", "richtig", "nee", "ne", "yes", "no", "yeah"}
)
MAX_DIGITS = 15

_UNITS = {
    "null": 0,
    "eins": 1,
    "ein": 1,
    "eine": 1,
    "zwei": 2,
    "zwo": 2,
    "drei": 3,
    "vier": 4,
    "fünf": 5,
    "sechs": 6,
    "sieben": 7,
    "acht": 8,
    "neun": 9,
}
_TEENS = {
    "zehn": 10,
    "elf": 11,
    "zwölf": 12,
    "dreizehn": 13,
    "vierzehn": 14,
    "fünfzehn": 15,
    "sechzehn": 16,
    "siebzehn": 17,
    "achtzehn": 18,
    "neunzehn": 19,
}
_TENS = {
    "zwanzig": 20,
    "dreißig": 30,
    "vierzig": 40,
    "fünfzig": 50,
    "sechzig": 60,
    "siebzig": 70,
    "achtzig": 80,
    "neunzig": 90,
}
# "ein"/"eine" alone are articles ("eine andere Nummer"), not digits; inside compounds they count
_ALONE_NOT_DIGITS = frozenset({"ein", "eine"})
_TOKEN = re.compile(r"\+|\d+|[^\W\d_]+")
_FILLERS = frozenset({"und", "äh", "ähm", "also", "die", "ist", "nummer", "postleitzahl", "plz"})


def _fold(word: str) -> str:
    """Lower case; "dreissig" as "dreißig"."""
    return word.lower().replace("dreiss", "dreiß")


def _below_hundred(word: str) -> int | None:
    """0..99 from one word ("elf", "einundfünfzig"), else None."""
    simple = _UNITS.get(word, _TEENS.get(word, _TENS.get(word)))
    if simple is not None:
        return simple
    unit, sep, tens = word.partition("und")
    if sep and unit in _UNITS and _UNITS[unit] > 0 and tens in _TENS:
        return _UNITS[unit] + _TENS[tens]
    return None


def number_word(word: str) -> int | None:
    """A German number word up to 9999 as a number ("dreihundertdreiundsiebzig" -> 373,
    "zwo" -> 2, "tausendeins" -> 1001), else None."""
    word = _fold(word)
    if not word or not word.isalpha():
        return None
    total = 0
    rest = word
    for scale, name in ((1000, "tausend"), (100, "hundert")):
        head, sep, tail = rest.partition(name)
        if not sep:
            continue
        count = 1 if head in ("", "ein", "eins") else _UNITS.get(head)
        if count is None or count == 0:
            return None
        total += count * scale
        rest = tail
        if not rest:
            return total
    below = _below_hundred(rest)
    if below is None or (total and below == 0):
        return None
    return total + below


def _repeat_count(word: str) -> int | None:
    """ "doppel" -> 2, "dreimal" -> 3, else None."""
    if word in ("doppel", "doppelt"):
        return 2
    if word.endswith("mal") and len(word) > 3:
        count = number_word(word[:-3])
        return count if count is not None and count > 1 else None
    return None


def _group(token: str) -> str | None:
    """The digits one token stands for ("51" -> "51", "fünf" -> "5", "einundfünfzig" -> "51")."""
    if token.isdigit():
        return token
    if token in _ALONE_NOT_DIGITS:
        return None
    value = number_word(token)
    return None if value is None else str(value)


def spoken_digits(text: str) -> str | None:
    """The digit string of an answer that is only digits, spoken or written, else None.

    "null zwo eins vier" -> "0214", "5, 1, 3, 7, 3" -> "51373", "einundfünfzig
    dreihundertdreiundsiebzig" -> "51373", "doppel null" -> "00", "plus vier neun" -> "+49".
    Punctuation and a few fillers ("äh", "die Postleitzahl ist") are skipped; any other word
    makes it None, so that "ich möchte abbrechen" is never read as digits.
    """
    tokens = [_fold(t) for t in _TOKEN.findall(text)]
    out: list[str] = []
    repeat = 1
    for i, token in enumerate(tokens):
        if token in ("+", "plus") and not out:
            out.append("+")
            continue
        if token in _FILLERS:
            continue
        count = _repeat_count(token)
        if count is not None:
            repeat = count
            continue
        if token == "mal" and i > 0 and out and out[-1].isdigit() and len(out[-1]) == 1:
            repeat = int(out.pop())
            continue
        group = _group(token)
        if group is None:
            return None
        out.append(group * repeat if repeat > 1 and len(group) == 1 else group)
        repeat = 1
    digits = "".join(out)
    if not digits.strip("+") or len(digits.lstrip("+")) > MAX_DIGITS:
        return None
    return digits


def digit_renderings(digits: str) -> tuple[str, ...]:
    """How Whisper writes digits spoken one by one: "5 1 3 7 3" and "5, 1, 3, 7, 3"."""
    plain = digits.lstrip("+")
    lead = "+" if digits.startswith("+") else ""
    return (lead + " ".join(plain), lead + ", ".join(plain))


def says_yes_or_no(text: str) -> bool:
    """Whether a transcript already contains a yes or a no ("Ja, das stimmt.", "Nein danke")."""
    return any(t in YES_NO_WORDS for t in (_fold(w) for w in _TOKEN.findall(text)))
