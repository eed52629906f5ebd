"""Text folding shared by the parsers: one spelling for case, umlauts and ß."""

import re
import unicodedata

# "Zwölf", "ZWOELF" and "zwoelf" all fold to "zwoelf"; the parsers' word tables are folded too.
_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
_TOKEN = re.compile(r"\+|\d+|[^\W\d_]+")


def fold(text: str) -> str:
    """Lower-case `text` and write ä/ö/ü/ß as ae/oe/ue/ss, so Whisper's variants compare equal."""
    return unicodedata.normalize("NFC", text).lower().translate(_UMLAUTS)


def tokens(text: str) -> list[str]:
    """Folded words, digit runs and "+" of `text`; all other punctuation is dropped."""
    return _TOKEN.findall(fold(text))


def word_set(text: str) -> frozenset[str]:
    """The words of a word list written as one string (the parsers' tables)."""
    return frozenset(text.split())
