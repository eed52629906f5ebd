"""German number words, both ways: "dreihundertdreiundsiebzig" <-> 373, ordinals for dates."""

import re

from ._text import fold

# Spelled as Piper should read them; the parsing tables below are folded from these.
_UNIT_WORDS = ("null", "eins", "zwei", "drei", "vier", "fünf", "sechs", "sieben", "acht", "neun")
_TEEN_WORDS = (
    "zehn",
    "elf",
    "zwölf",
    "dreizehn",
    "vierzehn",
    "fünfzehn",
    "sechzehn",
    "siebzehn",
    "achtzehn",
    "neunzehn",
)
_TENS_WORDS = {
    20: "zwanzig",
    30: "dreißig",
    40: "vierzig",
    50: "fünfzig",
    60: "sechzig",
    70: "siebzig",
    80: "achtzig",
    90: "neunzig",
}

# 1..9 as they appear inside compounds ("ein" in "einundzwanzig", "zwo" on the phone).
_UNITS: dict[str, int] = {fold(w): n for n, w in enumerate(_UNIT_WORDS) if n} | {
    "ein": 1,
    "zwo": 2,
}
_BELOW_TWENTY: dict[str, int] = _UNITS | {fold(w): n + 10 for n, w in enumerate(_TEEN_WORDS)}
_TENS: dict[str, int] = {fold(w): n for n, w in _TENS_WORDS.items()}
_SIMPLE: dict[str, int] = _BELOW_TWENTY | _TENS

# Ordinal stems that are not the cardinal: "ersten", "dritten", "siebten", "achten".
_ORDINAL_STEMS = {"er": 1, "drit": 3, "sieb": 7, "ach": 8}
_ORDINAL_SUFFIXES = ("sten", "ster", "stem", "stes", "ste", "ten", "ter", "tem", "tes", "te")
_ORDINAL_IRREGULAR = {1: "ers", 3: "drit", 7: "sieb", 8: "ach"}

_DIGITS = re.compile(r"\d{1,3}(?:[.\s]\d{3})+|\d+")
_WORDS = re.compile(r"[^\W\d_]+(?:[\s-]+[^\W\d_]+)*")


def _below_hundred(word: str) -> int | None:
    """1..99 from one folded word ("elf", "einundfuenfzig"); None if it is not one."""
    if word in _SIMPLE:
        return _SIMPLE[word]
    unit, sep, tens = word.partition("und")
    if sep and unit in _UNITS and tens in _TENS:
        return _UNITS[unit] + _TENS[tens]
    return None


def _below_thousand(word: str, *, wide_hundreds: bool = False) -> int | None:
    """1..999 from one folded word; `wide_hundreds` allows 1100..9999 ("neunzehnhundert")."""
    head, sep, tail = word.partition("hundert")
    if not sep:
        return _below_hundred(word)
    hundreds = _below_hundred(head) if head else 1
    if hundreds is None or hundreds > (99 if wide_hundreds else 9):
        return None
    tail = tail.removeprefix("und")
    rest = _below_hundred(tail) if tail else 0
    return None if rest is None else hundreds * 100 + rest


def parse_number_word(word: str) -> int | None:
    """0..999999 from one German number word ("zweitausendsiebenundzwanzig" -> 2027), else None."""
    word = fold(word).strip()
    if word == "null":
        return 0
    head, sep, tail = word.partition("tausend")
    if not sep:
        return _below_thousand(word, wide_hundreds=True)
    thousands = _below_thousand(head) if head else 1
    tail = tail.removeprefix("und")
    rest = _below_thousand(tail) if tail else 0
    if thousands is None or rest is None:
        return None
    return thousands * 1000 + rest


def parse_ordinal_word(word: str) -> int | None:
    """The value of an ordinal word in any case ending ("zwölften" -> 12, "ersten" -> 1)."""
    word = fold(word).strip()
    for suffix in _ORDINAL_SUFFIXES:
        if not word.endswith(suffix):
            continue
        stem = word[: -len(suffix)]
        value = _ORDINAL_STEMS.get(stem) or parse_number_word(stem)
        if value:
            return value
    return None


def parse_number(text: str) -> int | None:
    """A whole utterance that is one number: digits ("51.373" -> 51373) or German words.

    Words may be split by Whisper ("zweitausend siebenundzwanzig"); anything else in the text
    (other words, digits mixed with words, a sequence like "fünf eins") gives None.
    """
    text = fold(text).strip().rstrip(".!?,").strip()
    if _DIGITS.fullmatch(text):
        return int(re.sub(r"\D", "", text))
    if _WORDS.fullmatch(text):
        return parse_number_word(re.sub(r"[\s-]+", "", text))
    return None


def _words_below_hundred(n: int, *, compound: bool) -> str:
    """1..99 in words; inside a compound 1 is "ein" ("einhundert"), alone it is "eins"."""
    if n == 1:
        return "ein" if compound else "eins"
    if n < 10:
        return _UNIT_WORDS[n]
    if n < 20:
        return _TEEN_WORDS[n - 10]
    tens, unit = divmod(n, 10)
    if unit == 0:
        return _TENS_WORDS[n]
    return ("ein" if unit == 1 else _UNIT_WORDS[unit]) + "und" + _TENS_WORDS[tens * 10]


def _words_below_thousand(n: int, *, compound: bool) -> str:
    """1..999 in words ("dreihundertdreiundsiebzig")."""
    hundreds, rest = divmod(n, 100)
    head = _words_below_hundred(hundreds, compound=True) + "hundert" if hundreds else ""
    return head + (_words_below_hundred(rest, compound=compound) if rest else "")


def number_to_words(n: int) -> str:
    """0..999999 as one German word for the TTS (373 -> "dreihundertdreiundsiebzig")."""
    if not 0 <= n <= 999_999:
        raise ValueError(f"number_to_words handles 0..999999, not {n}")
    if n == 0:
        return "null"
    thousands, rest = divmod(n, 1000)
    head = _words_below_thousand(thousands, compound=True) + "tausend" if thousands else ""
    return head + (_words_below_thousand(rest, compound=False) if rest else "")


def ordinal_to_words(n: int) -> str:
    """An ordinal in the "-ten" form used after "am"/"den" (12 -> "zwölften", 1 -> "ersten")."""
    if not 1 <= n <= 999_999:
        raise ValueError(f"ordinal_to_words handles 1..999999, not {n}")
    last = n % 100
    if 1 <= last < 20:
        prefix = number_to_words(n - last) if n > last else ""
        stem = _ORDINAL_IRREGULAR.get(last) or _words_below_hundred(last, compound=False)
        return prefix + stem + "ten"
    return number_to_words(n) + "sten"


def year_to_words(year: int) -> str:
    """A year as spoken: 1985 -> "neunzehnhundertfünfundachtzig", 2027 -> "zweitausend..."."""
    if 1100 <= year <= 1999:
        hundreds, rest = divmod(year, 100)
        tail = _words_below_hundred(rest, compound=False) if rest else ""
        return _words_below_hundred(hundreds, compound=False) + "hundert" + tail
    return number_to_words(year)
