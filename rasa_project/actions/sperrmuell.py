"""The Sperrmüll pick-up application pre-check (sperrmuell_form).

The bot collects a complete application: address in Leverkusen, the items, a preferred date
at least N working days ahead, name and callback number. It names exactly what is missing or
invalid and asks again. After the caller confirms the read-back summary, the application is
stored for staff (POST /api/requests, kind "sperrmuell"). The bot never approves or refuses
an application; staff check it and send the pick-up date.

N is the environment variable VOICEBOT_SPERRMUELL_LEAD_DAYS (working days, default 5).
"Today" comes from `today()`; tests replace it (monkeypatch) to pin the date.
"""

from __future__ import annotations

import datetime
import logging
import os
import re
from dataclasses import dataclass
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from . import clock
from .names import parse_name
from .normalise import (
    is_leverkusen_postcode,
    number_to_words,
    ordinal_to_words,
    parse_date,
    parse_house_number,
    parse_number_word,
    parse_postcode,
)
from .normalise._text import fold
from .normalise.dates import MONTH_NAMES, WEEKDAY_NAMES
from .phone_answer import AskPhone, keypad_or_text, latest_intent, spoken_number, validate_phone
from .requests_client import store_and_confirm
from .workdays import add_working_days, holiday_name, is_working_day

log = logging.getLogger(__name__)

KIND = "sperrmuell"
STREET = "sperrmuell_street"
HOUSE_NUMBER = "sperrmuell_house_number"
POSTCODE = "sperrmuell_postcode"
ITEMS = "sperrmuell_items"
DATE = "sperrmuell_date"
NAME = "sperrmuell_name"
PHONE = "sperrmuell_phone"
OTHER_NUMBER = "sperrmuell_other_number"
CONFIRMED = "sperrmuell_confirmed"
CORRECTING = "sperrmuell_correcting"
ALL_SLOTS = (
    STREET,
    HOUSE_NUMBER,
    POSTCODE,
    ITEMS,
    DATE,
    NAME,
    PHONE,
    OTHER_NUMBER,
    CONFIRMED,
    CORRECTING,
)

LEAD_DAYS_ENV = "VOICEBOT_SPERRMUELL_LEAD_DAYS"
DEFAULT_LEAD_DAYS = 5
MAX_LEAD_DAYS = 60

WEEKDAYS = WEEKDAY_NAMES
MONTHS = MONTH_NAMES
DIGIT_WORDS = ("null", "eins", "zwei", "drei", "vier", "fünf", "sechs", "sieben", "acht", "neun")


# --- "today" and the lead time -------------------------------------------------------------


def today() -> datetime.date:
    """Today in Leverkusen, see clock.py. Tests replace this function."""
    return clock.today()


def lead_days() -> int:
    """Working days between today and the earliest pick-up: VOICEBOT_SPERRMUELL_LEAD_DAYS, a
    whole number from 1 to 60; unset -> 5. An invalid value is logged and 5 is used."""
    raw = os.environ.get(LEAD_DAYS_ENV, "").strip()
    if not raw:
        return DEFAULT_LEAD_DAYS
    if raw.isdigit() and 1 <= int(raw) <= MAX_LEAD_DAYS:
        return int(raw)
    log.error(
        "%s=%r is not a whole number from 1 to %d; using %d",
        LEAD_DAYS_ENV,
        raw,
        MAX_LEAD_DAYS,
        DEFAULT_LEAD_DAYS,
    )
    return DEFAULT_LEAD_DAYS


def earliest_date(day: datetime.date, lead: int) -> datetime.date:
    """The earliest pick-up date when the caller calls on `day`: the `lead`-th working day
    after it (Monday 12 March with 5 -> Monday 19 March)."""
    return add_working_days(day, max(lead, 1))


# --- speaking ------------------------------------------------------------------------------


def speak_date_nominative(date: datetime.date) -> str:
    """ "Montag, der zwölfte März" (after "ist")."""
    ordinal = ordinal_to_words(date.day).removesuffix("n")
    return f"{WEEKDAYS[date.weekday()]}, der {ordinal} {MONTHS[date.month - 1]}"


def speak_date_dative(date: datetime.date) -> str:
    """ "Montag, dem zwölften März" (after "am")."""
    return f"{WEEKDAYS[date.weekday()]}, dem {ordinal_to_words(date.day)} {MONTHS[date.month - 1]}"


