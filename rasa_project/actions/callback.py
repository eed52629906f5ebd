# mypy: disallow-subclassing-any=False
# (rasa_sdk 3.6 ships no py.typed: its Action and FormValidationAction are Any to mypy)
"""The callback form (outside the service hours): the number to call back and the topic."""

from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from .phone_answer import AskPhone, spoken_number, validate_phone

NUMBER_SLOT = "callback_number"
OTHER_NUMBER_SLOT = "callback_other_number"
TOPIC_SLOT = "callback_topic"


class ActionAskCallbackNumber(AskPhone):
    """Offers the number the caller is calling from, else asks for the digits."""

    slot = NUMBER_SLOT
    other_slot = OTHER_NUMBER_SLOT
    offer_own = "utter_ask_callback_number_caller"
    ask_digits = "utter_ask_callback_number"


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
        """ "ja" takes the caller's number, "nein" asks for another; digits need 6 to 15."""
        return validate_phone(
            slot_value,
            dispatcher,
            tracker,
            NUMBER_SLOT,
            OTHER_NUMBER_SLOT,
            too_short="utter_callback_number_invalid",
            invalid="utter_callback_number_invalid",
        )

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
