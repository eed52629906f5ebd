"""The callback form (outside the service hours): the number to call back and the topic."""

import re
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from .handoff import gateway_metadata
from .normalise import parse_phone_number

NUMBER_SLOT = "callback_number"
OTHER_NUMBER_SLOT = "callback_other_number"
TOPIC_SLOT = "callback_topic"
PHONE_NUMBER = re.compile(r"\+?\d{6,15}")


def caller_number(tracker: Tracker) -> str | None:
    """The caller's number as the gateway sent it, if it is a dialable number."""
    caller = str(gateway_metadata(tracker).get("caller") or "").replace(" ", "")
    return caller if PHONE_NUMBER.fullmatch(caller) else None


def phone_number(text: str) -> str | None:
    """A phone number from the caller's words ("null zwei eins vier ...", "0214 123", "meine
    Nummer ist ..."): the longest digit run, if it has 6 to 15 digits."""
    digits = parse_phone_number(text.replace("#", " "))
    return digits if digits and PHONE_NUMBER.fullmatch(digits) else None


def spoken_number(number: str) -> str:
    """Digit by digit for the TTS, German numbers in national form: "+49214..." -> "0 2 1 4"."""
    if number.startswith("+49"):
        number = "0" + number[3:]
    return " ".join("plus" if c == "+" else c for c in number)


def latest_intent(tracker: Tracker) -> str | None:
    """The intent NLU gave the latest message."""
    intent = tracker.latest_message.get("intent") or {}
    name = intent.get("name") if isinstance(intent, dict) else None
    return str(name) if name else None


class ActionAskCallbackNumber(Action):
    """Offers the number the caller is calling from, else asks for the digits."""

    def name(self) -> str:
        """Rasa calls action_ask_<slot> instead of utter_ask_<slot> when it exists."""
        return "action_ask_callback_number"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """One question; the answer is checked by validate_callback_form."""
        if caller_number(tracker) and not tracker.get_slot(OTHER_NUMBER_SLOT):
            dispatcher.utter_message(response="utter_ask_callback_number_caller")
        else:
            dispatcher.utter_message(response="utter_ask_callback_number")
        return []


class ValidateCallbackForm(FormValidationAction):
    """Turns the caller's answers into a dialable number and a topic."""

    def name(self) -> str:
        """The validation action of callback_form."""
        return "validate_callback_form"

    def validate_callback_number(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """ "ja" takes the caller's number, "nein" asks for another, digits are checked."""
        own = caller_number(tracker)
        offered = own is not None and not tracker.get_slot(OTHER_NUMBER_SLOT)
        intent = latest_intent(tracker)
        if str(slot_value or "").startswith("/dtmf"):  # keypad digits from the gateway
            slot_value = next(tracker.get_latest_entity_values("dtmf_digits"), None)
        number = phone_number(str(slot_value or ""))
        if number:
            return {NUMBER_SLOT: number}
        if offered and intent == "affirm":
            return {NUMBER_SLOT: own}
        if offered and intent == "deny":
            return {NUMBER_SLOT: None, OTHER_NUMBER_SLOT: True}
        dispatcher.utter_message(response="utter_callback_number_invalid")
        return {NUMBER_SLOT: None, OTHER_NUMBER_SLOT: True}

    def validate_callback_topic(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """Any words: the agent reads them before calling back."""
        topic = " ".join(str(slot_value or "").split())
        return {TOPIC_SLOT: topic or None}


class ActionSubmitCallback(Action):
    """Confirms the number; the payload makes the gateway store the callback request."""

    def name(self) -> str:
        """Action name as used in the domain and the rules."""
        return "action_submit_callback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """The gateway reads number and topic from the tracker when it stores the request."""
        number = str(tracker.get_slot(NUMBER_SLOT) or "")
        dispatcher.utter_message(response="utter_callback_confirm", number=spoken_number(number))
        return [SlotSet("requested_slot", None)]
