# mypy: disallow-subclassing-any=False
# (rasa_sdk 3.6 ships no py.typed: its Action and FormValidationAction are Any to mypy)
"""Not understood once (nlu_fallback): ask which of the two likeliest topics the caller means.

"Meinen Sie die Öffnungszeiten oder die Gebühren?" The two best intents of the message's
intent ranking that are topics (TOPIC_LABELS; not nlu_fallback, yes/no, greetings, ...) and
have at least MIN_CONFIDENCE. With fewer than two, the bot asks to rephrase as before. The
caller's answer is classified as usual; a second nlu_fallback in a row hands over
(data/rules/fallback.yml). A service named in the unclear message (entity or the caller's
words) is put into the labels and into the slot `service`, so that "die Gebühren" is answered
for it.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from .catalogue import Service
from .kinds import KINDS
from .language import caller_language
from .services import SERVICE_SLOT, resolve_service

CLARIFY = "utter_clarify"
REPHRASE = "utter_ask_rephrase"
# Intents below this confidence are not offered (the ranking always lists every intent).
MIN_CONFIDENCE = 0.05

# Spoken labels: (German, English). "{service}" is filled with the service asked about
# ("die Gebühren für den Reisepass"); without a service the label is used without it.
TOPIC_LABELS: dict[str, tuple[str, str]] = {
    "ask_opening_hours": ("die Öffnungszeiten", "the opening hours"),
    "ask_fee": ("die Gebühren", "the fees"),
    "ask_documents": ("die Unterlagen, die Sie mitbringen müssen", "the documents you need"),
    "ask_processing_time": ("die Bearbeitungsdauer", "how long it takes"),
    "ask_address": ("die Adresse", "the address"),
    "ask_phone": ("die Telefonnummer", "the phone number"),
    "ask_form": ("ein Formular", "a form"),
    "ask_service": ("eine Dienstleistung der Stadt", "a service of the city"),
    "report_lost": ("eine Verlustmeldung", "reporting a loss"),
    "request_human": (
        "ein Gespräch mit einer Mitarbeiterin oder einem Mitarbeiter",
        "talking to a member of staff",
    ),
    # the forms that store a request: their words from the registry (kinds.py)
    **{kind.intent: kind.topic for kind in KINDS.values()},
}
# With a known service: "die Gebühren für den Reisepass" / "the fees for the passport".
SERVICE_LABELS: dict[str, tuple[str, str]] = {
    "ask_opening_hours": ("die Öffnungszeiten für {service}", "the opening hours for {service}"),
    "ask_fee": ("die Gebühren für {service}", "the fees for {service}"),
    "ask_documents": ("die Unterlagen für {service}", "the documents for {service}"),
    "ask_processing_time": ("die Bearbeitungsdauer für {service}", "how long {service} takes"),
    "ask_address": ("die Adresse für {service}", "the address for {service}"),
    "ask_phone": ("die Telefonnummer für {service}", "the phone number for {service}"),
    "ask_form": ("ein Formular für {service}", "a form for {service}"),
    "ask_service": ("{service}", "{service}"),
    "report_lost": ("eine Verlustmeldung", "reporting a loss"),
}
# German accusative article after "für" / as an object: "für den Reisepass".
ACCUSATIVE = {"der": "den", "die": "die", "das": "das"}


def service_phrase(service: Service, language: str) -> str:
    """ "den Reisepass" / "the passport"."""
    if language == "en" and service.name.en:
        return f"the {service.name.en}"
    article = ACCUSATIVE.get(str(service.article), "")
    return f"{article} {service.name.de}".strip()


def alternatives(ranking: list[dict[str, Any]], count: int = 2) -> list[str]:
    """The best `count` topic intents of an intent ranking (best first, no duplicates)."""
    ranked = sorted(ranking, key=lambda item: -float(item.get("confidence") or 0.0))
    chosen: list[str] = []
    for item in ranked:
        name = item.get("name")
        if name in TOPIC_LABELS and name not in chosen:
            if float(item.get("confidence") or 0.0) < MIN_CONFIDENCE:
                break
            chosen.append(name)
        if len(chosen) == count:
            break
    return chosen


def label(intent: str, language: str, service: Service | None = None) -> str:
    """The spoken label of a topic intent, with the service when one is known."""
    index = 1 if language == "en" else 0
    if service is not None and intent in SERVICE_LABELS:
        return SERVICE_LABELS[intent][index].format(service=service_phrase(service, language))
    return TOPIC_LABELS[intent][index]


class ActionClarify(Action):
    """Asks "Meinen Sie ... oder ...?" with the two likeliest topics, else to rephrase."""

    def name(self) -> str:
        """Action name as used in the domain and the rules."""
        return "action_clarify"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[EventType]:
        """utter_clarify with {first} and {second}, or utter_ask_rephrase; sets the slot
        `service` when the unclear message named one."""
        ranking = tracker.latest_message.get("intent_ranking") or []
        chosen = alternatives(ranking)
        if len(chosen) < 2:
            dispatcher.utter_message(response=REPHRASE)
            return []
        language = caller_language(tracker)
        service = resolve_service(tracker, use_context=False)
        first, second = (label(intent, language, service) for intent in chosen)
        if first == second:  # e.g. two intents that both only name the service
            dispatcher.utter_message(response=REPHRASE)
            return []
        dispatcher.utter_message(response=CLARIFY, first=first, second=second)
        return [SlotSet(SERVICE_SLOT, service.id)] if service is not None else []


# Implicit confirmation (issue 17, item 5): an answer to a topic the bot is not quite sure of
# starts by naming the topic ("Es geht also um die Gebühren für den Reisepass."), so a caller
# who meant something else hears it at once. Not sure: the intent's confidence is above the
# FallbackClassifier's threshold (config.yml, 0.5) but below CONFIRM_BELOW, or the gateway's
# ASR confidence (metadata asr_confidence) is below UNSURE_ASR (the band above
# asr.min_confidence where half the words may be wrong, voicebot/pipeline/hearing.py).
CONFIRM_BELOW = 0.75
UNSURE_ASR = 0.45
CONFIRMATION = {"de": "Es geht also um {topic}.", "en": "So this is about {topic}."}


def unsure(tracker: Tracker) -> bool:
    """Whether the latest message's intent or transcript is only middling sure."""
    intent = tracker.latest_message.get("intent") or {}
    confidence = intent.get("confidence")
    if isinstance(confidence, int | float) and confidence < CONFIRM_BELOW:
        return True
    metadata = tracker.latest_message.get("metadata")
    heard = metadata.get("asr_confidence") if isinstance(metadata, dict) else None
    return isinstance(heard, int | float) and heard < UNSURE_ASR


def topic_confirmation(tracker: Tracker, language: str) -> str | None:
    """The sentence that names the topic understood, when the bot is unsure; else None."""
    intent = (tracker.latest_message.get("intent") or {}).get("name")
    if intent not in TOPIC_LABELS or not unsure(tracker):
        return None
    service = resolve_service(tracker)
    if intent == "ask_service" and service is None:
        return None  # "eine Dienstleistung der Stadt" confirms nothing
    topic = label(intent, language, service)
    return CONFIRMATION["en" if language == "en" else "de"].format(topic=topic)
