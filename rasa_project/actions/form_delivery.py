"""The form delivery (form_delivery_form): which form, and how the caller gets it.

`request_form` ("können Sie mir das Formular schicken") starts the form; a plain question
("gibt es dafür ein Formular", intent ask_form) is answered by action_answer_service instead.

1. form_service: the service whose form is meant (entity `service`, the caller's words, or the
   service asked about before; actions/faq.py resolve_service). Only services with a form in
   the catalogue; for others the bot names the forms of the same office.
2. form_delivery: "email" (per E-Mail) or "read_out" (the link, read out now).
3. form_email (only for e-mail): parse_email on the spoken address; the bot says what is wrong
   with an address it cannot use.
4. form_email_confirmed (only for e-mail): the address read back letter by letter, "ja"/"nein".

All slots have custom mappings: the extract_<slot> methods below take the caller's words for the
slot the form asks for (never on `cancel` or `request_human`, so "abbrechen" or "Mitarbeiter
bitte" makes the form reject and the rules take over) and, at activation, what the first
sentence already says.

action_submit_form_delivery stores the request (POST /api/requests, kind form_delivery): with
an e-mail for the gateway's outbox, or (read out) only for the statistics.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from .catalogue import Office, Service, say_opening_hours
from .catalogue.spoken import web_host
from .faq import CATALOGUE, resolve_service, service_from_entities
from .normalise import number_to_words, parse_email
from .requests_client import EmailDraft, RequestNotSaved, store_and_confirm, submit_request

log = logging.getLogger(__name__)

FORM = "form_delivery_form"
KIND = "form_delivery"
SERVICE_SLOT = "form_service"
TITLE_SLOT = "form_title"
DELIVERY_SLOT = "form_delivery"
EMAIL_SLOT = "form_email"
CONFIRMED_SLOT = "form_email_confirmed"
RESULT_SLOT = "form_delivery_result"
FORM_SLOTS = (SERVICE_SLOT, TITLE_SLOT, DELIVERY_SLOT, EMAIL_SLOT, CONFIRMED_SLOT)
EMAIL_SLOTS = (EMAIL_SLOT, CONFIRMED_SLOT)
EMAIL, READ_OUT = "email", "read_out"
# Intents whose words are never a slot value: the form rejects, the rules answer.
NOT_AN_ANSWER = frozenset({"cancel", "request_human"})

_EMAIL_WORDS = re.compile(r"e[ -]?mail|email|imail|imehl|mailen|mail\b|elektronisch")
_READ_OUT_WORDS = re.compile(
    r"vorlesen|vor lesen|lesen sie|sagen sie|vorgelesen|den link|link\b|diktieren|aufschreiben|"
    r"notieren|am telefon|mitschreiben"
)
_POST_WORDS = re.compile(r"\bpost\b|\bbrief\b|postweg|per fax|\bfax\b")
_AT_WORDS = re.compile(r"@|\b(?:at|ät|aet|et|klammeraffe|affenschwanz)\b")
_DOT_WORDS = re.compile(r"\.|\b(?:punkt|dot)\b")
# How a few common mail domains are said; any other domain is spelled.
_KNOWN_DOMAINS = {
    "web.de": "web Punkt de",
    "gmx.de": "G M X Punkt de",
    "gmx.net": "G M X Punkt net",
    "gmail.com": "G Mail Punkt com",
    "googlemail.com": "Google Mail Punkt com",
    "t-online.de": "T Bindestrich online Punkt de",
    "outlook.de": "outlook Punkt de",
    "outlook.com": "outlook Punkt com",
    "hotmail.com": "hotmail Punkt com",
    "hotmail.de": "hotmail Punkt de",
    "yahoo.de": "yahoo Punkt de",
    "yahoo.com": "yahoo Punkt com",
    "icloud.com": "i cloud Punkt com",
}
_ACCUSATIVE = {"der": "den", "die": "die", "das": "das"}  # "Für den Personalausweis ..."
_DATIVE = {"der": "Beim", "die": "Bei der", "das": "Beim"}  # "Beim Bürgerbüro ..."
_SYMBOL_WORDS = {"@": "at", ".": "Punkt", "-": "Bindestrich", "_": "Unterstrich", "+": "Plus"}
_URL_SYMBOL_WORDS = {"/": "Schrägstrich", ".": "Punkt", "-": "Bindestrich", "_": "Unterstrich"}


# --- the caller's words ------------------------------------------------------------------


def latest_intent(tracker: Tracker) -> str | None:
    """The intent NLU gave the latest message."""
    intent = tracker.latest_message.get("intent") or {}
    name = intent.get("name") if isinstance(intent, dict) else None
    return str(name) if name else None


def latest_text(tracker: Tracker) -> str:
    """The caller's latest words, whitespace collapsed."""
    return " ".join(str(tracker.latest_message.get("text") or "").split())


