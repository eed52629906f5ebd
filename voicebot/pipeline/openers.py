"""Openers: a greeting or "Ich hätte eine Frage" that the caller says before the question.

People on the phone often greet, pause, and then ask: "Guten Tag. [pause] Was kostet ein
Anwohnerparkausweis?" The pause (half a second and more) ends the turn, and a bot that answered the
greeting at once would talk over the question that follows. So an utterance that is only an
opener is held for a moment (`vad.opener_hold_ms`): if the caller goes on, the two are one turn
and Rasa gets them as one message; if not, the greeting is answered on its own.

Pure functions, no I/O. An opener is a short utterance made only of greeting words, fillers and
"I have a question" words, with at least one greeting or question word in it ("Ja." alone is an
answer, not an opener).
"""

from __future__ import annotations

import re

# words that may make up an opener (lower case; German and English)
_OPENER_WORDS = frozenset(
    """
    guten gute schönen schoenen tag morgen abend hallo hallöchen halloechen grüß gruess grüss
    grüße gruß gott dich euch moin servus tach na
    hi hey hello good morning afternoon evening there
    ja jo äh ähm aehm öhm hm hmm also so genau ok okay
    ich hätte haette habe hab hätt da mal eine ne kurze kleine frage fragen
    i have a quick question yes well um uh oh
    """.split()  # noqa: SIM905 - a word list reads better as text
)
# at least one of these: it greets or announces a question
_CORE_WORDS = frozenset(
    """
    tag morgen abend hallo hallöchen halloechen gott moin servus tach
    hi hey hello morning afternoon evening frage question
    """.split()  # noqa: SIM905
)
MAX_OPENER_WORDS = 8


def words_of(text: str) -> list[str]:
    """The words of a transcript, lower case, without punctuation."""
    return re.findall(r"[^\W\d_]+", text.lower())


def is_opener(text: str) -> bool:
    """Whether a transcript is only a greeting or an announced question, not the question."""
    words = words_of(text)
    if not words or len(words) > MAX_OPENER_WORDS:
        return False
    return all(w in _OPENER_WORDS for w in words) and any(w in _CORE_WORDS for w in words)


def joined(opener: str, rest: str) -> str:
    """The opener and what followed it, as one message ("Guten Tag. Wie teuer ...")."""
    opener, rest = opener.strip(), rest.strip()
    if not rest:
        return opener
    if opener and opener[-1] not in ".!?,;:":
        opener += "."
    return f"{opener} {rest}".strip()