def speak_digits(digits: str) -> str:
    """ "50670" -> "fünf null sechs sieben null"."""
    return " ".join(DIGIT_WORDS[int(c)] for c in digits if c.isdigit())


def speak_house_number(house: str) -> str:
    """ "12a" -> "zwölf a", "12-14" -> "zwölf bis vierzehn"."""

    def part(text: str) -> str:
        match = re.fullmatch(r"(\d+)([a-z]?)", text)
        if not match or int(match[1]) > 999_999:
            return text
        words = number_to_words(int(match[1]))
        return f"{words} {match[2]}" if match[2] else words

    return " bis ".join(part(p) for p in house.split("-"))


def speak_items(items: list[dict[str, Any]]) -> str:
    """ "Sofa, zwei Stühle und Schrank"."""
    parts = [
        item["item"] if item["count"] == 1 else f"{number_to_words(item['count'])} {item['item']}"
        for item in items
    ]
    if len(parts) < 2:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " und " + parts[-1]


# --- address -------------------------------------------------------------------------------

_WORD = re.compile(r"\d+|[^\W\d_]+(?:-[^\W\d_]+)*\.?")
_ADDRESS_FILLERS = {
    "ich",
    "wir",
    "wohne",
    "wohnen",
    "mein",
    "meine",
    "unsere",
    "die",
    "der",
    "das",
    "adresse",
    "anschrift",
    "abholadresse",
    "ist",
    "lautet",
    "in",
    "ja",
    "also",
    "aeh",
    "aehm",
    "ehm",
    "hm",
    "bei",
    "mir",
    "uns",
    "es",
    "geht",
    "um",
    "und",
    "zwar",
    "bitte",
    "gerne",
    "gern",
    "sperrmuell",
    "soll",
    "wird",
    "abgeholt",
    "werden",
    "steht",
    "stehen",
    "abholung",
    "hier",
    "okay",
    "ok",
    "gut",
    "klar",
    "natuerlich",
    "moment",
    "warten",
    "sekunde",
}
_STREET_ENDINGS = (
    "strasse",
    "str",
    "weg",
    "platz",
    "allee",
    "gasse",
    "ring",
    "damm",
    "ufer",
    "berg",
    "feld",
    "hof",
    "pfad",
    "chaussee",
    "markt",
    "garten",
    "kamp",
    "busch",
    "steg",
    "wall",
    "graben",
    "siedlung",
    "heide",
    "park",
    "hoehe",
    "bruch",
    "winkel",
    "grund",
    "hang",
    "tal",
    "wiese",
    "aue",
    "acker",
    "dorf",
    "stieg",
    "bruecke",
    "blick",
    "kreuz",
    "muehle",
    "kuhl",
    "hecke",
)
_STREET_PREPOSITIONS = {
    "am",
    "an",
    "auf",
    "im",
    "zum",
    "zur",
    "unter",
    "hinter",
    "vor",
    "alte",
    "alter",
    "neue",
    "neuer",
}
_ADDRESS_STOP = {"hausnummer", "nummer", "nr", "nr.", "postleitzahl", "plz", "leverkusen"}
_TRAILING_DROP = {"in", "und", "die", "der", "ist", "leverkusen", "bitte"}
_HOUSE_AT_START = re.compile(
    r"^[\s,.:]*(?:(?:haus)?nummer|nr\.?)?\s*(\d{1,4})(?!\d)"
    r"(?:\s?([a-z])(?![^\W\d_]))?"
    r"(?:\s*(?:-|/|bis)\s*(\d{1,4})(?!\d)(?:\s?([a-z])(?![^\W\d_]))?)?",
    re.IGNORECASE,
)
_FIVE_DIGITS = re.compile(r"(?<!\d)(\d{5})(?!\d)")
_CITY_FIRST = re.compile(r"^[\s,.]*(?:in\s+)?leverkusen\b[\s,.]*", re.IGNORECASE)
_POSTCODE_WORD = re.compile(r"\b(?:postleitzahl|plz)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Address:
    """What one answer said of the address; None for a part it did not say."""

    street: str | None
    house_number: str | None
    postcode: str | None


def _is_number_token(folded: str) -> bool:
    if folded.isdigit():
        return True
    if folded in ("ein", "eine", "einen"):
        return False
    return parse_number_word(folded) is not None


def _street_span(text: str) -> tuple[str | None, int]:
    """The street name at the start of the answer (fillers skipped) and where it ends."""
    words = list(_WORD.finditer(text))
    i = 0
    while i < len(words) and fold(words[i].group()).rstrip(".") in _ADDRESS_FILLERS:
        i += 1
    start = i
    while i < len(words):
        folded = fold(words[i].group())
        if folded in _ADDRESS_STOP or _is_number_token(folded):
            break
        i += 1
    street_words = [w.group() for w in words[start:i]]
    while street_words and fold(street_words[-1]).rstrip(".") in _TRAILING_DROP:
        street_words.pop()
    end = words[i].start() if i < len(words) else len(text)
    if not any(len(w.strip(".")) >= 2 for w in street_words):
        return None, end
    return street_case(street_words), end


_LOWER_IN_STREET = {"der", "die", "das", "den", "dem", "am", "an", "auf", "im", "in", "zum", "zur"}
_LOWER_IN_STREET |= {"von", "vom", "bei", "unter", "und"}


def street_case(words: list[str]) -> str:
    """Whisper writes "kölner straße": "Kölner Straße", but "An der Wiese" keeps "der"."""
    cased = [
        w if i and fold(w) in _LOWER_IN_STREET else w[:1].upper() + w[1:]
        for i, w in enumerate(words)
    ]
    return " ".join(cased)


def looks_like_street(street: str) -> bool:
    """Whether a name without a house number is still clearly a street: "Hauptstraße",
    "Kölner Str.", "Am Stadtpark" (a street word or a preposition), not "Moment"."""
    words = [fold(w).rstrip(".") for w in street.split()]
    if len(words) >= 2 and words[0] in _STREET_PREPOSITIONS:
        return True
    return any(w.endswith(_STREET_ENDINGS) for w in words)


def _spoken_house_number(rest: str) -> tuple[str | None, str]:
    """A house number in words at the start of `rest` ("zwölf a, fünf eins ...")."""
    head, comma, tail = rest.partition(",")
    toks = head.split()
    for n in range(min(4, len(toks)), 0, -1):
        found = parse_house_number(" ".join(toks[:n]))
        if found:
            return found, " ".join(toks[n:]) + comma + tail
    return None, rest


def parse_address(text: str) -> Address:
    """Street, house number and postcode from one answer: "Hauptstraße 12a, 51373 Leverkusen",
    "in der kölner straße zwölf fünf eins drei sieben drei". Missing parts are None."""
    text = " ".join(str(text or "").split())
    postcode = None
    if match := _FIVE_DIGITS.search(text):
        postcode = match[1]
        # After the postcode comes the city ("51373 Leverkusen"), unless it was said first.
        before, after = text[: match.start()], text[match.end() :]
        text = before if _WORD.search(before) else _CITY_FIRST.sub("", after)
    elif match := _POSTCODE_WORD.search(text):
        postcode = parse_postcode(text[match.end() :])
        text = text[: match.start()]
    street, end = _street_span(text)
    rest = text[end:]
    if street and not rest.strip() and not postcode and not looks_like_street(street):
        street = None  # "ähm moment": no street name
    house = None
    if match := _HOUSE_AT_START.match(rest):
        house = match[1] + (match[2] or "").lower()
        if match[3]:
            house += "-" + match[3] + (match[4] or "").lower()
        rest = rest[match.end() :]
    elif rest.strip():
        words = rest.strip(" ,.")
        for filler in ("hausnummer", "nummer", "nr"):
            if fold(words).startswith(filler + " "):
                words = words[len(filler) + 1 :]
        house, rest = _spoken_house_number(words)
    if postcode is None and rest.strip():
        postcode = parse_postcode(rest)
    return Address(street, house, postcode)


def postcode_outside_message(code: str) -> str:
    """What the caller hears for a postcode outside Leverkusen."""
    return (
        f"Die Postleitzahl {speak_digits(code)} gehört nicht zu Leverkusen. "
        "Die Stadt Leverkusen holt Sperrmüll nur in Leverkusen ab."
    )


# --- items ---------------------------------------------------------------------------------

_ITEM_SPLIT = re.compile(r"[,;.]|\b(?:und|sowie|plus|außerdem|ausserdem|dazu)\b", re.IGNORECASE)
_ITEM_WORD = re.compile(r"\d+|[^\W\d_]+(?:-[^\W\d_]+)*")
_ITEM_FILLERS = {
    "ich",
    "wir",
    "habe",
    "hab",
    "haben",
    "es",
    "sind",
    "ist",
    "das",
    "also",
    "aeh",
    "aehm",
    "ehm",
    "hm",
    "noch",
    "dann",
    "da",
    "waere",
    "waeren",
    "auch",
    "bitte",
    "nur",
    "sollen",
    "soll",
    "abgeholt",
    "werden",
    "moechte",
    "moechten",
    "gerne",
    "gern",
    "abholen",
    "lassen",
    "mal",
    "so",
    "weg",
    "entsorgen",
    "ja",
    "nein",
    "nichts",
    "weiss",
    "nicht",
    "keine",
    "ahnung",
    "genau",
    "okay",
    "ok",
    "gut",
    "sperrmuell",
    "gegenstaende",
    "sachen",
    "folgendes",
    "folgende",
    "und",
    "mir",
    "uns",
    "alte",
    "alten",
    "alter",
    "altes",
    "zum",
    "zur",
    "den",
    "die",
    "der",
}
_ONE = {"ein", "eine", "einen", "einem", "einer", "eins"}
_ITEM_JOINERS = {"mit", "fuer", "aus", "von", "a", "ca", "circa", "etwa", "ungefaehr"}

# Things the Sperrmüll collection does not take (example rules of the Stadt Leverkusen, like
# catalogue/abfall.yml; change them here). Matched on the folded item word (substring).
NOT_ACCEPTED: tuple[tuple[tuple[str, ...], str], ...] = (
    (
        (
            "kuehlschrank",
            "gefrier",
            "waschmaschine",
            "trockner",
            "spuelmaschine",
            "geschirrspueler",
            "fernseher",
            "computer",
            "monitor",
            "herd",
            "backofen",
            "mikrowelle",
            "elektro",
        ),
        "Elektrogeräte nimmt die Sperrmüllabfuhr nicht mit. Bitte bringen Sie sie zum "
        "Wertstoffhof.",
    ),
    (
        ("bauschutt", "fliesen", "beton", "ziegel", "rigips", "steine"),
        "Bauschutt nimmt die Sperrmüllabfuhr nicht mit. Bitte bringen Sie ihn zum Wertstoffhof.",
    ),
    (
        ("reifen",),
        "Autoreifen nimmt die Sperrmüllabfuhr nicht mit. Bitte geben Sie sie beim "
        "Reifenhändler oder am Wertstoffhof ab.",
    ),
    (
        ("farbe", "lack", "batterie", "chemikal", "altoel"),
        "Farben, Öl und Batterien nimmt die Sperrmüllabfuhr nicht mit. Bitte bringen Sie sie "
        "zur Schadstoffsammlung.",
    ),
)


def _item_count(folded: str) -> int | None:
    if folded in _ONE:
        return 1
    if folded.isdigit():
        return int(folded)
    return parse_number_word(folded)


def parse_items(text: str) -> list[dict[str, Any]]:
    """ "ein Sofa, zwei Stühle und ein Schrank" -> [{"item": "Sofa", "count": 1},
    {"item": "Stühle", "count": 2}, {"item": "Schrank", "count": 1}]; [] when there is none."""
    items: list[dict[str, Any]] = []
    for segment in _ITEM_SPLIT.split(str(text or "")):
        for count, kept in _counted_parts(_ITEM_WORD.findall(segment)):
            while kept and fold(kept[-1]) in _ITEM_FILLERS:
                kept.pop()
            if not any(len(w) >= 3 and fold(w) not in _ITEM_FILLERS for w in kept):
                continue
            name = " ".join(kept)
            items.append({"item": name[:1].upper() + name[1:], "count": count or 1})
    return items


def _counted_parts(words: list[str]) -> list[tuple[int | None, list[str]]]:
    """Splits "ein sofa zwei stühle" (Whisper often writes no commas) at each count word
    that follows an item: [(1, ["sofa"]), (2, ["stühle"])]. "Schrank mit zwei Türen" stays
    one item (a count after "mit", "für", "aus", "von", "à" belongs to it)."""
    parts: list[tuple[int | None, list[str]]] = []
    count: int | None = None
    kept: list[str] = []
    for word in words:
        folded = fold(word)
        value = _item_count(folded)
        valid = value is not None and 0 < value < 1000
        if valid and kept and fold(kept[-1]) not in _ITEM_JOINERS:
            parts.append((count, kept))
            count, kept = value, []
        elif valid and not kept and count is None:
            count = value
        elif folded in _ITEM_FILLERS and not kept:
            continue
        else:
            kept.append(word)
    parts.append((count, kept))
    return parts


def not_accepted_reason(item: str) -> str | None:
    """Why the Sperrmüll collection does not take `item`, or None when it does."""
    folded = fold(item)
    for words, reason in NOT_ACCEPTED:
        if any(word in folded for word in words):
            return reason
    return None


# --- date, name, phone ---------------------------------------------------------------------


def check_date(date: datetime.date, day: datetime.date, lead: int) -> tuple[bool, str | None]:
    """Whether `date` can be the preferred pick-up date when the caller calls on `day`, and
    if not, what the caller hears."""
    earliest = earliest_date(day, lead)
    if date < earliest:
        return False, f"Der früheste mögliche Termin ist {speak_date_nominative(earliest)}."
    if not is_working_day(date):
        holiday = holiday_name(date)
        why = f"ist ein Feiertag, {holiday}" if holiday else "ist kein Werktag"
        return False, (
            f"{speak_date_nominative(date)} {why}. "
            "Sperrmüll wird nur montags bis freitags abgeholt."
        )
    if (date - day).days > 366:
        return False, "So weit im Voraus kann ich keinen Termin aufnehmen."
    return True, None


# --- the form ------------------------------------------------------------------------------


def _items_from_slot(value: Any) -> list[dict[str, Any]]:
    return [i for i in value if isinstance(i, dict)] if isinstance(value, list) else []


def summary_for_caller(tracker: Tracker) -> str:
    """The read-back before the confirmation question."""
    date = datetime.date.fromisoformat(str(tracker.get_slot(DATE)))
    house = speak_house_number(str(tracker.get_slot(HOUSE_NUMBER)))
    return (
        f"Ich fasse zusammen: Adresse: {tracker.get_slot(STREET)} {house}, "
        f"Postleitzahl {speak_digits(str(tracker.get_slot(POSTCODE)))}. "
        f"Gegenstände: {speak_items(_items_from_slot(tracker.get_slot(ITEMS)))}. "
        f"Wunschtermin: {speak_date_nominative(date)}. "
        f"Name: {tracker.get_slot(NAME)}. "
        f"Telefon: {spoken_number(str(tracker.get_slot(PHONE)))}."
    )


def request_data(tracker: Tracker) -> dict[str, Any]:
    """The `data` of the stored request."""
    return {
        "street": tracker.get_slot(STREET),
        "house_number": tracker.get_slot(HOUSE_NUMBER),
        "postcode": tracker.get_slot(POSTCODE),
        "items": _items_from_slot(tracker.get_slot(ITEMS)),
        "date": tracker.get_slot(DATE),
        "name": tracker.get_slot(NAME),
        "phone": tracker.get_slot(PHONE),
    }


def summary_for_staff(data: dict[str, Any]) -> str:
    """One line for the staff's list of requests."""
    items = ", ".join(f"{i['count']} × {i['item']}" for i in data["items"])
    date = datetime.date.fromisoformat(data["date"]).strftime("%d.%m.%Y")
    return (
        f"Sperrmüll-Anmeldung: {data['street']} {data['house_number']}, {data['postcode']} "
        f"Leverkusen. Gegenstände: {items}. Wunschtermin: {date}. "
        f"{data['name']}, Telefon {data['phone']}. Noch nicht geprüft: bitte prüfen und den "
        "Abholtermin mitteilen."
    )


# What the caller may want to change after "nein" to the summary: keyword -> slots to clear.
# A word matches when it equals the keyword or ends with it ("wunschtermin" -> "termin").
CORRECTIONS: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (
        ("adresse", "anschrift", "strasse", "hausnummer", "postleitzahl", "plz"),
        (STREET, HOUSE_NUMBER, POSTCODE),
    ),
    (("gegenstaende", "gegenstand", "sachen", "moebel", "liste", "teile"), (ITEMS,)),
    (("termin", "datum", "tag", "wochentag"), (DATE,)),
    (("name", "namen"), (NAME,)),
    (("telefon", "telefonnummer", "nummer", "rufnummer", "handynummer"), (PHONE, OTHER_NUMBER)),
    (("kontakt", "kontaktdaten"), (NAME, PHONE, OTHER_NUMBER)),
    (("alles", "vorn", "vorne", "neu"), ALL_SLOTS),
)
_DAY_NAMES = {fold(d) for d in WEEKDAYS}


