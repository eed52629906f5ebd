# mypy: disallow-subclassing-any=False
# (rasa_sdk 3.6 ships no py.typed: its Action and FormValidationAction are Any to mypy)
"""The way out after a second miss: a keypad menu of the catalogue's offices.

Not understood twice (nlu_fallback or acoustic_miss, data/rules/unsure.yml): instead of
guessing, the bot reads a menu built from the catalogue, one key per office in catalogue order,
with the first of its services as an example ("Für das Bürgerbüro, zum Beispiel Personalausweis,
drücken Sie die Eins."), and the Null for any member of staff. A key (pressed or spoken) hands
the call to that office (action_hand_over reads the slot `office`); another miss hands over
to anyone (utter_handoff_not_understood).
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from .catalogue import Catalogue, CatalogueError, Office
from .dtmf import DIGITS_SLOT, normalise_key, pressed_key
from .language import caller_language
from .routing import OFFICE_SLOT
from .services import catalogue

CHOICE_SLOT = "keypad_choice"  # office | invalid (domain/unsure.yml)
MAX_OFFICES = 8  # keys 1..8; more would be too long to listen to
HUMAN_KEY = "0"
KEY_WORDS = {
    "de": ("Null", "Eins", "Zwei", "Drei", "Vier", "Fünf", "Sechs", "Sieben", "Acht", "Neun"),
    "en": ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"),
}
_ARTICLE_FOR = {"der": "den", "die": "die", "das": "das"}  # "für den ...", accusative


def menu_offices(where: Catalogue) -> list[Office]:
    """The offices on the menu, key 1 first: catalogue order, at most MAX_OFFICES."""
    return list(where.offices.values())[:MAX_OFFICES]


def _example(where: Catalogue, office: Office, language: str) -> str | None:
    """The name of the office's first service, as an example of what it does."""
    for service in where.services.values():
        if service.office == office.id:
            if language == "en":
                return service.name.en or None
            return service.name.de
    return None


def menu_text(where: Catalogue, language: str) -> str:
    """The spoken menu: one sentence per office, then the Null for a person."""
    words = KEY_WORDS["en" if language == "en" else "de"]
    sentences: list[str] = []
    if language == "en":
        sentences.append("You can also use the keypad.")
        for key, office in enumerate(menu_offices(where), start=1):
            name = office.name.en or office.name.de
            example = _example(where, office, "en")
            topic = f"the {name}, for example {example}" if example else f"the {name}"
            sentences.append(f"For {topic}, press {words[key]}.")
        sentences.append(f"For a member of staff, press {words[0]}.")
        return " ".join(sentences)
    sentences.append("Sie können auch die Tasten Ihres Telefons benutzen.")
    for key, office in enumerate(menu_offices(where), start=1):
        article = _ARTICLE_FOR.get(str(office.article), "")
        example = _example(where, office, "de")
        topic = f"{article} {office.name.de}".strip()
        if example:
            topic += f", zum Beispiel {example},"
        sentences.append(f"Für {topic} drücken Sie die {words[key]}.")
    sentences.append(f"Für eine Mitarbeiterin oder einen Mitarbeiter drücken Sie die {words[0]}.")
    return " ".join(sentences)


def office_for_key(where: Catalogue, key: str | None) -> Office | None:
    """The office on `key` ("1".."8"), or None."""
    if key is None or not key.isdigit() or key == HUMAN_KEY:
        return None
    offices = menu_offices(where)
    index = int(key) - 1
    return offices[index] if 0 <= index < len(offices) else None


class ActionOfferKeypad(Action):
    """Reads the keypad menu (second miss); the caller's key goes to action_keypad_choice."""

    def name(self) -> str:
        """Action name as used in the domain and the rules."""
        return "action_offer_keypad"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[EventType]:
        """Says utter_keypad_menu with {menu}; without a catalogue only the Null."""
        language = caller_language(tracker)
        try:
            menu = menu_text(catalogue(), language)
        except CatalogueError:
            menu = KEYPAD_FALLBACK["en" if language == "en" else "de"]
        dispatcher.utter_message(response="utter_keypad_menu", menu=menu)
        return []


KEYPAD_FALLBACK = {
    "de": "Für eine Mitarbeiterin oder einen Mitarbeiter drücken Sie die Null.",
    "en": "For a member of staff, press zero.",
}


class ActionKeypadChoice(Action):
    """The key pressed after the menu: an office (its key) or anyone (the Null) to hand over
    to, else `invalid` (the rules read the menu again)."""

    def name(self) -> str:
        """Action name as used in the domain and the rules."""
        return "action_keypad_choice"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[EventType]:
        """Sets keypad_choice (office | invalid) and the slot `office` for the handoff."""
        key = normalise_key(pressed_key(tracker))
        events: list[EventType] = [SlotSet(DIGITS_SLOT, None)]
        if key == HUMAN_KEY:
            return [*events, SlotSet(OFFICE_SLOT, None), SlotSet(CHOICE_SLOT, "office")]
        try:
            office = office_for_key(catalogue(), key)
        except CatalogueError:
            office = None
        if office is None:
            return [*events, SlotSet(CHOICE_SLOT, "invalid")]
        return [*events, SlotSet(OFFICE_SLOT, office.id), SlotSet(CHOICE_SLOT, "office")]
