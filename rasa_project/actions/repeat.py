# mypy: disallow-subclassing-any=False
# (rasa_sdk 3.6 ships no py.typed: its Action and FormValidationAction are Any to mypy)
"""'Wie bitte?' and 'Bitte langsamer': say the bot's last answer again, word for word.

The answer is read from the tracker's events (what the bot said before the caller's latest
message), so nothing is looked up or decided again. Payloads (handoff, hangup) are not
repeated: only the text, and the answer it asked for ({"expect": ...}: the gateway's end-of-turn
silence for an address or a yes/no stays the same).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

SLOWER_INTENT = "speak_slower"
QUESTION_SLOT = "repeated_question"
# The bot's last action -> the question that a yes/no after the repetition answers
# (data/rules/conversation.yml); any other action: "none".
QUESTIONS = {
    "utter_anything_else": "anything_else",
    "utter_bot_challenge": "offer_person",
    "utter_out_of_scope": "offer_person",
}


def _is_speech_notice(event: dict[str, Any]) -> bool:
    """The 'I speak slower' sentence itself is not part of an answer."""
    custom = (event.get("data") or {}).get("custom")
    return isinstance(custom, dict) and "speech" in custom


def _last_turn(events: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The bot events with text between the caller's last two messages (the latest is the
    request to repeat); an earlier turn's when that one said nothing."""
    said: list[dict[str, Any]] = []
    seen_user = False
    for event in reversed(events):
        kind = event.get("event")
        if kind == "user":
            if seen_user and said:
                break
            seen_user = True
        elif kind == "bot" and seen_user and not _is_speech_notice(event):
            text = event.get("text")
            if isinstance(text, str) and text.strip():
                said.append(event)
    return said[::-1]


def last_bot_turn(events: Sequence[dict[str, Any]]) -> list[str]:
    """Texts the bot said between the caller's last two messages (see `_last_turn`)."""
    return [str(event["text"]) for event in _last_turn(events)]


def last_expectation(events: Sequence[dict[str, Any]]) -> str | None:
    """The answer the repeated turn asked for (its last {"expect": ...}), or None."""
    expect = None
    for event in _last_turn(events):
        custom = (event.get("data") or {}).get("custom")
        if isinstance(custom, dict) and isinstance(custom.get("expect"), str):
            expect = custom["expect"]
    return expect


def last_bot_action(events: Sequence[dict[str, Any]]) -> str | None:
    """The bot's last action before the caller's latest message (action_listen not counted)."""
    seen_user = False
    for event in reversed(events):
        if event.get("event") == "user":
            seen_user = True
        elif seen_user and event.get("event") == "action" and event.get("name") != "action_listen":
            name = event.get("name")
            return name if isinstance(name, str) else None
    return None


class ActionRepeatLast(Action):
    """Repeats the bot's last answer; asked to speak slower, first tells the gateway so."""

    def name(self) -> str:
        """Action name as used in the domain and the rules."""
        return "action_repeat_last"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[EventType]:
        """utter_speak_slower carries {"speech": "slower"}; the gateway keeps that pace.
        Sets repeated_question, so that "ja"/"nein" answer the repeated question."""
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if intent == SLOWER_INTENT:
            dispatcher.utter_message(response="utter_speak_slower")
        texts = last_bot_turn(tracker.events)
        if not texts:
            dispatcher.utter_message(response="utter_nothing_to_repeat")
        expect = last_expectation(tracker.events)
        for n, text in enumerate(texts, 1):
            last = n == len(texts) and expect is not None
            dispatcher.utter_message(text=text, json_message={"expect": expect} if last else None)
        question = QUESTIONS.get(last_bot_action(tracker.events) or "", "none")
        return [SlotSet(QUESTION_SLOT, question)]
