"""Whether the bot heard the caller well enough to answer: the low-confidence policy.

Whisper always writes something. On a bad line, a mumble or noise it writes words nobody said,
with a low mean token probability, or loops on one word ("Metall, Metall, Metall, ..."). Such a
transcript must never reach the dialogue as if it were a question: the bot would answer a
guess. Instead the dialogue tells Rasa that the caller was not understood acoustically (the
intent `acoustic_miss`), and Rasa says "Ich habe Sie akustisch nicht gut verstanden" and asks
again; the second miss in a row offers the keypad menu, the next one a person
(rasa_project/data/rules/unsure.yml).

Pure functions, no I/O: tested in tests/unit/test_hearing.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# The message the dialogue sends Rasa for a turn it did not hear well (an intent, not words).
ACOUSTIC_MISS = "/acoustic_miss"
# exp(mean token log-probability) below which a transcript is a guess (setting
# asr.min_confidence). Measured with the gateway's path (u-law, Silero VAD cut in several onset
# phases, Whisper base with hot words) on the tuning clips (espeak-ng, the harsh case): below
# 0.1 it is word salad with no question left in it ("Er ist der Einzelbewegung der Erste");
# from 0.1 to 0.45 many words are wrong but the topic often survives ("Sie will in die
# Verflugteiten" at 0.18 is still the opening hours), and the bot names the topic it
# understood before answering (Rasa's implicit confirmation, actions/clarify.py, reads
# `asr_confidence`). A human-sounding voice (Pico) stays above 0.35.
DEFAULT_MIN_CONFIDENCE = 0.1
LOOP_REPEATS = 3  # the same word or phrase three times in a row
LOOP_SHARE = 0.6  # ... making up most of the transcript
_MAX_PHRASE = 3  # words in a repeated phrase ("nicht wahr nicht wahr nicht wahr")
_WORD = re.compile(r"[\wäöüß]+", re.IGNORECASE)


@dataclass(frozen=True)
class Hearing:
    """The verdict on one transcript: `reason` is None when it may be answered."""

    reason: str | None  # "low_confidence" | "loop" | None

    @property
    def understood(self) -> bool:
        """Whether the transcript may go to the dialogue as the caller's words."""
        return self.reason is None


def _longest_run(words: list[str], size: int) -> int:
    """The most words covered by one phrase of `size` words repeated back to back."""
    best = 0
    for start in range(len(words) - size + 1):
        phrase = words[start : start + size]
        repeats = 1
        at = start + size
        while words[at : at + size] == phrase:
            repeats += 1
            at += size
        if repeats >= LOOP_REPEATS:
            best = max(best, repeats * size)
    return best


def looping(text: str) -> bool:
    """Whether Whisper looped: one word or short phrase three or more times in a row, making
    up most of the transcript ("Metall, Metall, Metall, Metall"). "Nein, nein, nein, ich
    brauche einen Pass" is a caller, not a loop: the repetition is under LOOP_SHARE."""
    words = [w.lower() for w in _WORD.findall(text)]
    if len(words) < LOOP_REPEATS:
        return False
    covered = max(_longest_run(words, size) for size in range(1, _MAX_PHRASE + 1))
    return covered >= LOOP_REPEATS and covered >= LOOP_SHARE * len(words)


def judge(text: str, confidence: float, min_confidence: float = DEFAULT_MIN_CONFIDENCE) -> Hearing:
    """Whether a (non-empty) transcript is heard well enough to be answered."""
    if looping(text):
        return Hearing("loop")
    if confidence < min_confidence:
        return Hearing("low_confidence")
    return Hearing(None)
