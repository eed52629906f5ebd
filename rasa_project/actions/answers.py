"""The caller's latest answer as the forms read it: intent, words, yes or no, keypad digits."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from .catalogue.match import words

_YES = frozenset({"ja", "richtig", "genau", "korrekt", "stimmt", "passt", "jawohl", "yes"})
_NO = frozenset({"nein", "falsch", "nicht", "no", "korrigieren", "andern", "fehler"})
# "Wie bitte?" and "Bitte langsamer" inside a form: no answer, the form asks again.
NO_ANSWER_INTENTS = frozenset({"repeat", "speak_slower"})


def latest_intent(tracker: Tracker) -> str | None:
    """The intent NLU gave the latest message."""
    intent = tracker.latest_message.get("intent") or {}
    name = intent.get("name") if isinstance(intent, dict) else None
    return str(name) if name else None


def latest_text(tracker: Tracker) -> str:
    """The caller's latest words, whitespace collapsed."""
    return " ".join(str(tracker.latest_message.get("text") or "").split())


def yes_or_no(text: str, intent: str | None) -> bool | None:
    """True for yes, False for no ("stimmt nicht" is no), None when neither."""
    said = set(words(text))
    if intent == "deny" or said & _NO:
        return False
    if intent == "affirm" or said & _YES:
        return True
    return None


def keypad_or_text(slot_value: Any, tracker: Tracker) -> str:
    """The caller's answer; keypad digits arrive as '/dtmf{"dtmf_digits": "..."}'."""
    text = str(slot_value or "")
    if text.startswith("/dtmf"):
        text = str(next(tracker.get_latest_entity_values("dtmf_digits"), None) or "")
    return text


def no_answer(slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker) -> bool:
    """Nothing to check: an empty value (a slot cleared by an action), or "Wie bitte?" /
    "Bitte langsamer" inside the form. The form then asks its question again (for
    "langsamer" after the sentence that slows the voice down)."""
    if slot_value is None:
        return True
    intent = latest_intent(tracker)
    if intent == "speak_slower":
        dispatcher.utter_message(response="utter_speak_slower")
    return intent in NO_ANSWER_INTENTS
