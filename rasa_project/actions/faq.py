# mypy: disallow-subclassing-any=False
# (rasa_sdk 3.6 ships no py.typed: its Action and FormValidationAction are Any to mypy)
"""Questions about the city's services, answered from the service catalogue.

The intent says what the caller asks (fee, documents, opening hours, ...); the service comes
from the entity `service`, else from the caller's words (Catalogue.find), else from the slot
`service` of an earlier question ("Was kostet das?" after a question about the Reisepass).
Without a service the bot asks which one (faq_result: unknown) instead of guessing.

Language (actions/language.py): a question clearly in English or German is answered in that
language, anything else in the caller's language (slot `language`, else the gateway's
metadata). A change of language sets the slot and sends the payload {"language": ...}.

The catalogue is loaded on the first question (actions/services.py), not at import.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from .catalogue import (
    Office,
    Service,
    say_address,
    say_documents,
    say_fee,
    say_form,
    say_notes,
    say_opening_hours,
    say_phone,
    say_processing_time,
    say_summary,
)
from .clarify import topic_confirmation
from .language import answer_language, language_events
from .routing import OFFICE_SLOT
from .services import SERVICE_SLOT, catalogue, named_office, resolve_service

DEFAULT_OFFICE = "buergerbuero"  # opening hours when the caller names no office or service
QUESTION_SLOT = "faq_question"
RESULT_SLOT = "faq_result"
ASK_WHICH_SERVICE = "utter_ask_which_service"
# Said when the catalogue has no processing time; one response per language, because Rasa
# picks a response variant before this action's change of the slot `language` applies.
UNKNOWN_PROCESSING_TIME = {
    "de": "utter_processing_time_unknown",
    "en": "utter_processing_time_unknown_en",
}

# Intent -> question type. inform_service ("den Reisepass") answers the question asked before.
QUESTIONS: dict[str, str] = {
    "ask_service": "service",
    "ask_documents": "documents",
    "ask_fee": "fee",
    "ask_processing_time": "processing_time",
    "ask_address": "address",
    "ask_phone": "phone",
    "ask_form": "form",
    "report_lost": "lost",
    "ask_opening_hours": "opening_hours",
    "dtmf": "opening_hours",  # DTMF 1 (data/rules/dtmf.yml)
}
# Questions about an office: answered when the caller names the office, without a service.
OFFICE_QUESTIONS = frozenset({"opening_hours", "address", "phone"})
# "Ausweis verloren" may be heard as the Ausweis itself: a loss report means the loss service.
LOST_SERVICE = {"personalausweis": "ausweis_verlust", "reisepass": "ausweis_verlust"}
LOST_DEFAULT = "fundbuero"  # lost or left somewhere, no service named: the lost property office


def previous_bot_action(tracker: Tracker) -> str | None:
    """The last action before the caller's latest message (action_listen not counted)."""
    seen_user = False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            seen_user = True
        elif seen_user and event.get("event") == "action":
            name = event.get("name")
            if name != "action_listen":
                return name if isinstance(name, str) else None
    return None


def question_of(tracker: Tracker) -> str:
    """The question type of the latest message; the stored question when the caller just
    named the service asked for by utter_ask_which_service."""
    intent = (tracker.latest_message.get("intent") or {}).get("name")
    stored = tracker.get_slot(QUESTION_SLOT)
    after_ask = previous_bot_action(tracker) == ASK_WHICH_SERVICE
    if isinstance(stored, str) and (
        intent == "inform_service" or (after_ask and intent == "ask_service")
    ):
        return stored
    return QUESTIONS.get(intent or "", "service")


def answer(question: str, service: Service, language: str = "de") -> str | None:
    """The spoken answer about a service; None when the catalogue does not know it."""
    office = catalogue().office_of(service)
    if question == "documents":
        return say_documents(service, language)
    if question == "fee":
        return say_fee(service, language)
    if question == "processing_time":
        return say_processing_time(service, language)
    if question == "address":
        return say_address(office, language)
    if question == "phone":
        return say_phone(office, language)
    if question == "form":
        return say_form(service, language)
    if question == "opening_hours":
        return say_opening_hours(office, language)
    # service, lost: the short answer and the notes (pick-up, deadlines)
    notes = say_notes(service, language)
    return f"{say_summary(service, language)} {notes}".strip()


def answer_office(question: str, office: Office, language: str = "de") -> str:
    """Opening hours, address or phone number of an office."""
    if question == "address":
        return say_address(office, language)
    if question == "phone":
        return say_phone(office, language)
    return say_opening_hours(office, language)


class ActionAnswerService(Action):
    """Answers a question about a service (or an office) from the catalogue."""

    def name(self) -> str:
        """Action name as used in the domain and the rules."""
        return "action_answer_service"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[EventType]:
        """Says the answer and sets faq_result: answered (form_named when it named a form the
        bot can e-mail); or unknown when no service is known (the rules then ask which
        service; the question is kept in faq_question)."""
        question = question_of(tracker)
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        text = tracker.latest_message.get("text") or ""
        events: list[EventType] = [SlotSet(QUESTION_SLOT, question)]
        language = answer_language(tracker)
        payload, switched = language_events(tracker, language)
        confirmation = topic_confirmation(tracker, language)  # unsure: name the topic first
        if confirmation is not None:
            dispatcher.utter_message(text=confirmation)

        def say(spoken: str) -> None:
            dispatcher.utter_message(text=spoken, json_message=payload or None)

        office = named_office(text) if question in OFFICE_QUESTIONS else None
        if office is not None:
            say(answer_office(question, office, language))
            answered = [SlotSet(OFFICE_SLOT, office.id), SlotSet(RESULT_SLOT, "answered")]
            return [*events, *answered, *switched]

        # DTMF 1 and "inform_service" refer to this message only, not to earlier topics
        service = resolve_service(tracker, use_context=intent not in ("dtmf", "inform_service"))
        if service is not None and question == "lost":
            lost = LOST_SERVICE.get(service.id, service.id)
            service = catalogue().services.get(lost, service)
        if service is None and question == "lost":  # "meine Tasche im Bus vergessen"
            service = catalogue().services.get(LOST_DEFAULT)
        if service is None:
            if question == "opening_hours":
                office = catalogue().office(DEFAULT_OFFICE)
                say(say_opening_hours(office, language))
                return [*events, SlotSet(RESULT_SLOT, "answered"), *switched]
            # utter_ask_which_service follows (English variant by the slot): switch already
            if payload:
                dispatcher.utter_message(json_message=payload)
            return [*events, SlotSet(RESULT_SLOT, "unknown"), *switched]

        if not service.has_english:
            language = "de"  # the catalogue has this service in German only
            payload, switched = language_events(tracker, language)
        spoken = answer(question, service, language)
        if spoken is None:  # no processing time in the catalogue: no guess, the number
            phone = say_phone(catalogue().office_of(service), language)
            dispatcher.utter_message(
                response=UNKNOWN_PROCESSING_TIME[language],
                phone=phone,
                json_message=payload or None,
            )
        else:
            say(spoken)
        # a named form is offered by e-mail (the form delivery speaks German only)
        offer = question == "form" and service.form is not None and language == "de"
        result = "form_named" if offer else "answered"
        owner = catalogue().office_of(service).id  # a handoff now goes there (routing.py)
        answered = [
            SlotSet(SERVICE_SLOT, service.id),
            SlotSet(OFFICE_SLOT, owner),
            SlotSet(RESULT_SLOT, result),
        ]
        return [*events, *answered, *switched]
