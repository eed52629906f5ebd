# mypy: disallow-subclassing-any=False
# (rasa_sdk 3.6 ships no py.typed: its Action and FormValidationAction are Any to mypy)
"""One read-back, confirm and correct algorithm for the forms that store a request
(appointment, Sperrmüll, form delivery).

The last required slot of such a form is its confirmation (`ReadBack.confirmed`). Its question
(`AskReadBack`) reads the collected answers back; `ReadBackForm.confirm` checks the answer:

- "ja" confirms: the slot holds CONFIRMED (True; the domain declares these slots bool or any,
  and the e2e stories expect true).
- A part named ("nein, die Uhrzeit", "die Telefonnummer") is cleared, so the form asks it
  again and then reads back again; a new value said in the same sentence ("die Uhrzeit, um
  drei") is taken at once when the form can check it (`take_new_value`). A form with a single
  part (the e-mail address) takes a plain "nein" as that part.
- "nein" alone: the question becomes "what should I change?" (the `correcting` slot).
- To that question, "ja" or "nichts" reads the summary again; anything else is unclear.
- "Wie bitte?" / "Bitte langsamer": no answer, the read-back is said again.
- Naming the phone number means the offered own number was wrong: the form asks for digits.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from .answers import latest_intent, no_answer, yes_or_no
from .catalogue.match import words

CONFIRMED = True  # the value of every confirmation slot once the caller said "ja"
NOTHING_WORDS = frozenset({"nichts"})  # "nichts" to "Was soll ich ändern?"


@dataclass(frozen=True)
class ReadBack:
    """A form's confirmation step: its slots and the responses it says."""

    confirmed: str  # the confirmation slot (last required slot)
    parts: tuple[str, ...]  # the value slots a caller can name, in form order
    unclear: str  # response: neither yes nor no nor a part
    correcting: str | None = None  # bool slot: "nein" without a part, ask what to change
    correction_unclear: str | None = None  # response: the answer to that names no part
    correct_part: str | None = None  # response said when a named part is to be asked again
    phone: str | None = None  # the phone slot, if any
    other_number: str | None = None  # bool slot: do not offer the caller's own number

    def state(self, confirmed: bool | None, correcting: bool) -> dict[str, Any]:
        """The confirmation slot (and the correcting flag, where the form has one)."""
        result: dict[str, Any] = {self.confirmed: confirmed}
        if self.correcting is not None:
            result[self.correcting] = correcting
        return result


def reset_events(
    tracker: Tracker, slots: Sequence[str], flags: Sequence[str] = ()
) -> list[EventType]:
    """Clears the slots (flags to False) that hold a value, so a second request in the same
    call starts clean. Slots already empty are left alone: a SlotSet right before a form
    starts would make rasa_sdk validate that slot (and complain about its empty value)."""
    events: list[EventType] = []
    for slot in (*slots, *flags):
        empty = False if slot in flags else None
        if tracker.get_slot(slot) not in (None, empty):
            events.append(SlotSet(slot, empty))
    return events


class ReadBackForm(FormValidationAction, ABC):
    """A form validation with the read-back step; subclasses set `read_back`, name the parts
    in a caller's words and may take a new value said with the correction. Abstract, so that
    rasa_sdk registers only the forms (it skips abstract Action classes)."""

    read_back: ClassVar[ReadBack]

    @abstractmethod
    def name(self) -> str:
        """validate_<form>."""

    def named_parts(self, text: str, tracker: Tracker) -> list[str]:
        """The parts the caller names in `text`, in form order ([] for none)."""
        return []

    def take_new_value(
        self, part: str, text: str, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> dict[str, Any]:
        """Slot values for a new value of `part` said in the correction itself ({} for none)."""
        return {}

    def confirm(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> dict[str, Any]:
        """The answer to the read-back: confirmed, a part to ask again, or the question what
        to change (see the module docstring)."""
        spec = self.read_back
        if slot_value is CONFIRMED:
            return {spec.confirmed: CONFIRMED}
        if no_answer(slot_value, dispatcher, tracker):
            return {spec.confirmed: None}
        text = str(slot_value)
        correcting = spec.correcting is not None and bool(tracker.get_slot(spec.correcting))
        answer = yes_or_no(text, latest_intent(tracker))
        if not correcting and answer is True:
            return spec.state(CONFIRMED, correcting=False)
        parts = self.named_parts(text, tracker)
        if not parts and answer is False and len(spec.parts) == 1:
            parts = list(spec.parts)  # "nein" to a single part: that part is wrong
        if parts:
            return self._correct(parts, text, dispatcher, tracker)
        if correcting:
            if answer is True or NOTHING_WORDS & set(words(text)):
                return spec.state(None, correcting=False)  # read the summary again
            if spec.correction_unclear:
                dispatcher.utter_message(response=spec.correction_unclear)
            return spec.state(None, correcting=True)
        if answer is False and spec.correcting is not None:
            return spec.state(None, correcting=True)
        dispatcher.utter_message(response=spec.unclear)
        return {spec.confirmed: None}

    def _correct(
        self, parts: list[str], text: str, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> dict[str, Any]:
        """Clears the named parts; one part may get its new value from the same sentence."""
        spec = self.read_back
        result = spec.state(None, correcting=False) | {slot: None for slot in parts}
        if spec.phone in parts and spec.other_number is not None:
            result[spec.other_number] = True  # the offered number was the wrong one
        if len(parts) == 1:
            result |= self.take_new_value(parts[0], text, dispatcher, tracker)
        if spec.correct_part and any(result.get(part) is None for part in parts):
            dispatcher.utter_message(response=spec.correct_part)
        return result


class AskReadBack(Action, ABC):
    """The confirmation question: the summary, or (after "nein") what to change. Abstract
    (rasa_sdk registers only its subclasses)."""

    read_back: ClassVar[ReadBack]
    summary_response: ClassVar[str]  # the read-back with the summary's variables
    correction_response: ClassVar[str | None] = None  # "Was soll ich ändern?"

    def name(self) -> str:
        """Rasa calls action_ask_<slot> instead of utter_ask_<slot> when it exists."""
        return f"action_ask_{self.read_back.confirmed}"

    @abstractmethod
    def summary(self, tracker: Tracker) -> dict[str, str] | None:
        """The variables of the summary response; None while a part is missing."""

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """One question; ReadBackForm.confirm checks the answer."""
        spec = self.read_back
        correcting = spec.correcting is not None and tracker.get_slot(spec.correcting)
        values = None if correcting else self.summary(tracker)
        if values is None and self.correction_response:
            dispatcher.utter_message(response=self.correction_response)
        else:
            dispatcher.utter_message(response=self.summary_response, **(values or {}))
        return []
