"""Reference ids of handoffs and requests: six characters easy to read out, hear and type.

The alphabet has the digits 2-9 and the consonants without L (no 0/O, 1/I/L confusion, and no
vowels, so no words come out). 27^6 is about 387 million ids; uniqueness is enforced by the
database (a collision is simply drawn again).
"""

from __future__ import annotations

import secrets

ALPHABET = "23456789BCDFGHJKMNPQRSTVWXZ"
LENGTH = 6

# German letter names with the DIN 5009 (2022) city words, as a phone agent spells.
GERMAN_LETTERS = {
    "B": "Be wie Berlin",
    "C": "Ze wie Chemnitz",
    "D": "De wie Düsseldorf",
    "F": "Eff wie Frankfurt",
    "G": "Ge wie Goslar",
    "H": "Ha wie Hamburg",
    "J": "Jott wie Jena",
    "K": "Ka wie Köln",
    "M": "Em wie München",
    "N": "En wie Nürnberg",
    "P": "Pe wie Potsdam",
    "Q": "Ku wie Quickborn",
    "R": "Er wie Rostock",
    "S": "Es wie Salzwedel",
    "T": "Te wie Tübingen",
    "V": "Fau wie Völklingen",
    "W": "We wie Wuppertal",
    "X": "Ix wie Xanten",
    "Z": "Zett wie Zwickau",
}
# "zwo", not "zwei": on the phone it cannot be confused with "drei".
GERMAN_DIGITS = {
    "2": "zwo",
    "3": "drei",
    "4": "vier",
    "5": "fünf",
    "6": "sechs",
    "7": "sieben",
    "8": "acht",
    "9": "neun",
}
NATO = {
    "B": "Bravo",
    "C": "Charlie",
    "D": "Delta",
    "F": "Foxtrot",
    "G": "Golf",
    "H": "Hotel",
    "J": "Juliett",
    "K": "Kilo",
    "M": "Mike",
    "N": "November",
    "P": "Papa",
    "Q": "Quebec",
    "R": "Romeo",
    "S": "Sierra",
    "T": "Tango",
    "V": "Victor",
    "W": "Whiskey",
    "X": "X-ray",
    "Z": "Zulu",
}
ENGLISH_DIGITS = {
    "2": "two",
    "3": "three",
    "4": "four",
    "5": "five",
    "6": "six",
    "7": "seven",
    "8": "eight",
    "9": "nine",
}


def new_handoff_id() -> str:
    """A random id from the unambiguous alphabet."""
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def normalise_handoff_id(text: str) -> str | None:
    """What an agent typed ("k7m 42-x") as an id ("K7M42X"), or None if it cannot be one."""
    cleaned = "".join(ch for ch in text.upper() if not ch.isspace() and ch not in "-._/")
    if len(cleaned) != LENGTH or any(ch not in ALPHABET for ch in cleaned):
        return None
    return cleaned


def display_id(handoff_id: str) -> str:
    """The id with spaces between characters, as written in the transcript ("K 7 M 4 2 X")."""
    return " ".join(handoff_id)


def spell_id(handoff_id: str, language: str = "de") -> str:
    """The id spelt for speech synthesis, character by character, with letter names."""
    if language == "en":
        words = [NATO.get(ch) or ENGLISH_DIGITS.get(ch, ch) for ch in handoff_id]
    else:
        words = [GERMAN_LETTERS.get(ch) or GERMAN_DIGITS.get(ch, ch) for ch in handoff_id]
    return ", ".join(words)
