# mypy: disallow-subclassing-any=False
# (rasa_sdk 3.6 ships no py.typed: its Action and FormValidationAction are Any to mypy)
"""Returning callers: "Ich habe schon eine Vorgangsnummer" -> the status of that request.

Flow (domain/returning.yml, data/rules/returning.yml): `returning_form` asks for the
Vorgangsnummer, spoken ("Ka sieben Em vier zwo Ix", "K wie Köln ...") or keyed in (letters as
the key they are printed on). The validation asks the gateway (POST /api/lookup, the action
server's token) with the calling number:

- verified (the number is the stored one): the form ends, the status is told;
- need_detail (another number, or a number the gateway does not know: the answer is the same):
  the form asks for the postcode of the address the caller gave; a wrong one is "mismatch",
  asked again until the gateway locks the number (three wrong postcodes);
- locked, unreadable three times, or the gateway unreachable: nothing is told; the bot offers
  a person.

A caller without the number ("Ich habe keine Nummer", "weiß ich nicht") is asked whether the
bot may search by their calling number; "ja" (remembered in `returning_consent` for this call
only) lists the newest requests stored with that number; "nein" searches nothing.

Nothing about the request (not even whether it exists) is said before the check passed.
`action_returning_status` says the result and clears the slots, so a second number can be
asked for in the same call.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp
from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from .answers import keypad_or_text, latest_intent
from .handoff import gateway_metadata
from .normalise import parse_postcode, parse_spelled
from .normalise.addresses import speak_digits
from .settings import Settings, settings

log = logging.getLogger(__name__)

REFERENCE = "returning_reference"
POSTCODE = "returning_postcode"
RESULT = "returning_result"
TRIES = "returning_tries"
OUTCOME = "returning_outcome"  # told | not_told | consent_asked (data/rules/returning.yml)
CONSENT = "returning_consent"  # the caller agreed to the search by their number (this call)
NOT_NEEDED = "-"  # the postcode slot's value when no postcode is asked
MAX_UNREADABLE = 3
ALPHABET = "23456789BCDFGHJKMNPQRSTVWXZ"  # voicebot/store/ids.py
LENGTH = 6
# Words around a spoken number ("meine Vorgangsnummer ist ..."): dropped before parsing.
FILLERS = frozenset(
    {"meine", "mein", "die", "der", "das", "ist", "lautet", "also", "ja", "bitte", "ich"}
    | {"habe", "hab", "vorgangsnummer", "nummer", "referenznummer", "vorgang"}
)
STATUS_RESPONSES = {
    "received": "utter_returning_status_received",
    "in_progress": "utter_returning_status_in_progress",
    "done": "utter_returning_status_done",
}

# Nothing told: why, and the offer of a person (a "ja" hands over: data/rules/returning.yml).
REFUSALS = {
    "locked": "utter_returning_locked",
    "unreadable": "utter_returning_unreadable",
    "unavailable": "utter_returning_unavailable",
}


NO_NUMBER_WORDS = frozenset({"keine", "nicht", "weiss", "vergessen", "verloren", "don't", "no"})


def has_no_number(text: str, tracker: Tracker) -> bool:
    """ "Ich habe keine Nummer", "weiß ich nicht", "nein": the caller cannot give one."""
    intent = (tracker.latest_message.get("intent") or {}).get("name")
    said = {w.strip(".,!?").replace("ß", "ss") for w in text.lower().split()}
    return intent == "deny" or bool(said & NO_NUMBER_WORDS)


def spoken_reference(text: str) -> str | None:
    """A Vorgangsnummer from what the caller said or keyed: "K7M42X", "Ka sieben Em vier zwo
    Ix", "K wie Köln, 7, ..." -> "K7M42X"; six keys ("576429") as they are; else None."""
    kept = " ".join(w for w in text.replace(",", " ").split() if w.lower() not in FILLERS)
    spelled = parse_spelled(kept) if kept else None
    if spelled is None:
        return None
    reference = "".join(ch for ch in spelled.upper() if not ch.isspace() and ch not in "-.")
    if len(reference) != LENGTH or any(ch not in ALPHABET for ch in reference):
        return None
    return reference


def reference_in(text: str) -> str | None:
    """The number at the end of a sentence ("es geht um die Vorgangsnummer K7M42X"): the
    longest tail of the words that reads as one, else None."""
    said = text.replace(",", " ").split()
    for start in range(max(0, len(said) - 12), len(said)):
        found = spoken_reference(" ".join(said[start:]))
        if found is not None:
            return found
    return None


async def lookup(
    tracker: Tracker,
    reference: str | None,
    postcode: str | None = None,
    config: Settings | None = None,
) -> dict[str, Any]:
    """The gateway's answer to POST /api/lookup (reference None: the search by the calling
    number, after the caller's consent); {"result": "unavailable"} when it fails."""
    config = config or settings()
    base = config.gateway_url.rstrip("/")
    if not base:
        return {"result": "unavailable"}
    body: dict[str, Any] = {"call_id": tracker.sender_id[:64]}
    body.update({"reference": reference} if reference is not None else {"by_caller": True})
    caller = gateway_metadata(tracker).get("caller")
    if isinstance(caller, str) and caller.strip():
        body["caller"] = caller.strip()[:64]
    if postcode is not None:
        body["postcode"] = postcode
    headers = {"Authorization": f"Bearer {config.api_token}"} if config.api_token else {}
    try:
        limit = aiohttp.ClientTimeout(total=config.request_timeout_s)
        async with (
            aiohttp.ClientSession(timeout=limit) as http,
            http.post(f"{base}/api/lookup", json=body, headers=headers) as resp,
        ):
            answer = await resp.json(content_type=None)
            if resp.status != 200 or not isinstance(answer, dict):
                raise ValueError(f"gateway answered {resp.status}: {answer!r}")
            return answer
    except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
        log.error("call %s: lookup failed: %r", tracker.sender_id, exc)
        return {"result": "unavailable"}