def slots_to_correct(text: str) -> tuple[str, ...]:
    """The slots the caller's words name ("die Hausnummer ist falsch" -> the address)."""
    found: list[str] = []
    for word in _ITEM_WORD.findall(fold(str(text or ""))):
        if word in _DAY_NAMES:
            continue
        for keywords, slots in CORRECTIONS:
            if any(word == k or (len(k) >= 4 and word.endswith(k)) for k in keywords):
                found.extend(s for s in slots if s not in found)
                break
    return tuple(found)


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
        earliest = earliest_date(today(), lead_days())
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


class ActionAskSperrmuellConfirmed(Action):
    """Reads the application back and asks whether to pass it on (or what to change)."""

    def name(self) -> str:
        """Rasa calls action_ask_<slot> instead of utter_ask_<slot> when it exists."""
        return "action_ask_sperrmuell_confirmed"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """The summary and "Soll ich die Anmeldung so weitergeben?"."""
        if tracker.get_slot(CORRECTING):
            dispatcher.utter_message(response="utter_ask_sperrmuell_correction")
        else:
            dispatcher.utter_message(
                response="utter_ask_sperrmuell_confirmed", summary=summary_for_caller(tracker)
            )
        return []


# A question about a service in the middle of the form ("Was kostet das?") is not an answer:
# the FAQ intent with a question's shape (question word first, or "?").
QUESTION_INTENTS = {
    "ask_service",
    "ask_documents",
    "ask_fee",
    "ask_processing_time",
    "ask_address",
    "ask_phone",
    "ask_form",
    "report_lost",
    "ask_opening_hours",
}
_QUESTION_WORDS = {
    "was",
    "wie",
    "wo",
    "wann",
    "warum",
    "wieso",
    "weshalb",
    "wer",
    "welche",
    "welcher",
    "welches",
    "wieviel",
    "kann",
    "koennen",
    "muss",
    "darf",
    "gibt",
    "kostet",
}


