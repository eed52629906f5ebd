# mypy: disallow-subclassing-any=False
# (rasa_sdk 3.6 ships no py.typed: its Action and FormValidationAction are Any to mypy)
"""Handoff to a person: transfer during the service hours, a callback offer outside them.

A transfer goes to the office that owns the caller's topic (actions/routing.py), and the bot
names it: "Ich verbinde Sie mit dem Standesamt." Without a known office the domain's handoff
response with its default department is said.
"""

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from .routing import handoff_office, handoff_payload, office_with_article, response_language

MODE_SLOT = "handoff_mode"
STATE_SLOT = "service_state"
# Handover sentence (with the payload's reason) by the caller's latest intent; default
# utter_handoff (reason caller_request). A frustrated caller first hears that it is sorry,
# also before a callback offer outside the service hours.
HANDOFF_RESPONSES = {"frustrated": "utter_handoff_frustrated"}
# The same with the office named ({office}: "dem Standesamt"); the payload comes from the action.
OFFICE_RESPONSES = {"frustrated": "utter_handoff_office_frustrated"}
REASONS = {"frustrated": "frustrated"}  # else caller_request
APOLOGIES = {"frustrated": "utter_frustrated_sorry"}


def gateway_metadata(tracker: Tracker) -> dict[str, Any]:
    """The metadata the gateway sent with the latest message ({} when there is none)."""
    metadata = tracker.latest_message.get("metadata") if tracker.latest_message else None
    return metadata if isinstance(metadata, dict) else {}


def agents_available(tracker: Tracker) -> bool:
    """Whether agents take calls now: the gateway's metadata of this message, else the state
    it sent at the call start. Without either (text tests, `rasa shell`) the answer is yes."""
    service_open = gateway_metadata(tracker).get("service_open")
    if isinstance(service_open, bool):
        return service_open
    return bool(tracker.get_slot(STATE_SLOT) != "closed")


class ActionHandOver(Action):
    """Says the handover sentence with the handoff payload, or offers a callback."""

    def name(self) -> str:
        """Action name as used in the domain and the rules."""
        return "action_hand_over"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[EventType]:
        """Transfer (utter_handoff carries the payload) or ask whether to note a callback."""
        intent = (tracker.latest_message.get("intent") or {}).get("name") or ""
        if agents_available(tracker):
            office = handoff_office(tracker)
            if office is None:
                dispatcher.utter_message(response=HANDOFF_RESPONSES.get(intent, "utter_handoff"))
            else:
                dispatcher.utter_message(
                    response=OFFICE_RESPONSES.get(intent, "utter_handoff_office"),
                    office=office_with_article(office, response_language(tracker)),
                    json_message=handoff_payload(office, REASONS.get(intent, "caller_request")),
                )
            return [SlotSet(MODE_SLOT, "transfer")]
        if intent in APOLOGIES:
            dispatcher.utter_message(response=APOLOGIES[intent])
        hours = gateway_metadata(tracker).get("service_hours")
        if isinstance(hours, str) and hours:
            response = "utter_offer_callback_with_hours"
            dispatcher.utter_message(response=response, service_hours=hours)
        else:
            dispatcher.utter_message(response="utter_offer_callback")
        return [SlotSet(MODE_SLOT, "callback_offer")]
