"""The Sperrmüll pick-up application's rules and words: its slots, the lead time and the
dates it allows, what the collection does not take, the read-back for the caller, the request
for staff, and the words a caller names a part with when something is wrong.

N, the lead time in working days, is settings().sperrmuell_lead_days
(VOICEBOT_SPERRMUELL_LEAD_DAYS, default 5). "Today" is clock.today() (VOICEBOT_TODAY in tests).
"""

from __future__ import annotations

import datetime
import re
from typing import Any

from rasa_sdk import Tracker

from .kinds import SPERRMUELL
from .normalise import ordinal_to_words, speak_digits, speak_house_number, speak_items
from .normalise._text import fold, word_set
from .normalise.dates import MONTH_NAMES, WEEKDAY_NAMES
from .phone_answer import spoken_number
from .workdays import add_working_days, holiday_name, is_working_day

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
VALUE_SLOTS = (STREET, HOUSE_NUMBER, POSTCODE, ITEMS, DATE, NAME, PHONE)
FLAG_SLOTS = (OTHER_NUMBER, CORRECTING)
MAX_DAYS_AHEAD = 366


_WORD = re.compile(r"\d+|[^\W\d_]+(?:-[^\W\d_]+)*")


def _words(text: str) -> list[str]:
    """Folded words (ä as ae), as the keyword tables below are written."""
    return _WORD.findall(fold(text))


def earliest_date(day: datetime.date, lead: int) -> datetime.date:
    """The earliest pick-up date when the caller calls on `day`: the `lead`-th working day
    after it (Monday 12 March with 5 -> Monday 19 March)."""
    return add_working_days(day, max(lead, 1))


def speak_date_nominative(date: datetime.date) -> str:
    """ "Montag, der zwölfte März" (after "ist")."""
    ordinal = ordinal_to_words(date.day).removesuffix("n")
    return f"{WEEKDAY_NAMES[date.weekday()]}, der {ordinal} {MONTH_NAMES[date.month - 1]}"


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
    if (date - day).days > MAX_DAYS_AHEAD:
        return False, "So weit im Voraus kann ich keinen Termin aufnehmen."
    return True, None


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


def not_accepted_reason(item: str) -> str | None:
    """Why the Sperrmüll collection does not take `item`, or None when it does."""
    folded = fold(item)
    for keywords, reason in NOT_ACCEPTED:
        if any(word in folded for word in keywords):
            return reason
    return None


def items_from_slot(value: Any) -> list[dict[str, Any]]:
    """The items slot as a list of {"item", "count"} (anything else dropped)."""
    return [i for i in value if isinstance(i, dict)] if isinstance(value, list) else []


def summary_for_caller(tracker: Tracker) -> str:
    """The read-back before the confirmation question."""
    date = datetime.date.fromisoformat(str(tracker.get_slot(DATE)))
    house = speak_house_number(str(tracker.get_slot(HOUSE_NUMBER)))
    return (
        f"Ich fasse zusammen: Adresse: {tracker.get_slot(STREET)} {house}, "
        f"Postleitzahl {speak_digits(str(tracker.get_slot(POSTCODE)))}. "
        f"Gegenstände: {speak_items(items_from_slot(tracker.get_slot(ITEMS)))}. "
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
        "items": items_from_slot(tracker.get_slot(ITEMS)),
        "date": tracker.get_slot(DATE),
        "name": tracker.get_slot(NAME),
        "phone": tracker.get_slot(PHONE),
    }


def summary_for_staff(data: dict[str, Any]) -> str:
    """One line for the staff's list of requests."""
    items = ", ".join(f"{i['count']} × {i['item']}" for i in data["items"])
    date = datetime.date.fromisoformat(data["date"]).strftime("%d.%m.%Y")
    return (
        f"{SPERRMUELL.label_in('de')}: {data['street']} {data['house_number']}, {data['postcode']} "
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
    (("telefon", "telefonnummer", "nummer", "rufnummer", "handynummer"), (PHONE,)),
    (("kontakt", "kontaktdaten"), (NAME, PHONE)),
    (("alles", "vorn", "vorne", "neu"), VALUE_SLOTS),
)
_DAY_NAMES = {fold(d) for d in WEEKDAY_NAMES}


def slots_to_correct(text: str) -> tuple[str, ...]:
    """The slots the caller's words name ("die Hausnummer ist falsch" -> the address)."""
    found: list[str] = []
    for word in _words(str(text or "")):
        if word in _DAY_NAMES:
            continue
        for keywords, slots in CORRECTIONS:
            if any(word == k or (len(k) >= 4 and word.endswith(k)) for k in keywords):
                found.extend(s for s in slots if s not in found)
                break
    return tuple(found)


# A question about a service in the middle of the form ("Was kostet das?") is not an answer:
# the FAQ intent with a question's shape (question word first, or "?").
QUESTION_INTENTS = word_set(
    "ask_service ask_documents ask_fee ask_processing_time ask_address ask_phone ask_form "
    "report_lost ask_opening_hours"
)
_QUESTION_WORDS = word_set(
    "was wie wo wann warum wieso weshalb wer welche welcher welches wieviel kann koennen muss "
    "darf gibt kostet"
)


def is_question(tracker: Tracker) -> bool:
    """Whether the caller asked a service question instead of answering."""
    intent = tracker.latest_message.get("intent") or {}
    if intent.get("name") not in QUESTION_INTENTS or (intent.get("confidence") or 0) < 0.7:
        return False
    text = str(tracker.latest_message.get("text") or "")
    said = _words(text)
    return "?" in text or bool(said and said[0] in _QUESTION_WORDS)