_LEADING_FILLERS = frozenset(
    {
        *("ja", "nein", "ne", "nee", "äh", "ähm", "aehm", "öhm", "hm", "also", "okay", "ok"),
        *("gut", "genau", "so", "richtig", "falsch", "doch", "sorry", "entschuldigung"),
        *("korrektur", "bitte", "per", "e-mail", "email", "mail", "an", "schicken", "sie"),
        *("es", "mir"),
    }
)
_TRAILING_FILLERS = frozenset(
    {"bitte", "danke", "dank", "vielen", "schön", "genau", "so", "das", "ist", "alles", "wars"}
)


def heard_email(text: str) -> str | None:
    """parse_email without the words around the address ("ja", "ähm", "bitte", "danke"),
    which parse_email would join into it ("anna@web.debitte")."""
    words = text.split()

    def bare(word: str) -> str:
        return word.strip(".,!?;:").lower()

    while words and bare(words[0]) in _LEADING_FILLERS:
        words.pop(0)
    while words and bare(words[-1]) in _TRAILING_FILLERS:
        words.pop()
    return parse_email(" ".join(words))


def delivery_of(text: str) -> str | None:
    """'email', 'read_out', or None from "per E-Mail bitte", "lesen Sie mir den Link vor".
    An e-mail address in the words means e-mail."""
    said = text.lower()
    if _EMAIL_WORDS.search(said) or heard_email(text):
        return EMAIL
    if _READ_OUT_WORDS.search(said):
        return READ_OUT
    return None


def form_service(value: Any, tracker: Tracker | None = None) -> Service | None:
    """The service meant by a slot value (service id or the caller's words) or the latest
    message's entities."""
    if isinstance(value, str) and value in CATALOGUE.services:
        return CATALOGUE.services[value]
    if tracker is not None:
        found = service_from_entities(tracker.get_latest_entity_values("service"))
        if found is not None:
            return found
    return CATALOGUE.find(str(value or ""))


def forms_of_office(office: Office) -> list[str]:
    """The titles of the forms the catalogue has for an office, each once, in file order."""
    titles: list[str] = []
    for service in CATALOGUE.services.values():
        if service.office == office.id and service.form and service.form.name.de not in titles:
            titles.append(service.form.name.de)
    return titles


def join_de(parts: list[str]) -> str:
    """'a', 'a und b', 'a, b und c'."""
    return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} und {parts[-1]}"


def email_problem(text: str) -> str:
    """What is wrong with words that parse_email could not turn into an address: the name of
    the response that says it."""
    said = text.lower()
    ats = _AT_WORDS.findall(said)
    if not ats:
        return "utter_form_email_no_at"
    if len(ats) > 1:
        return "utter_form_email_two_at"
    before, after = _AT_WORDS.split(said, maxsplit=1)
    before = re.sub(r"\b(?:meine|e-?mail-?adresse|adresse|lautet|ist|die)\b", " ", before)
    if not re.search(r"[^\W_]", before):
        return "utter_form_email_no_name"
    ending = _DOT_WORDS.split(after)[-1] if _DOT_WORDS.search(after) else ""
    if len(re.sub(r"[\W_]", "", ending)) < 2:
        return "utter_form_email_no_ending"
    return "utter_form_email_unclear"


