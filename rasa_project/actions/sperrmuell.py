# mypy: disallow-subclassing-any=False
# (rasa_sdk 3.6 ships no py.typed: its Action and FormValidationAction are Any to mypy)
"""The Sperrmüll pick-up application pre-check (sperrmuell_form): its actions.

The bot collects a complete application: address in Leverkusen, the items, a preferred date
at least N working days ahead, name and callback number. It names exactly what is missing or
invalid and asks again. After the caller confirms the read-back summary (form_base.py), the
application is stored for staff (POST /api/requests, kind "sperrmuell"). The bot never
approves or refuses an application; staff check it and send the pick-up date.

The rules and words (lead time, dates, items not taken, summaries) are in sperrmuell_rules.py;
the parsers of addresses and items in normalise/.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from . import clock
from .answers import keypad_or_text
from .form_base import AskReadBack, ReadBack, ReadBackForm, reset_events
from .kinds import SPERRMUELL
from .names import parse_name
from .normalise import (
    house_number_at_start,
    is_leverkusen_postcode,
    parse_address,
    parse_date,
    parse_house_number,
    parse_items,
    parse_postcode,
    speak_digits,
)
from .phone_answer import AskPhone, validate_phone
from .requests_client import store_and_confirm
from .settings import settings
from .sperrmuell_rules import (
    CONFIRMED,
    CORRECTING,
    DATE,
    FLAG_SLOTS,
    HOUSE_NUMBER,
    ITEMS,
    NAME,
    OTHER_NUMBER,
    PHONE,
    POSTCODE,
    STREET,
    VALUE_SLOTS,
    check_date,
    earliest_date,
    is_question,
    not_accepted_reason,
    request_data,
    slots_to_correct,
    speak_date_nominative,
    summary_for_caller,
    summary_for_staff,
)

READ_BACK = ReadBack(
    confirmed=CONFIRMED,
    parts=VALUE_SLOTS,
    unclear="utter_sperrmuell_confirm_yes_or_no",
    correcting=CORRECTING,
    correction_unclear="utter_sperrmuell_correction_unclear",
    correct_part="utter_sperrmuell_correct_part",
    phone=PHONE,
    other_number=OTHER_NUMBER,
)


class ActionAskSperrmuellDate(Action):
    """Asks for the preferred date and says the earliest possible one."""

    def name(self) -> str:
        """Rasa calls action_ask_<slot> instead of utter_ask_<slot> when it exists."""
        return "action_ask_sperrmuell_date"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """One question with the earliest date in words."""
        if tracker.get_slot("requested_slot") == DATE:
            # asked again: the validation has just said the earliest date or what was wrong
            dispatcher.utter_message(response="utter_ask_sperrmuell_date_again")
            return []
        earliest = earliest_date(clock.today(), settings().sperrmuell_lead_days)
        dispatcher.utter_message(
            response="utter_ask_sperrmuell_date", earliest=speak_date_nominative(earliest)
        )
        return []


class ActionAskSperrmuellPhone(AskPhone):
    """Offers the caller's own number, else asks for the digits."""

    slot = PHONE
    other_slot = OTHER_NUMBER
    offer_own = "utter_ask_sperrmuell_phone_caller"
    ask_digits = "utter_ask_sperrmuell_phone"


class ActionAskSperrmuellConfirmed(AskReadBack):
    """Reads the application back and asks whether to pass it on (or what to change)."""

    read_back = READ_BACK
    summary_response = "utter_ask_sperrmuell_confirmed"
    correction_response = "utter_ask_sperrmuell_correction"

    def summary(self, tracker: Tracker) -> dict[str, str] | None:
        """{summary}: address, items, date, name and phone in words."""
        if any(tracker.get_slot(slot) in (None, "") for slot in VALUE_SLOTS):
            return None
        return {"summary": summary_for_caller(tracker)}


