# mypy: disallow-subclassing-any=False
# (rasa_sdk 3.6 ships no py.typed: its Action and FormValidationAction are Any to mypy)
"""DTMF menu: turn a pressed (or spoken) key into a menu choice for the rules."""

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

DIGITS_SLOT = "dtmf_digits"
CHOICE_SLOT = "dtmf_choice"
INVALID_CHOICE = "invalid"
REFERENCE_CHOICE = "reference"  # six keys: a Vorgangsnummer (data/rules/returning.yml)
REFERENCE_SLOT = "returning_reference"

# Key -> value of the categorical slot dtmf_choice (domain/dtmf.yml). A new menu entry
# needs a value here, a value in the slot and a rule in data/rules/dtmf.yml.
MENU: dict[str, str] = {
    "1": "opening_hours",
    "0": "human",
}

# Spoken digits that the synonym mapper did not normalise (e.g. "Eins." from Whisper).
SPOKEN_DIGITS: dict[str, str] = {
    "null": "0",
    "eins": "1",
    "zwei": "2",
    "drei": "3",
    "vier": "4",
    "fünf": "5",
    "sechs": "6",
    "sieben": "7",
    "acht": "8",
    "neun": "9",
    "stern": "*",
    "raute": "#",
}


def normalise_key(value: Any) -> str | None:
    """Return the key as "0".."9", "*" or "#", or None if `value` is no single key."""
    if value is None:
        return None
    key = str(value).strip().strip(".!?,").lower()
    return SPOKEN_DIGITS.get(key, key) or None


def keyed_reference(value: Any) -> bool:
    """Whether the keys are a Vorgangsnummer: six keys 2-9 (actions/returning.py)."""
    keys = str(value or "").strip().rstrip("#")
    return len(keys) == 6 and all(ch in "23456789" for ch in keys)


def menu_choice(value: Any) -> str:
    """Map a pressed key to its menu choice; unknown or missing keys are invalid."""
    key = normalise_key(value)
    return MENU.get(key, INVALID_CHOICE) if key else INVALID_CHOICE


def pressed_key(tracker: Tracker) -> Any:
    """The key from the slot, or from the latest message if the slot was not filled."""
    value = tracker.get_slot(DIGITS_SLOT)
    if value is None:
        value = next(tracker.get_latest_entity_values(DIGITS_SLOT), None)
    return value


class ActionDtmfMenu(Action):
    """Sets dtmf_choice from the pressed key and clears dtmf_digits for the next press."""

    def name(self) -> str:
        """Action name as used in the domain and the rules."""
        return "action_dtmf_menu"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[EventType]:
        """Answers nothing itself: the rules utter the response for the choice."""
        pressed = pressed_key(tracker)
        if keyed_reference(pressed):  # a Vorgangsnummer keyed in: returning_form looks it up
            keyed = [SlotSet(REFERENCE_SLOT, str(pressed).strip().rstrip("#"))]
            return [SlotSet(CHOICE_SLOT, REFERENCE_CHOICE), *keyed, SlotSet(DIGITS_SLOT, None)]
        choice = menu_choice(pressed)
        return [SlotSet(CHOICE_SLOT, choice), SlotSet(DIGITS_SLOT, None)]
