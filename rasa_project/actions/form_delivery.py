# mypy: disallow-subclassing-any=False
# (rasa_sdk 3.6 ships no py.typed: its Action and FormValidationAction are Any to mypy)
"""The form delivery (form_delivery_form): which form, and how the caller gets it.

`request_form` ("können Sie mir das Formular schicken") starts the form; a plain question
("gibt es dafür ein Formular", intent ask_form) is answered by action_answer_service instead.

1. form_service: the service whose form is meant (entity `service`, the caller's words, or the
   service asked about before; actions/faq.py resolve_service). Only services with a form in
   the catalogue; for others the bot names the forms of the same office.
2. form_delivery: "email" (per E-Mail) or "read_out" (the link, read out now).
3. form_email (only for e-mail): parse_email on the spoken address; the bot says what is wrong
   with an address it cannot use.
4. form_email_confirmed (only for e-mail): the address read back letter by letter; the answer
   goes through the read-back step of form_base.py ("nein" asks the address again, a new
   address said with it is read back).

All slots have custom mappings: the extract_<slot> methods below take the caller's words for the
slot the form asks for (never on `cancel` or `request_human`, so "abbrechen" or "Mitarbeiter
bitte" makes the form reject and the rules take over) and, at activation, what the first
sentence already says.

The words (channels, links, the e-mail) are in form_delivery_text.py. action_submit_form_delivery
stores the request (POST /api/requests, kind form_delivery): with
an e-mail for the gateway's outbox, or (read out) only for the statistics.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from .answers import latest_intent, latest_text
from .form_base import AskReadBack, ReadBack, ReadBackForm, reset_events
from .form_delivery_text import (
    EMAIL,
    READ_OUT,
    delivery_of,
    email_draft,
    form_service,
    forms_of_office,
    join_de,
    say_link,
)
from .kinds import FORM_DELIVERY
from .normalise import email_problem, heard_email, spoken_email
from .requests_client import RequestNotSaved, store_and_confirm, submit_request
from .services import catalogue, resolve_service, service_by_id

log = logging.getLogger(__name__)

FORM = "form_delivery_form"
SERVICE_SLOT = "form_service"
TITLE_SLOT = "form_title"
DELIVERY_SLOT = "form_delivery"
EMAIL_SLOT = "form_email"
CONFIRMED_SLOT = "form_email_confirmed"
RESULT_SLOT = "form_delivery_result"
FORM_SLOTS = (SERVICE_SLOT, TITLE_SLOT, DELIVERY_SLOT, EMAIL_SLOT, CONFIRMED_SLOT)
EMAIL_SLOTS = (EMAIL_SLOT, CONFIRMED_SLOT)
# Intents whose words are never a slot value: the form rejects, the rules answer.
NOT_AN_ANSWER = frozenset({"cancel", "request_human"})
_POST_WORDS = re.compile(r"\bpost\b|\bbrief\b|postweg|per fax|\bfax\b")
_ACCUSATIVE = {"der": "den", "die": "die", "das": "das"}  # "Für den Personalausweis ..."
_DATIVE = {"der": "Beim", "die": "Bei der", "das": "Beim"}  # "Beim Bürgerbüro ..."
# What the caller hears when the words are no usable address (normalise.email_problem).
EMAIL_PROBLEMS = {
    "no_at": "utter_form_email_no_at",
    "two_at": "utter_form_email_two_at",
    "no_name": "utter_form_email_no_name",
    "no_ending": "utter_form_email_no_ending",
    "unclear": "utter_form_email_unclear",
}
READ_BACK = ReadBack(
    confirmed=CONFIRMED_SLOT,
    parts=(EMAIL_SLOT,),
    unclear="utter_form_email_yes_no",
    correct_part="utter_form_email_again",
)


class ActionAskFormEmailConfirmed(AskReadBack):
    """Reads the address back, spelled, and asks whether it is right."""

    read_back = READ_BACK
    summary_response = "utter_form_email_read_back"

    def summary(self, tracker: Tracker) -> dict[str, str] | None:
        """{email}: the address spelled."""
        return {"email": spoken_email(str(tracker.get_slot(EMAIL_SLOT) or ""))}


class ValidateFormDeliveryForm(ReadBackForm):
    """Turns the caller's answers into a service with a form, a channel and an address."""

    read_back = READ_BACK

    def name(self) -> str:
        """The validation action of form_delivery_form."""
        return "validate_form_delivery_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        """The address and its confirmation only for e-mail."""
        if tracker.get_slot(DELIVERY_SLOT) == READ_OUT:
            return [slot for slot in domain_slots if slot not in EMAIL_SLOTS]
        return domain_slots

    @staticmethod
    def _answer(tracker: Tracker, slot: str) -> str | None:
        """The caller's words when the form asked for `slot` (not when they cancel)."""
        if tracker.get_slot("requested_slot") != slot or latest_intent(tracker) in NOT_AN_ANSWER:
            return None
        return latest_text(tracker) or None

    @staticmethod
    def _activating(tracker: Tracker) -> bool:
        """Whether this is the form's first run (the sentence that started it): Rasa marks the
        loop active before it validates at activation, but no slot has been asked for yet."""
        started = tracker.active_loop_name == FORM and tracker.get_slot("requested_slot")
        return not started and latest_intent(tracker) not in NOT_AN_ANSWER

    async def extract_form_service(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """The answer to "Welches Formular?"; at the start, the service already named."""
        if tracker.get_slot(SERVICE_SLOT):
            return {}
        answer = self._answer(tracker, SERVICE_SLOT)
        if answer:
            return {SERVICE_SLOT: answer}
        if self._activating(tracker):
            found = resolve_service(tracker)
            return {SERVICE_SLOT: found.id} if found else {}
        return {}

    async def extract_form_delivery(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """The answer to "per E-Mail oder vorlesen?"; else a channel said in passing."""
        if tracker.get_slot(DELIVERY_SLOT):
            return {}
        answer = self._answer(tracker, DELIVERY_SLOT)
        if answer:
            return {DELIVERY_SLOT: answer}
        passing = self._activating(tracker) or tracker.get_slot("requested_slot") == SERVICE_SLOT
        if passing and latest_intent(tracker) not in NOT_AN_ANSWER:
            channel = delivery_of(latest_text(tracker))
            return {DELIVERY_SLOT: channel} if channel else {}
        return {}

    async def extract_form_email(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """The answer to "Wie lautet Ihre E-Mail-Adresse?"."""
        answer = self._answer(tracker, EMAIL_SLOT)
        return {EMAIL_SLOT: answer} if answer else {}

    async def extract_form_email_confirmed(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """The answer to the read-back (validated by its intent)."""
        answer = self._answer(tracker, CONFIRMED_SLOT)
        return {CONFIRMED_SLOT: answer} if answer else {}

    def validate_form_service(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """A service with a form; else say which forms its office has, or that none was found."""
        service = form_service(slot_value, tracker)
        if service is None:
            dispatcher.utter_message(response="utter_form_service_unknown")
            return {SERVICE_SLOT: None, TITLE_SLOT: None}
        if service.form is None:
            office = catalogue().office_of(service)
            titles = forms_of_office(office)
            if titles:
                dispatcher.utter_message(
                    response="utter_form_service_no_form_others",
                    service=f"{_ACCUSATIVE[service.article]} {service.name.de}",
                    office=f"{_DATIVE[office.article]} {office.name.de}",
                    forms=join_de([f"„{t}“" for t in titles]),
                )
            else:
                dispatcher.utter_message(
                    response="utter_form_service_no_form",
                    service=f"{_ACCUSATIVE[service.article]} {service.name.de}",
                )
            return {SERVICE_SLOT: None, TITLE_SLOT: None}
        return {SERVICE_SLOT: service.id, TITLE_SLOT: service.form.name.de}

    def validate_form_delivery(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """email or read_out; an address said right away is kept as the address."""
        text = str(slot_value or "")
        if text in (EMAIL, READ_OUT):
            return {DELIVERY_SLOT: text}
        channel = delivery_of(text)
        if channel == EMAIL:
            address = heard_email(text)
            return {DELIVERY_SLOT: EMAIL, **({EMAIL_SLOT: address} if address else {})}
        if channel == READ_OUT:
            return {DELIVERY_SLOT: READ_OUT}
        if _POST_WORDS.search(text.lower()):
            dispatcher.utter_message(response="utter_form_delivery_no_post")
        else:
            dispatcher.utter_message(response="utter_form_delivery_invalid")
        return {DELIVERY_SLOT: None}

    def validate_form_email(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """A plausible address (a new one needs a new confirmation); else what is wrong."""
        text = str(slot_value or "")
        address = heard_email(text)
        if address:
            return {EMAIL_SLOT: address, CONFIRMED_SLOT: None}
        dispatcher.utter_message(response=EMAIL_PROBLEMS[email_problem(text)])
        return {EMAIL_SLOT: None, CONFIRMED_SLOT: None}

    def validate_form_email_confirmed(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """ "ja" confirms, "nein" asks for the address again, a new address is read back."""
        return self.confirm(slot_value, dispatcher, tracker)

    def named_parts(self, text: str, tracker: Tracker) -> list[str]:
        """An address said with the answer names the address."""
        return [EMAIL_SLOT] if heard_email(text) else []

    def take_new_value(
        self, part: str, text: str, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> dict[str, Any]:
        """The address said with the answer; the form reads it back again."""
        address = heard_email(text)
        return {EMAIL_SLOT: address} if address else {}


def _reset(tracker: Tracker) -> list[EventType]:
    """Empties the form's slots, so that a second request in the call starts clean."""
    return reset_events(tracker, FORM_SLOTS)


class ActionStartFormEmail(Action):
    """ "Ja" to "Soll ich Ihnen das Formular per E-Mail schicken?": the form delivery starts
    with the form just named and e-mail as the way, so it asks for the address at once."""

    def name(self) -> str:
        """Action name as used in the domain and the rules."""
        return "action_start_form_email"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Only slot events; form_delivery_form follows (and asks for the service if the
        one named has no form after all)."""
        service = service_by_id(tracker.get_slot("service"))
        if service is None or service.form is None:
            return [*_reset(tracker), SlotSet(DELIVERY_SLOT, EMAIL)]
        return [
            *_reset(tracker),
            SlotSet(SERVICE_SLOT, service.id),
            SlotSet(TITLE_SLOT, service.form.name.de),
            SlotSet(DELIVERY_SLOT, EMAIL),
        ]


class ActionResetFormDelivery(Action):
    """After "abbrechen": forget the answers; nothing is stored."""

    def name(self) -> str:
        """Action name as used in the domain and the rules."""
        return "action_reset_form_delivery"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Only slot events; the rule says utter_cancelled."""
        return _reset(tracker)


class ActionSubmitFormDelivery(Action):
    """Sends the e-mail (through the gateway) or reads the link out, and stores the request."""

    def name(self) -> str:
        """Action name as used in the domain and the rules."""
        return "action_submit_form_delivery"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Sets form_delivery_result: done (the rules ask "anything else?") or not_saved (the
        apology with the handoff was said)."""
        service = service_by_id(tracker.get_slot(SERVICE_SLOT))
        if service is None or service.form is None:  # cannot happen after the form
            dispatcher.utter_message(response="utter_form_service_unknown")
            return [*_reset(tracker), SlotSet(RESULT_SLOT, "done")]
        form = service.form
        data: dict[str, Any] = {"service": service.id, "form": form.name.de, "url": form.url}
        address = tracker.get_slot(EMAIL_SLOT)
        if tracker.get_slot(DELIVERY_SLOT) != EMAIL or not address:
            data["delivery"] = READ_OUT
            dispatcher.utter_message(text=say_link(service))
            try:  # for the statistics only: the caller has the link already
                await submit_request(
                    FORM_DELIVERY, tracker, data, f"Formular „{form.name.de}“: Link vorgelesen"
                )
            except RequestNotSaved as exc:
                log.error(
                    "call %s: form delivery (read out) not stored: %s", tracker.sender_id, exc
                )
            return [*_reset(tracker), SlotSet(RESULT_SLOT, "done")]

        data.update(delivery=EMAIL, email=address)
        summary = f"Formular „{form.name.de}“ per E-Mail an {address}"
        saved, events = await store_and_confirm(
            dispatcher, FORM_DELIVERY, tracker, data, summary, email=email_draft(address, service)
        )
        if saved is None:
            return [*events, SlotSet(RESULT_SLOT, "not_saved")]
        if saved.email_state == "not_configured":
            dispatcher.utter_message(response="utter_form_email_not_configured")
            dispatcher.utter_message(text=say_link(service))
        else:
            dispatcher.utter_message(response="utter_form_email_sent", email=spoken_email(address))
        return [*events, *_reset(tracker), SlotSet(RESULT_SLOT, "done")]
