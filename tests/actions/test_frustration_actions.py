"""action_hand_over for a frustrated or abusive caller (intent frustrated): the handover
sentence with reason frustrated; outside the service hours an apology, then the callback offer.
Run by the Rasa interpreter: `make test-actions`."""

from __future__ import annotations

from typing import Any

from actions.handoff import ActionHandOver
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet

from tests.actions.helpers import make_tracker, run_action


def tracker(text: str, intent: str, metadata: dict[str, Any] | None = None) -> Tracker:
    return make_tracker(text, intent, metadata=metadata, events=[])


def run(t: Tracker) -> tuple[list[dict[str, Any]], list[Any]]:
    return run_action(ActionHandOver(), t)


def test_handoff_for_a_frustrated_caller() -> None:
    t = tracker("das ist doch mist", "frustrated")
    messages, events = run(t)
    assert [m["response"] for m in messages] == ["utter_handoff_frustrated"]
    assert events == [SlotSet("handoff_mode", "transfer")]


def test_frustrated_caller_outside_the_service_hours_hears_an_apology_first() -> None:
    t = tracker("das ist doch mist", "frustrated", {"service_open": False})
    messages, events = run(t)
    assert [m["response"] for m in messages] == ["utter_frustrated_sorry", "utter_offer_callback"]
    assert events == [SlotSet("handoff_mode", "callback_offer")]
