"""Digit strings spoken one by one or in groups: postcodes, phone numbers, house numbers."""

import re

from ._text import fold, tokens
from .numbers import parse_number_word
from .spelling import read_letter

LEVERKUSEN_POSTCODES = range(51371, 51382)  # 51371..51381
_ROUND_TENS = {str(n) for n in range(20, 100, 10)}
_HOUSE_FILLERS = {"hausnummer", "nummer", "nr", "die", "ist", "meine", "lautet", "haus"}
_HOUSE_TOKEN = re.compile(r"\d+|[^\W\d_]+|[-/]")
# English digits, for a call in English ("zero two one four"); none is a German word
_ENGLISH_DIGITS = {
    "zero": "0",
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
}


def _digit_group(tok: str) -> str | None:
    """The digits one token stands for: "51" -> "51", "fuenf" -> "5", "einundfuenfzig" -> "51"."""
    if tok.isdigit():
        return tok
    if tok in _ENGLISH_DIGITS:
        return _ENGLISH_DIGITS[tok]
    if tok in ("ein", "eine"):  # an article far more often than a digit
        return None
    value = parse_number_word(tok)
    return None if value is None else str(value)


def _repeat(tok: str) -> int | None:
    """The count of "doppel" (2) or "zweimal"/"dreimal" fused into one token, else None."""
    if tok in ("doppel", "doppelt"):
        return 2
    if tok.endswith("mal") and tok != "mal":
        count = parse_number_word(tok[:-3])
        return count if count and count > 1 else None
    return None


def _run_digits(toks: list[str]) -> str | None:
    """Join a run of digit tokens ("null zwei eins vier" -> "0214"), or None if one is not.

    "doppel null", "zweimal null" and "zwei mal null" repeat the digit. A round ten followed by a
    single digit ("fünfzig eins") is ambiguous (501 or 51?) and gives None.
    """
    out: list[str] = []
    i = 0
    if toks and toks[0] in ("+", "plus"):
        out.append("+")
        i = 1
    while i < len(toks):
        tok = toks[i]
        count = _repeat(tok)
        if count is None and i + 2 < len(toks) and toks[i + 1] == "mal":
            count = parse_number_word(tok)
            i += 1  # the count word; "mal" is skipped below
        if count is not None:
            digit = _digit_group(toks[i + 1]) if i + 1 < len(toks) else None
            if digit is None or len(digit) != 1:
                return None
            out.append(digit * count)
            i += 2
            continue
        group = _digit_group(tok)
        if group is None:
            return None
        following = _digit_group(toks[i + 1]) if i + 1 < len(toks) else None
        if not tok.isdigit() and group in _ROUND_TENS and following and len(following) == 1:
            return None
        out.append(group)
        i += 1
    digits = "".join(out)
    return digits if digits.strip("+") else None


def _digit_tokens(text: str) -> list[str]:
    """Tokens of `text` with a fused "doppelnull" split into "doppel", "null"."""
    toks: list[str] = []
    for tok in tokens(text):
        rest = tok.removeprefix("doppel")
        toks.extend(["doppel", rest] if rest != tok and _digit_group(rest) else [tok])
    return toks


def parse_digits(text: str) -> str | None:
    """A digit string when the whole text is digits, spoken or written ("fünf eins drei sieben
    drei", "51 373", "zwo", "+49 214 ...", "plus vier neun"), else None. Punctuation is ignored."""
    return _run_digits(_digit_tokens(text))


def _is_digitish(toks: list[str], i: int) -> bool:
    """Whether toks[i] can belong to a spoken digit run (for scanning a whole sentence)."""
    tok = toks[i]
    if _digit_group(tok) is not None or _repeat(tok) is not None:
        return True
    return tok == "mal" and 0 < i < len(toks) - 1 and _digit_group(toks[i - 1]) is not None


def digit_runs(text: str) -> list[str]:
    """Every digit string in a sentence ("Die PLZ ist fünf eins drei sieben drei" -> ["51373"])."""
    toks = _digit_tokens(text)
    runs: list[list[str]] = []
    current: list[str] | None = None
    for i, tok in enumerate(toks):
        if tok in ("+", "plus"):
            current = [tok]
            runs.append(current)
        elif _is_digitish(toks, i):
            if current is None:
                current = []
                runs.append(current)
            current.append(tok)
        else:
            current = None
    return [digits for run in runs if (digits := _run_digits(run))]


def parse_postcode(text: str) -> str | None:
    """The first five-digit run in the text ("51373", "fünf eins drei sieben drei",
    "einundfünfzig dreihundertdreiundsiebzig"), else None."""
    return next((run for run in digit_runs(text) if re.fullmatch(r"\d{5}", run)), None)


def is_leverkusen_postcode(code: str) -> bool:
    """Whether `code` is one of Leverkusen's postcodes, 51371 to 51381."""
    return bool(re.fullmatch(r"\d{5}", code)) and int(code) in LEVERKUSEN_POSTCODES


def parse_phone_number(text: str) -> str | None:
    """The longest digit run of 3 to 15 digits (E.164's limit), keeping a leading "+", else None."""
    runs = [run for run in digit_runs(text) if 3 <= len(run.lstrip("+")) <= 15]
    return max(runs, key=lambda run: len(run.lstrip("+")), default=None)


def _house_part(toks: list[str], i: int) -> tuple[str, int] | None:
    """One house number with an optional letter at toks[i] ("12 a" -> "12a") and tokens used."""
    value = int(toks[i]) if toks[i].isdigit() else parse_number_word(toks[i])
    if value is None or not 1 <= value <= 9999:
        return None
    if i + 1 < len(toks) and toks[i + 1] not in ("-", "/", "bis", "strich"):
        letter = read_letter(toks, i + 1)
        if letter is None or len(letter[0]) != 1:
            return None
        return f"{value}{letter[0]}", 1 + letter[1]
    return str(value), 1


def parse_house_number(text: str) -> str | None:
    """A house number: "zwölf a" -> "12a", "12 B" -> "12b", "12-14"/"12 bis 14" -> "12-14",
    "dreiundzwanzig" -> "23". A leading "Hausnummer"/"Nummer" is skipped; anything else -> None."""
    toks = _HOUSE_TOKEN.findall(fold(text))
    while toks and toks[0] in _HOUSE_FILLERS:
        toks.pop(0)
    if not toks:
        return None
    first = _house_part(toks, 0)
    if first is None:
        return None
    number, used = first
    if used == len(toks):
        return number
    if toks[used] in ("-", "bis", "strich") and used + 1 < len(toks):
        second = _house_part(toks, used + 1)
        if second is not None and used + 1 + second[1] == len(toks):
            return f"{number}-{second[0]}"
    return None