class ValidateSperrmuellForm(ReadBackForm):
    """Turns the caller's answers into a complete application, naming what is missing."""

    read_back = READ_BACK

    def name(self) -> str:
        """The validation action of sperrmuell_form."""
        return "validate_sperrmuell_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """A question instead of an answer: say it is answered after the application, and
        ask again; else validate the answer."""
        requested = tracker.get_slot("requested_slot")
        if requested and requested in tracker.slots_to_validate() and is_question(tracker):
            dispatcher.utter_message(response="utter_sperrmuell_question_during_form")
            return [SlotSet(requested, None)]
        events: list[EventType] = await super().run(dispatcher, tracker, domain)
        return events

    def named_parts(self, text: str, tracker: Tracker) -> list[str]:
        """ "die Hausnummer" names the address, "Telefon" the number, "alles" every part."""
        return list(slots_to_correct(text))

    @staticmethod
    def _postcode(code: str | None, dispatcher: CollectingDispatcher) -> str | None:
        if code and not is_leverkusen_postcode(code):
            dispatcher.utter_message(
                response="utter_sperrmuell_postcode_outside",
                postcode=speak_digits(code),
            )
            return None
        return code

    def validate_sperrmuell_street(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """The whole address may come in one answer; what is missing is named and asked."""
        address = parse_address(str(slot_value or ""))
        house = address.house_number or tracker.get_slot(HOUSE_NUMBER)
        postcode = tracker.get_slot(POSTCODE)
        if address.postcode:
            postcode = self._postcode(address.postcode, dispatcher)
        slots = {STREET: address.street, HOUSE_NUMBER: house, POSTCODE: postcode}
        # A postcode outside Leverkusen was named just now; not "missing" as well.
        postcode_said = postcode or address.postcode
        missing = [
            label
            for label, value in (
                ("der Straßenname", address.street),
                ("die Hausnummer", house),
                ("die Postleitzahl", postcode_said),
            )
            if not value
        ]
        if missing:
            said = (
                ", ".join(missing[:-1]) + " und " + missing[-1] if len(missing) > 1 else missing[0]
            )
            dispatcher.utter_message(
                response="utter_sperrmuell_address_missing",
                verb="fehlt" if len(missing) == 1 else "fehlen",
                missing=said,
            )
        return slots

    def validate_sperrmuell_house_number(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """ "zwölf a", "12 b", "Nummer 7"."""
        text = str(slot_value or "")
        house = parse_house_number(text) or house_number_at_start(text)
        if house is None:
            dispatcher.utter_message(response="utter_sperrmuell_house_number_invalid")
        return {HOUSE_NUMBER: house}

    def validate_sperrmuell_postcode(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """Five digits, and one of Leverkusen's postcodes 51371 to 51381."""
        code = parse_postcode(keypad_or_text(slot_value, tracker))
        if code is None:
            dispatcher.utter_message(response="utter_sperrmuell_postcode_invalid")
            return {POSTCODE: None}
        return {POSTCODE: self._postcode(code, dispatcher)}

    def validate_sperrmuell_items(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """A list of items with counts; things that are not Sperrmüll are named and left out."""
        items = parse_items(str(slot_value or ""))
        kept: list[dict[str, Any]] = []
        said: set[str] = set()
        for item in items:
            reason = not_accepted_reason(item["item"])
            if reason is None:
                kept.append(item)
            elif reason not in said:
                said.add(reason)
                dispatcher.utter_message(
                    response="utter_sperrmuell_item_not_accepted",
                    item=item["item"],
                    reason=reason,
                )
        if not kept:
            response = "utter_sperrmuell_items_only_not_accepted" if items else None
            dispatcher.utter_message(response=response or "utter_sperrmuell_items_missing")
            return {ITEMS: None}
        return {ITEMS: kept}

    def validate_sperrmuell_date(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """A date at least N working days ahead, on a working day."""
        day = clock.today()
        date = parse_date(str(slot_value or ""), day)
        if date is None:
            dispatcher.utter_message(response="utter_sperrmuell_date_invalid")
            return {DATE: None}
        ok, message = check_date(date, day, settings().sperrmuell_lead_days)
        if not ok:
            dispatcher.utter_message(response="utter_sperrmuell_date_not_possible", why=message)
            return {DATE: None}
        return {DATE: date.isoformat()}

    def validate_sperrmuell_name(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """Any name of one to six words, no digits."""
        name = parse_name(str(slot_value or ""))
        if name is None:
            dispatcher.utter_message(response="utter_sperrmuell_name_invalid")
        return {NAME: name}

    def validate_sperrmuell_phone(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """ "ja" takes the caller's number, "nein" asks for digits; 6 to 15 digits."""
        return validate_phone(
            slot_value,
            dispatcher,
            tracker,
            PHONE,
            OTHER_NUMBER,
            too_short="utter_sperrmuell_phone_too_short",
            invalid="utter_sperrmuell_phone_invalid",
        )

    def validate_sperrmuell_confirmed(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """ "ja" -> confirmed; "nein" -> what to change; the named part is asked again."""
        return self.confirm(slot_value, dispatcher, tracker)


def _reset(tracker: Tracker) -> list[EventType]:
    """Empties the form's slots, so a second application in the same call starts clean."""
    return reset_events(tracker, (*VALUE_SLOTS, CONFIRMED), FLAG_SLOTS)


class ActionSubmitSperrmuell(Action):
    """Stores the confirmed application for staff; the bot does not decide it."""

    def name(self) -> str:
        """Action name as used in the domain and the rules."""
        return "action_submit_sperrmuell"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """POST /api/requests; on success the caller hears the reference number and that staff
        send the pick-up date. On failure the handoff carries the slots to an agent."""
        data = request_data(tracker)
        saved, events = await store_and_confirm(
            dispatcher, SPERRMUELL, tracker, data, summary_for_staff(data)
        )
        if saved is None:
            return [SlotSet("requested_slot", None)]
        dispatcher.utter_message(response="utter_sperrmuell_submitted")
        return [SlotSet("requested_slot", None), *events, *_reset(tracker)]


class ActionResetSperrmuell(Action):
    """After "abbrechen": forgets the answers (nothing was stored)."""

    def name(self) -> str:
        """Action name as used in the domain and the rules."""
        return "action_reset_sperrmuell"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Silent; the rule says utter_cancelled next."""
        return [SlotSet("requested_slot", None), *_reset(tracker)]
