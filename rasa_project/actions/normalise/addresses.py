"""Addresses said on the phone: "Hauptstraße 12a, 51373 Leverkusen", "in der kölner straße
zwölf fünf eins drei sieben drei"; and how the bot says house numbers and postcodes back.

Standard library only, like the rest of normalise/.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ._text import fold, word_set
from .digits import parse_house_number, parse_postcode
from .numbers import number_to_words, parse_number_word

DIGIT_WORDS = ("null", "eins", "zwei", "drei", "vier", "fünf", "sechs", "sieben", "acht", "neun")

_WORD = re.compile(r"\d+|[^\W\d_]+(?:-[^\W\d_]+)*\.?")
_ADDRESS_FILLERS = word_set(
    "ich wir wohne wohnen mein meine unsere die der das adresse anschrift "
    "abholadresse ist lautet in ja also aeh aehm ehm hm bei mir uns es geht um und "
    "zwar bitte gerne gern sperrmuell soll wird abgeholt werden steht stehen abholung "
    "hier okay ok gut klar natuerlich moment warten sekunde"
)
_STREET_ENDINGS = tuple(
    word_set(
        "strasse str weg platz allee gasse ring damm ufer berg feld hof pfad chaussee "
        "markt garten kamp busch steg wall graben siedlung heide park hoehe bruch winkel "
        "grund hang tal wiese aue acker dorf stieg bruecke blick kreuz muehle kuhl hecke"
    )
)
_STREET_PREPOSITIONS = word_set("am an auf im zum zur unter hinter vor alte alter neue neuer")
_ADDRESS_STOP = {"hausnummer", "nummer", "nr", "nr.", "postleitzahl", "plz", "leverkusen"}
_TRAILING_DROP = {"in", "und", "die", "der", "ist", "leverkusen", "bitte"}
_HOUSE_AT_START = re.compile(
    r"^[\s,.:]*(?:(?:haus)?nummer|nr\.?)?\s*(\d{1,4})(?!\d)"
    r"(?:\s?([a-z])(?![^\W\d_]))?"
    r"(?:\s*(?:-|/|bis)\s*(\d{1,4})(?!\d)(?:\s?([a-z])(?![^\W\d_]))?)?",
    re.IGNORECASE,
)
_FIVE_DIGITS = re.compile(r"(?<!\d)(\d{5})(?!\d)")
_CITY_FIRST = re.compile(r"^[\s,.]*(?:in\s+)?leverkusen\b[\s,.]*", re.IGNORECASE)
_POSTCODE_WORD = re.compile(r"\b(?:postleitzahl|plz)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Address:
    """What one answer said of the address; None for a part it did not say."""

    street: str | None
    house_number: str | None
    postcode: str | None


def _is_number_token(folded: str) -> bool:
    if folded.isdigit():
        return True
    if folded in ("ein", "eine", "einen"):
        return False
    return parse_number_word(folded) is not None


def _street_span(text: str) -> tuple[str | None, int]:
    """The street name at the start of the answer (fillers skipped) and where it ends."""
    words = list(_WORD.finditer(text))
    i = 0
    while i < len(words) and fold(words[i].group()).rstrip(".") in _ADDRESS_FILLERS:
        i += 1
    start = i
    while i < len(words):
        folded = fold(words[i].group())
        if folded in _ADDRESS_STOP or _is_number_token(folded):
            break
        i += 1
    street_words = [w.group() for w in words[start:i]]
    while street_words and fold(street_words[-1]).rstrip(".") in _TRAILING_DROP:
        street_words.pop()
    end = words[i].start() if i < len(words) else len(text)
    if not any(len(w.strip(".")) >= 2 for w in street_words):
        return None, end
    return street_case(street_words), end


_LOWER_IN_STREET = {"der", "die", "das", "den", "dem", "am", "an", "auf", "im", "in", "zum", "zur"}
_LOWER_IN_STREET |= {"von", "vom", "bei", "unter", "und"}


def street_case(words: list[str]) -> str:
    """Whisper writes "kölner straße": "Kölner Straße", but "An der Wiese" keeps "der"."""
    cased = [
        w if i and fold(w) in _LOWER_IN_STREET else w[:1].upper() + w[1:]
        for i, w in enumerate(words)
    ]
    return " ".join(cased)


def looks_like_street(street: str) -> bool:
    """Whether a name without a house number is still clearly a street: "Hauptstraße",
    "Kölner Str.", "Am Stadtpark" (a street word or a preposition), not "Moment"."""
    words = [fold(w).rstrip(".") for w in street.split()]
    if len(words) >= 2 and words[0] in _STREET_PREPOSITIONS:
        return True
    return any(w.endswith(_STREET_ENDINGS) for w in words)


def _spoken_house_number(rest: str) -> tuple[str | None, str]:
    """A house number in words at the start of `rest` ("zwölf a, fünf eins ...")."""
    head, comma, tail = rest.partition(",")
    toks = head.split()
    for n in range(min(4, len(toks)), 0, -1):
        found = parse_house_number(" ".join(toks[:n]))
        if found:
            return found, " ".join(toks[n:]) + comma + tail
    return None, rest


def parse_address(text: str) -> Address:
    """Street, house number and postcode from one answer: "Hauptstraße 12a, 51373 Leverkusen",
    "in der kölner straße zwölf fünf eins drei sieben drei". Missing parts are None."""
    text = " ".join(str(text or "").split())
    postcode = None
    if match := _FIVE_DIGITS.search(text):
        postcode = match[1]
        # After the postcode comes the city ("51373 Leverkusen"), unless it was said first.
        before, after = text[: match.start()], text[match.end() :]
        text = before if _WORD.search(before) else _CITY_FIRST.sub("", after)
    elif match := _POSTCODE_WORD.search(text):
        postcode = parse_postcode(text[match.end() :])
        text = text[: match.start()]
    street, end = _street_span(text)
    rest = text[end:]
    if street and not rest.strip() and not postcode and not looks_like_street(street):
        street = None  # "ähm moment": no street name
    house = None
    if match := _HOUSE_AT_START.match(rest):
        house = match[1] + (match[2] or "").lower()
        if match[3]:
            house += "-" + match[3] + (match[4] or "").lower()
        rest = rest[match.end() :]
    elif rest.strip():
        words = rest.strip(" ,.")
        for filler in ("hausnummer", "nummer", "nr"):
            if fold(words).startswith(filler + " "):
                words = words[len(filler) + 1 :]
        house, rest = _spoken_house_number(words)
    if postcode is None and rest.strip():
        postcode = parse_postcode(rest)
    return Address(street, house, postcode)


def house_number_at_start(text: str) -> str | None:
    """A house number in digits at the start of an answer: "12 b", "Nummer 7" -> "7"."""
    match = _HOUSE_AT_START.match(text)
    return match[1] + (match[2] or "").lower() if match else None


def speak_digits(digits: str) -> str:
    """ "50670" -> "fünf null sechs sieben null"."""
    return " ".join(DIGIT_WORDS[int(c)] for c in digits if c.isdigit())


def speak_house_number(house: str) -> str:
    """ "12a" -> "zwölf a", "12-14" -> "zwölf bis vierzehn"."""

    def part(text: str) -> str:
        match = re.fullmatch(r"(\d+)([a-z]?)", text)
        if not match or int(match[1]) > 999_999:
            return text
        spoken = number_to_words(int(match[1]))
        return f"{spoken} {match[2]}" if match[2] else spoken

    return " bis ".join(part(p) for p in house.split("-"))