# --- what the caller hears ---------------------------------------------------------------


def spell(word: str) -> str:
    """'anna1' -> 'A N N A eins': letters one by one, digits as words."""
    return " ".join(number_to_words(int(c)) if c.isdigit() else c.upper() for c in word)


def spoken_email(address: str) -> str:
    """The address for the read-back: the part before the at spelled, the domain spelled
    unless it is a common provider ("web Punkt de")."""
    local, _, domain = address.partition("@")
    parts = [_spell_with_symbols(local), "at"]
    parts.append(_KNOWN_DOMAINS.get(domain) or _spell_with_symbols(domain))
    return ", ".join(parts)


def _spell_with_symbols(text: str) -> str:
    pieces = re.findall(r"[a-z0-9]+|[^a-z0-9]", text)
    return ", ".join(
        _SYMBOL_WORDS.get(p, p) if len(p) == 1 and not p.isalnum() else spell(p) for p in pieces
    )


def spoken_link(url: str) -> str:
    """'https://www.leverkusen.de/formulare/wohngeld-antrag.pdf' -> 'leverkusen punkt de,
    Schrägstrich, formulare, Schrägstrich, wohngeld Bindestrich antrag Punkt P D F'."""
    host = web_host(url, "de")
    path = re.sub(r"^[a-z]+://[^/]*", "", url).strip("/")
    if not path:
        return host
    words: list[str] = [host]
    for segment in path.split("/"):
        pieces = re.findall(r"[A-Za-z0-9]+|[^A-Za-z0-9]", segment)
        spoken = []
        for piece in pieces:
            if piece in _URL_SYMBOL_WORDS:
                spoken.append(_URL_SYMBOL_WORDS[piece])
            elif piece.lower() in ("pdf", "html", "htm", "docx", "doc"):
                spoken.append(spell(piece))
            else:
                spoken.append(piece)
        words += ["Schrägstrich", " ".join(spoken)]
    return ", ".join(words)


def say_link(service: Service) -> str:
    """The form's title and its web address, read out for the TTS."""
    assert service.form is not None
    title = service.form.name.de
    host = web_host(service.form.url, "de")
    return (
        f"Das Formular „{title}“ finden Sie im Internet unter: {spoken_link(service.form.url)}. "
        f"Sie finden es auch, wenn Sie auf {host} nach „{title}“ suchen."
    )


def email_draft(address: str, service: Service) -> EmailDraft:
    """The plain-text e-mail with the form's link and the office's address and hours."""
    assert service.form is not None
    form = service.form
    office = CATALOGUE.office_of(service)
    where = office.address
    body = "\n".join(
        [
            "Guten Tag,",
            "",
            "Sie haben beim Bürgertelefon der Stadt Leverkusen dieses Formular angefordert:",
            "",
            f"{form.name.de}",
            f"{form.url}",
            "",
            f"Zuständig ist: {office.name.de}",
            f"Adresse: {where.street}, {where.postcode} {where.city}"
            + (f" ({where.note.de})" if where.note else ""),
            f"Öffnungszeiten: {say_opening_hours(office, 'de')}",
            f"Telefon: {office.phone}",
            "",
            "Diese E-Mail wurde auf Ihren Wunsch vom Bürgertelefon der Stadt Leverkusen "
            "verschickt. Sie wurde automatisch erstellt. Bei Fragen rufen Sie uns bitte an.",
            "",
            "Mit freundlichen Grüßen",
            "Ihre Stadtverwaltung Leverkusen",
        ]
    )
    return EmailDraft(address, f"Ihr Formular: {form.name.de}", body)


