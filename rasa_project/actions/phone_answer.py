# mypy: disallow-subclassing-any=False
# (rasa_sdk 3.6 ships no py.typed: its Action and FormValidationAction are Any to mypy)
"""The callback number in a form (appointment, Sperrmüll, callback): offer the caller's own
number, else take spoken or typed digits.

Each form has a slot for the number, a flag slot "the caller wants another number", and four
responses: offer the own number, ask for the digits, too short ({number}), not understood
(the callback form says the same response for the last two).
The forms name them in full, so that the project test finds every response an action says.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from .answers import keypad_or_text, latest_intent, yes_or_no
from .handoff import gateway_metadata
from .normalise import parse_phone_number

MIN_PHONE_DIGITS = 6  # shorter digit runs are no callable number (local numbers have 6+)
PHONE_NUMBER = re.compile(r"\+?\d{6,15}")


def caller_number(tracker: Tracker) -> str | None:
    """The caller's number as the gateway sent it, if it is a dialable number."""
    caller = str(gateway_metadata(tracker).get("caller") or "").replace(" ", "")
    return caller if PHONE_NUMBER.fullmatch(caller) else None


def spoken_number(number: str) -> str:
    """Digit by digit for the TTS, German numbers in national form: "+49214..." -> "0 2 1 4"."""
    if number.startswith("+49"):
        number = "0" + number[3:]
    return " ".join("plus" if c == "+" else c for c in number)


def validate_phone(
    slot_value: Any,
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    slot: str,
    other_slot: str,
    too_short: str,
    invalid: str,
) -> dict[str, Any]:
    """ "ja" takes the caller's own number, "nein" asks for digits; digits need 6 to 15."""
    own = caller_number(tracker)
    offered = own is not None and not tracker.get_slot(other_slot)
    digits = parse_phone_number(keypad_or_text(slot_value, tracker).replace("#", " "))
    if digits:
        if len(digits.lstrip("+")) < MIN_PHONE_DIGITS:
            dispatcher.utter_message(response=too_short, number=spoken_number(digits))
            return {slot: None, other_slot: True}
        return {slot: digits}
    answer = yes_or_no(str(slot_value or ""), latest_intent(tracker))
    if offered and answer is True:
        return {slot: own}
    if offered and answer is False:
        return {slot: None, other_slot: True}
    dispatcher.utter_message(response=invalid)
    return {slot: None, other_slot: True}


class AskPhone(Action, ABC):
    """Offers the number the caller is calling from, else asks for the digits. Abstract:
    rasa_sdk registers only the subclasses, which name the slot."""

    @property
    @abstractmethod
    def slot(self) -> str:
        """The form's phone slot (a subclass sets it as a class attribute)."""

    other_slot = ""
    offer_own = ""  # response: "... unter der Nummer, von der Sie gerade anrufen?"
    ask_digits = ""  # response: "Unter welcher Telefonnummer ...?"

    def name(self) -> str:
        """Rasa calls action_ask_<slot> instead of utter_ask_<slot> when it exists."""
        return f"action_ask_{self.slot}"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """One question; the form's validation checks the answer."""
        if caller_number(tracker) and not tracker.get_slot(self.other_slot):
            dispatcher.utter_message(response=self.offer_own)
        else:
            dispatcher.utter_message(response=self.ask_digits)
        return []