def is_question(tracker: Tracker) -> bool:
    """Whether the caller asked a service question instead of answering."""
    intent = tracker.latest_message.get("intent") or {}
    if intent.get("name") not in QUESTION_INTENTS or (intent.get("confidence") or 0) < 0.7:
        return False
    text = str(tracker.latest_message.get("text") or "")
    words = _ITEM_WORD.findall(fold(text))
    return "?" in text or bool(words and words[0] in _QUESTION_WORDS)


class ValidateSperrmuellForm(FormValidationAction):
    """Turns the caller's answers into a complete application, naming what is missing."""

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
        return await super().run(dispatcher, tracker, domain)

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
        house = parse_house_number(text)
        if house is None and (match := _HOUSE_AT_START.match(text)):
            house = match[1] + (match[2] or "").lower()
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
        day = today()
        date = parse_date(str(slot_value or ""), day)
        if date is None:
            dispatcher.utter_message(response="utter_sperrmuell_date_invalid")
            return {DATE: None}
        ok, message = check_date(date, day, lead_days())
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
        intent = latest_intent(tracker)
        text = str(slot_value or "")
        correcting = bool(tracker.get_slot(CORRECTING))
        if not correcting and intent == "affirm":
            return {CONFIRMED: True}
        slots = slots_to_correct(text)
        if slots:
            dispatcher.utter_message(response="utter_sperrmuell_correct_part")
            cleared: dict[str, Any] = {slot: None for slot in slots}
            cleared.update({CONFIRMED: None, CORRECTING: False})
            if OTHER_NUMBER in slots:
                cleared[OTHER_NUMBER] = False
            return cleared
        if correcting or intent == "deny":
            if correcting:
                dispatcher.utter_message(response="utter_sperrmuell_correction_unclear")
            return {CONFIRMED: None, CORRECTING: True}
        dispatcher.utter_message(response="utter_sperrmuell_confirm_yes_or_no")
        return {CONFIRMED: None}


def reset_events() -> list[EventType]:
    """Empties the form's slots, so a second application in the same call starts clean."""
    return [
        SlotSet(slot, False if slot in (OTHER_NUMBER, CORRECTING) else None) for slot in ALL_SLOTS
    ]


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
            dispatcher, KIND, tracker, data, summary_for_staff(data)
        )
        if saved is None:
            return [SlotSet("requested_slot", None)]
        dispatcher.utter_message(response="utter_sperrmuell_submitted")
        return [SlotSet("requested_slot", None), *events, *reset_events()]


class ActionResetSperrmuell(Action):
    """After "abbrechen": forgets the answers (nothing was stored)."""

    def name(self) -> str:
        """Action name as used in the domain and the rules."""
        return "action_reset_sperrmuell"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Silent; the rule says utter_cancelled next."""
        return [SlotSet("requested_slot", None), *reset_events()]
