"""Matching a caller's words (as Whisper wrote them) to catalogue synonyms.

Both sides are folded the same way: lower case, ß -> ss, accents and umlauts dropped, and
ae/oe/ue read as a/o/u, so "Führungszeugnis", "Fuehrungszeugnis" and "Fuhrungszeugnis" are
equal. A synonym matches when each of its words occurs in the utterance, exactly, inflected
("Reisepasses") or, for words of 7+ letters, as a close misspelling ("Personalausweiß");
compounds match split or joined ("Personal Ausweis" = "Personalausweis"), or, for words of 7+
letters, when they sound the same (Kölner Phonetik of the stems, phonetic.py: "zu lassen" for
"Zulassung", "Meldebeschainigung"). More matched letters score higher, so "Ausweis verloren"
beats "Ausweis".
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from difflib import SequenceMatcher

from .phonetic import heard_words, sounds_alike

_WORD = re.compile(r"[a-z0-9]+")
_DIGRAPHS = (("ae", "a"), ("oe", "o"), ("ue", "u"))
# German inflection endings a synonym word may carry in the utterance ("Passes", "Hunde").
_ENDINGS = frozenset({"s", "es", "e", "en", "n", "er", "ern", "ns"})
_FUZZY_MIN_LENGTH = 7  # shorter words must match exactly: "Abmeldung" vs "Anmeldung" differ less
_FUZZY_MIN_RATIO = 0.84
_INFLECTED = 0.95  # an inflected word counts a little less than the exact word
_FUZZY_WEIGHT = 0.9  # a misspelling counts less than any correct spelling
_PHONETIC = 0.8  # a word that only sounds the same counts less than a close misspelling
_PHONETIC_MIN_RATIO = 0.7  # and it must still be spelled much alike ("Mülltonne" / "melden")
_MAX_JOIN = 3  # words of the utterance joined to find split compounds


def fold(text: str) -> str:
    """The matching form of `text`: lower case, ß as ss, no accents, ae/oe/ue as a/o/u."""
    lowered = unicodedata.normalize("NFKD", text.lower().replace("ß", "ss"))
    plain = "".join(ch for ch in lowered if not unicodedata.combining(ch))
    for digraph, vowel in _DIGRAPHS:
        plain = plain.replace(digraph, vowel)
    return plain


def words(text: str) -> tuple[str, ...]:
    """The folded words of `text`; punctuation and hyphens separate words."""
    return tuple(_WORD.findall(fold(text)))


@dataclass(frozen=True)
class Synonym:
    """One phrase that names a service, in matching form."""

    service_id: str
    phrase: str
    words: tuple[str, ...]


SynonymIndex = tuple[Synonym, ...]


@dataclass(frozen=True)
class Match:
    """A service found in an utterance: the best-scoring synonym and its score."""

    service_id: str
    synonym: str
    score: float


def _similarity(word: str, candidate: str, fuzzy: bool = True, sounding: bool = False) -> float:
    """1 for the word itself, less for an inflected form, a misspelling or (with `sounding`:
    the candidate may be heard as one word) a spelling that sounds the same; else 0."""
    if word == candidate:
        return 1.0
    if candidate.startswith(word) and candidate[len(word) :] in _ENDINGS:
        return _INFLECTED
    if not fuzzy or len(word) < _FUZZY_MIN_LENGTH or abs(len(word) - len(candidate)) > 4:
        return 0.0
    alike = sounding and sounds_alike(word, candidate)
    if not alike and abs(len(word) - len(candidate)) > 3:
        return 0.0
    matcher = SequenceMatcher(None, word, candidate, autojunk=False)
    least = _PHONETIC_MIN_RATIO if alike else _FUZZY_MIN_RATIO
    if matcher.real_quick_ratio() < least or matcher.quick_ratio() < least:
        return 0.0
    ratio = matcher.ratio()
    if ratio >= _FUZZY_MIN_RATIO:
        return max(ratio * _FUZZY_WEIGHT, _PHONETIC if alike else 0.0)
    return _PHONETIC if alike and ratio >= _PHONETIC_MIN_RATIO else 0.0


def _candidates(utterance: tuple[str, ...]) -> frozenset[str]:
    """The utterance's words plus runs of up to _MAX_JOIN adjacent words written together."""
    found = set(utterance)
    for size in range(2, _MAX_JOIN + 1):
        for start in range(len(utterance) - size + 1):
            found.add("".join(utterance[start : start + size]))
    return frozenset(found)


def _score(
    parts: tuple[str, ...],
    candidates: frozenset[str],
    fuzzy: bool = True,
    sounding: frozenset[str] = frozenset(),
) -> float:
    """Matched letters weighted by similarity; 0 unless every part is found."""
    total = 0.0
    for part in parts:
        best = max((_similarity(part, c, fuzzy, c in sounding) for c in candidates), default=0.0)
        if best == 0.0:
            return 0.0
        total += best * len(part)
    return total


def score(
    synonym: Synonym, candidates: frozenset[str], sounding: frozenset[str] = frozenset()
) -> float:
    """How well the utterance (as candidates) contains the synonym; 0 = not at all.
    `sounding`: the candidates that may match by sound (heard_words)."""
    split = _score(synonym.words, candidates, sounding=sounding)
    if len(synonym.words) == 1:
        return split
    # the phrase written as one word ("Anwohner Parkausweis" -> "anwohnerparkausweis") must
    # match exactly: fuzzy matching across word boundaries finds words that are not there
    return max(split, _score(("".join(synonym.words),), candidates, fuzzy=False))


def rank(index: SynonymIndex, text: str) -> list[Match]:
    """Services whose synonyms occur in `text`, best score first (ties by id)."""
    said = words(text)
    candidates = _candidates(said)
    if not candidates:
        return []
    sounding = heard_words(said)
    best: dict[str, Match] = {}
    for synonym in index:
        value = score(synonym, candidates, sounding)
        if value > 0 and (synonym.service_id not in best or value > best[synonym.service_id].score):
            best[synonym.service_id] = Match(synonym.service_id, synonym.phrase, value)
    return sorted(best.values(), key=lambda m: (-m.score, m.service_id))