# --- actions -----------------------------------------------------------------------------


class ActionAskFormEmailConfirmed(Action):
    """Reads the address back, spelled, and asks whether it is right."""

    def name(self) -> str:
        """Rasa calls action_ask_<slot> instead of utter_ask_<slot> when it exists."""
        return "action_ask_form_email_confirmed"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """One question; the answer is checked by validate_form_delivery_form."""
        address = str(tracker.get_slot(EMAIL_SLOT) or "")
        dispatcher.utter_message(response="utter_form_email_read_back", email=spoken_email(address))
        return []


class ValidateFormDeliveryForm(FormValidationAction):
    """Turns the caller's answers into a service with a form, a channel and an address."""

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
            office = CATALOGUE.office_of(service)
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
        dispatcher.utter_message(response=email_problem(text))
        return {EMAIL_SLOT: None, CONFIRMED_SLOT: None}

    def validate_form_email_confirmed(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """ "ja" confirms, "nein" asks for the address again, a new address is read back."""
        if slot_value is True:
            return {CONFIRMED_SLOT: True}
        intent = latest_intent(tracker)
        text = str(slot_value or "")
        corrected = heard_email(text)
        if corrected:
            return {EMAIL_SLOT: corrected, CONFIRMED_SLOT: None}
        if intent == "affirm":
            return {CONFIRMED_SLOT: True}
        if intent == "deny":
            dispatcher.utter_message(response="utter_form_email_again")
            return {EMAIL_SLOT: None, CONFIRMED_SLOT: None}
        dispatcher.utter_message(response="utter_form_email_yes_no")
        return {CONFIRMED_SLOT: None}


def reset_events() -> list[EventType]:
    """Empties the form's slots, so that a second request in the call starts clean."""
    return [SlotSet(slot, None) for slot in FORM_SLOTS]


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
        service = CATALOGUE.services.get(str(tracker.get_slot("service") or ""))
        if service is None or service.form is None:
            return [*reset_events(), SlotSet(DELIVERY_SLOT, EMAIL)]
        return [
            *reset_events(),
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
        return reset_events()


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
        service = CATALOGUE.services.get(str(tracker.get_slot(SERVICE_SLOT) or ""))
        if service is None or service.form is None:  # cannot happen after the form
            dispatcher.utter_message(response="utter_form_service_unknown")
            return [*reset_events(), SlotSet(RESULT_SLOT, "done")]
        form = service.form
        data: dict[str, Any] = {"service": service.id, "form": form.name.de, "url": form.url}
        address = tracker.get_slot(EMAIL_SLOT)
        if tracker.get_slot(DELIVERY_SLOT) != EMAIL or not address:
            data["delivery"] = READ_OUT
            dispatcher.utter_message(text=say_link(service))
            try:  # for the statistics only: the caller has the link already
                await submit_request(
                    KIND, tracker, data, f"Formular „{form.name.de}“: Link vorgelesen"
                )
            except RequestNotSaved as exc:
                log.error(
                    "call %s: form delivery (read out) not stored: %s", tracker.sender_id, exc
                )
            return [*reset_events(), SlotSet(RESULT_SLOT, "done")]

        data.update(delivery=EMAIL, email=address)
        summary = f"Formular „{form.name.de}“ per E-Mail an {address}"
        saved, events = await store_and_confirm(
            dispatcher, KIND, tracker, data, summary, email=email_draft(address, service)
        )
        if saved is None:
            return [*events, SlotSet(RESULT_SLOT, "not_saved")]
        if saved.email_state == "not_configured":
            dispatcher.utter_message(response="utter_form_email_not_configured")
            dispatcher.utter_message(text=say_link(service))
        else:
            dispatcher.utter_message(response="utter_form_email_sent", email=spoken_email(address))
        return [*events, *reset_events(), SlotSet(RESULT_SLOT, "done")]