def _done(result: dict[str, Any]) -> dict[str, Any]:
    """Ends the form with `result` (nothing more to ask)."""
    return {RESULT: result, POSTCODE: NOT_NEEDED}


class ValidateReturningForm(FormValidationAction):
    """Reads the number, asks the gateway, and asks for the postcode when the check needs it."""

    def name(self) -> str:
        """The validation action of returning_form."""
        return "validate_returning_form"

    async def validate_returning_reference(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """A readable number is looked up; an unreadable one is asked again (three times)."""
        if slot_value is None:
            return {}
        text = keypad_or_text(slot_value, tracker)
        reference = spoken_reference(text) or reference_in(text)
        if reference is None and has_no_number(text, tracker):
            return {REFERENCE: "-", TRIES: 0, **_done({"result": "no_number"})}
        if reference is None and latest_intent(tracker) == "returning_caller":
            return {REFERENCE: None}  # "Ich habe eine Vorgangsnummer": the form asks for it
        if reference is None:
            tries = int(tracker.get_slot(TRIES) or 0) + 1
            if tries >= MAX_UNREADABLE:
                return {REFERENCE: "-", TRIES: 0, **_done({"result": "unreadable"})}
            dispatcher.utter_message(response="utter_returning_reference_unclear")
            return {REFERENCE: None, TRIES: tries}
        answer = await lookup(tracker, reference)
        if answer.get("result") == "need_detail":
            return {REFERENCE: reference, TRIES: 0}
        return {REFERENCE: reference, TRIES: 0, **_done(answer)}

    async def validate_returning_postcode(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """The postcode goes to the gateway; a wrong one is asked again until it locks."""
        if slot_value is None or slot_value == NOT_NEEDED:
            return {}
        code = parse_postcode(keypad_or_text(slot_value, tracker))
        if code is None:
            dispatcher.utter_message(response="utter_returning_postcode_unclear")
            return {POSTCODE: None}
        answer = await lookup(tracker, str(tracker.get_slot(REFERENCE)), code)
        if answer.get("result") == "mismatch":
            dispatcher.utter_message(
                response="utter_returning_mismatch", postcode=speak_digits(code)
            )
            return {POSTCODE: None}
        return _done(answer)


def say_status(dispatcher: CollectingDispatcher, result: dict[str, Any]) -> None:
    """The status of one verified request, with the note marked for the caller."""
    response = STATUS_RESPONSES.get(str(result.get("status")), STATUS_RESPONSES["received"])
    dispatcher.utter_message(
        response=response,
        label=str(result.get("label") or "Anfrage"),
        reference=str(result.get("id_spoken") or ""),
    )
    if result.get("note"):
        dispatcher.utter_message(response="utter_returning_note", note=result["note"])


async def tell_by_number(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
    """With the caller's consent: the requests stored with the calling number, told."""
    answer = await lookup(tracker, None)
    found = answer.get("requests") if answer.get("result") == "found" else None
    if found is None:
        dispatcher.utter_message(response=REFUSALS["unavailable"])
        return [SlotSet(CONSENT, True), SlotSet(OUTCOME, "not_told")]
    if not found:
        dispatcher.utter_message(response="utter_returning_none_found")
    for result in found:
        if isinstance(result, dict):
            say_status(dispatcher, result)
    dispatcher.utter_message(response="utter_anything_else")
    return [SlotSet(CONSENT, True), SlotSet(OUTCOME, "told")]


class ActionReturningByNumber(Action):
    """The caller said yes to the search by their number: remembered for this call only
    (the slot returning_consent; a new call is a new conversation), and the search done."""

    def name(self) -> str:
        """Action name as used in the domain and the rules."""
        return "action_returning_by_number"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[EventType]:
        """The statuses found (or that none were found), then "anything else?"."""
        return await tell_by_number(dispatcher, tracker)


class ActionReturningStatus(Action):
    """Says what the check allows: the status (with the note for the caller), or nothing and
    the offer of a person. Clears the form's slots."""

    def name(self) -> str:
        """Action name as used in the domain and the rules."""
        return "action_returning_status"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[EventType]:
        """utter_returning_status_* with label and spoken number, or a refusal."""
        cleared = [SlotSet(REFERENCE, None), SlotSet(POSTCODE, None), SlotSet(RESULT, None)]
        result = tracker.get_slot(RESULT)
        result = result if isinstance(result, dict) else {"result": "unavailable"}
        outcome = result.get("result")
        response = STATUS_RESPONSES.get(str(result.get("status")))
        if outcome == "verified" and response is not None:
            say_status(dispatcher, result)
            dispatcher.utter_message(response="utter_anything_else")
            told = "told"
        elif outcome == "no_number" and tracker.get_slot(CONSENT) is True:
            return [*cleared, *await tell_by_number(dispatcher, tracker)]
        elif outcome == "no_number":
            dispatcher.utter_message(response="utter_returning_ask_consent")
            told = "consent_asked"
        else:
            dispatcher.utter_message(response=REFUSALS.get(str(outcome), REFUSALS["unavailable"]))
            told = "not_told"
        return [*cleared, SlotSet(OUTCOME, told)]
