"""Word error rate of a transcript against its text, for the voice comparison and the tests."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from voicebot.tools import normalise

# Small numbers Whisper writes as digits, as the words the reference text uses.
NUMBER_WORDS: dict[str, tuple[str, ...]] = {
    "de": (
        *("null", "eins", "zwei", "drei", "vier", "fünf", "sechs", "sieben", "acht", "neun"),
        *("zehn", "elf", "zwölf", "dreizehn", "vierzehn", "fünfzehn", "sechzehn", "siebzehn"),
        *("achtzehn", "neunzehn", "zwanzig", "einundzwanzig", "zweiundzwanzig"),
        *("dreiundzwanzig", "vierundzwanzig"),
    ),
    "en": (
        *("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"),
        *("ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen"),
        *("eighteen", "nineteen", "twenty", "twenty one", "twenty two", "twenty three"),
        "twenty four",
    ),
}


def words(text: str, language: str = "de") -> list[str]:
    """Normalised words; small numbers Whisper writes as digits become words of `language`."""
    numbers = NUMBER_WORDS.get(language, NUMBER_WORDS["de"])
    out: list[str] = []
    for word in normalise(text).split():
        if word.isdigit() and int(word) < len(numbers):
            out.extend(normalise(numbers[int(word)]).split())
        else:
            out.append(word)
    return out


def edit_distance(reference: Sequence[str], hypothesis: Sequence[str]) -> int:
    """Levenshtein distance over words (substitutions, insertions, deletions)."""
    previous = list(range(len(hypothesis) + 1))
    for i, ref_word in enumerate(reference, start=1):
        current = [i]
        for j, hyp_word in enumerate(hypothesis, start=1):
            current.append(
                min(
                    previous[j] + 1,  # deletion
                    current[j - 1] + 1,  # insertion
                    previous[j - 1] + (ref_word != hyp_word),  # substitution or match
                )
            )
        previous = current
    return previous[-1]


def words_recognised(reference: str, hypothesis: str, language: str = "de") -> float:
    """Share of the reference words that appear in the transcript (insensitive to loops)."""
    ref, hyp = Counter(words(reference, language)), Counter(words(hypothesis, language))
    total = sum(ref.values())
    return sum((ref & hyp).values()) / total if total else 1.0


def word_error_rate(reference: str, hypothesis: str, language: str = "de") -> float:
    """WER of a transcript against its text, after normalisation (can exceed 1)."""
    ref = words(reference, language)
    if not ref:
        return 0.0 if not words(hypothesis, language) else 1.0
    return edit_distance(ref, words(hypothesis, language)) / len(ref)
