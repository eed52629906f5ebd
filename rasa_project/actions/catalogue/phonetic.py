"""Kölner Phonetik (Hans Joachim Postel, 1969): a code for how a German word sounds.

Whisper often writes a service word the way it sounds, not the way it is spelled
("Meldebeschainigung", "Zulasung", "Füherungszeugnis"). Words that sound alike get the same
code, so the catalogue matcher (match.py) can accept such a spelling when spelling similarity
alone is too low.

The published rules, letter by letter (context = the letters before and after):

    A E I J O U Y (and Ä Ö Ü)             0
    H                                      -  (no code)
    B; P not before H                      1
    D T not before C S Z                   2
    F V W; P before H                      3
    G K Q                                  4
    C at the start before A H K L O Q R U X; C before A H K O Q U X, not after S Z   4
    X not after C K Q                      48
    L                                      5
    M N                                    6
    R                                      7
    S Z (and ß)                            8
    C after S Z; C at the start not before A H K L O Q R U X; C not before A H K O Q U X   8
    D T before C S Z; X after C K Q        8

Then equal neighbouring digits are merged into one, and every 0 except a leading one is
removed. Letters that are not A-Z (digits, punctuation) are skipped.
"""

from __future__ import annotations

from functools import lru_cache

_VOWELS = frozenset("AEIJOUYÄÖÜ")
_SIMPLE = {
    "B": "1",
    "F": "3",
    "V": "3",
    "W": "3",
    "G": "4",
    "K": "4",
    "Q": "4",
    "L": "5",
    "M": "6",
    "N": "6",
    "R": "7",
    "S": "8",
    "Z": "8",
    "ß": "8",
}
_C_START_HARD = frozenset("AHKLOQRUX")
_C_HARD = frozenset("AHKOQUX")


def _letter_code(prev: str, letter: str, nxt: str, first: bool) -> str:
    """The code of one upper-case letter in its context ("" for H and non-letters)."""
    if letter in _VOWELS:
        return "0"
    if letter in _SIMPLE:
        return _SIMPLE[letter]
    if letter == "P":
        return "3" if nxt == "H" else "1"
    if letter in "DT":
        return "8" if nxt in ("C", "S", "Z", "ß") else "2"
    if letter == "X":
        return "8" if prev in ("C", "K", "Q") else "48"
    if letter == "C":
        if first:
            return "4" if nxt in _C_START_HARD else "8"
        if prev in ("S", "Z", "ß"):
            return "8"
        return "4" if nxt in _C_HARD else "8"
    return ""  # H, digits, anything else


@lru_cache(maxsize=8192)
def cologne(word: str) -> str:
    """The Kölner Phonetik code of `word` ("Müller-Lüdenscheidt" -> "65752682")."""
    letters = [ch for ch in word.upper() if ch.isalpha()]
    raw: list[str] = []
    for i, letter in enumerate(letters):
        prev = letters[i - 1] if i > 0 else ""
        nxt = letters[i + 1] if i + 1 < len(letters) else ""
        raw.append(_letter_code(prev, letter, nxt, first=i == 0))
    digits = "".join(raw)
    merged: list[str] = []
    for digit in digits:
        if not merged or merged[-1] != digit:
            merged.append(digit)
    if not merged:
        return ""
    return merged[0] + "".join(d for d in merged[1:] if d != "0")


# Endings that differ between what a caller says and the catalogue's word: the verb and the
# noun of the same stem ("zulassen" / "Zulassung", "anmelden" / "Anmeldung"), plural, genitive.
_STEM_ENDINGS = ("ungen", "ung", "en", "er", "es", "e", "n", "s")
_MIN_STEM = 5  # shorter stems sound like too many other words
_MIN_CODE = 3


def stem(word: str) -> str:
    """`word` (folded, lower case) without one German ending, if enough of it is left."""
    for ending in _STEM_ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= _MIN_STEM:
            return word[: -len(ending)]
    return word


def sounds_alike(word: str, candidate: str) -> bool:
    """Whether two folded words, as they are or without an ending, have the same, long enough,
    Kölner code."""
    if len(word) < _MIN_STEM + 2 or abs(len(word) - len(candidate)) > 4:
        return False
    if word[0] != candidate[0]:
        return False  # Whisper keeps the first letter; this rules out most chance matches
    codes = {cologne(word), cologne(stem(word))}
    said = {cologne(candidate), cologne(stem(candidate))}
    return any(len(code) >= _MIN_CODE for code in codes & said)


def any_sounds_alike(names: set[str], said: set[str]) -> bool:
    """Whether one of the folded `names` sounds like one of the folded words `said`."""
    return any(sounds_alike(name, word) for name in names for word in said)


# Words that Whisper writes on their own, never as a piece of a split compound: a run of words
# that contains one is not heard as one word ("hoch ist" is no "Hochzeit").
FUNCTION_WORDS = frozenset(
    {
        "ich",
        "sie",
        "er",
        "es",
        "wir",
        "ihr",
        "du",
        "ist",
        "sind",
        "bin",
        "hat",
        "habe",
        "haben",
        "die",
        "der",
        "das",
        "den",
        "dem",
        "des",
        "ein",
        "eine",
        "einen",
        "einem",
        "einer",
        "mein",
        "meine",
        "meinen",
        "ja",
        "nein",
        "so",
        "wie",
        "wo",
        "was",
        "wann",
        "bitte",
        "und",
        "oder",
        "aber",
        "mit",
        "fur",
        "auf",
        "im",
        "in",
        "an",
        "aus",
        "zum",
        "zur",
        "vom",
        "beim",
        "am",
        "von",
        "nach",
        "bei",
        "hier",
        "da",
        "dann",
        "noch",
        "nicht",
        "kein",
        "keine",
        "gibt",
    }
)


def heard_words(said: tuple[str, ...]) -> frozenset[str]:
    """The folded words of an utterance, and two neighbours written together ("zu lassen")
    unless one is a function word: what may match a catalogue word by sound."""
    found = set(said)
    for first, second in zip(said, said[1:], strict=False):
        if first not in FUNCTION_WORDS and second not in FUNCTION_WORDS:
            found.add(first + second)
    return frozenset(found)
