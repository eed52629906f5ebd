"""The appointment request's checks and words: the service and its office, whether a
preferred day and time fit the office's hours, the parts a caller names in a correction,
the read-back and the line for staff. "Today" is clock.today() (VOICEBOT_TODAY in tests).
"""

from __future__ import annotations

import datetime
from typing import Any

from rasa_sdk import Tracker

from . import clock
from .catalogue import Office, Service
from .catalogue import spoken as sp
from .catalogue.match import words
from .kinds import APPOINTMENT
from .normalise import office_hours_time, parse_date, parse_time, speak_date, speak_time
from .normalise.dates import WEEKDAY_NAMES
from .phone_answer import spoken_number
from .services import catalogue, service_by_id
from .workdays import holiday_name as nrw_holiday

SERVICE = "appointment_service"
DATE = "appointment_date"
TIME = "appointment_time"
NAME = "appointment_name"
PHONE = "appointment_phone"
CONFIRMED = "appointment_confirmed"
CORRECTING = "appointment_correcting"
OTHER_NUMBER = "appointment_other_number"
VALUE_SLOTS = (SERVICE, DATE, TIME, NAME, PHONE)
FLAG_SLOTS = (CORRECTING, OTHER_NUMBER)

MAX_DAYS_AHEAD = 365  # a preferred day further ahead is refused ("höchstens ein Jahr")
# Catalogue services that are no appointment at an office (the Sperrmüll pick-up has its own
# form; the waste calendar is an answer, not a visit).
NO_APPOINTMENT = frozenset({"sperrmuell", "abfuhrtermine"})
# Accusative with article: "für den Reisepass", "für die Anmeldung", "für das Führungszeugnis".
ACCUSATIVE = {"der": "den", "die": "die", "das": "das"}
PRONOUN = {"der": "er", "die": "sie", "das": "es"}
WEEKDAYS = WEEKDAY_NAMES
Problem = tuple[str, dict[str, str]]  # a response and its variables


def the_service(service: Service) -> str:
    """ "den Reisepass", "die Anmeldung" (after "für")."""
    return f"{ACCUSATIVE[service.article]} {service.name.de}"


def the_office(office: Office, capital: bool = False) -> str:
    """ "das Bürgerbüro" (or "Das Bürgerbüro" at a sentence start)."""
    text = f"{office.article} {office.name.de}"
    return sp.capitalise(text) if capital else text


def office_of(service_id: Any) -> Office | None:
    """The office of a service id in a slot, or None."""
    service = service_by_id(service_id)
    return catalogue().office_of(service) if service is not None else None


def hours_on(office: Office, weekday: int) -> str:
    """ "von 8 bis 16 Uhr" (or two spans joined with "und") on a weekday."""
    return " und ".join(sp.span_de(span) for span in office.hours.on(weekday))


def parse_day(text: str) -> datetime.date | None:
    """The preferred day in the caller's words, or None."""
    return parse_date(text, clock.today())


def parse_clock(text: str) -> datetime.time | None:
    """A preferred time: "halb drei" (14:30, office reading), "10:15", also a bare hour
    ("zehn", said to "Um welche Uhrzeit?")."""
    found = parse_time(text) or parse_time(f"um {text}")
    return office_hours_time(found) if found else None


def keypad_time(digits: str) -> datetime.time | None:
    """A time typed on the keypad: "10" -> 10:00, "930" -> 09:30, "1415" -> 14:15."""
    digits = digits.strip().rstrip("#")
    if not digits.isdigit() or not 1 <= len(digits) <= 4:
        return None
    hour, minute = (int(digits), 0) if len(digits) <= 2 else (int(digits[:-2]), int(digits[-2:]))
    if hour > 23 or minute > 59:
        return None
    return office_hours_time(datetime.time(hour, minute))


def date_problem(date: datetime.date, office: Office | None) -> Problem | None:
    """Why the day cannot be a preferred day (response and its variables), or None."""
    spoken = speak_date(date)
    now = clock.today()
    if date < now:
        return "utter_appointment_date_past", {"date": spoken}
    if date == now:
        return "utter_appointment_date_today", {}
    if (date - now).days > MAX_DAYS_AHEAD:
        return "utter_appointment_date_too_far", {"date": spoken}
    if date.weekday() >= 5:
        return "utter_appointment_date_weekend", {"date": spoken}
    holiday = nrw_holiday(date)
    if holiday:
        return "utter_appointment_date_holiday", {"date": spoken, "holiday": holiday}
    if office is not None and not office.hours.on(date.weekday()):
        open_days = [day for day in range(7) if office.hours.on(day)]
        return "utter_appointment_date_office_closed", {
            "office": the_office(office, capital=True),
            "weekday": sp.DAYS_DE[date.weekday()],
            "pronoun": PRONOUN[office.article],
            "open_days": sp.days_de(open_days),
        }
    return None


def time_problem(
    time: datetime.time, date: datetime.date | None, office: Office | None
) -> Problem | None:
    """Why the time does not fit the office's hours on that day (response, variables)."""
    if office is None or date is None:
        return None
    spans = office.hours.on(date.weekday())
    if not spans or office.hours.is_open(date.weekday(), time.hour * 60 + time.minute):
        return None
    return "utter_appointment_time_closed", {
        "time": speak_time(time),
        "office": the_office(office),
        "weekday": WEEKDAYS[date.weekday()],
        "weekday_plural": sp.capitalise(sp.DAYS_DE[date.weekday()]),
        "pronoun": PRONOUN[office.article],
        "hours": hours_on(office, date.weekday()),
    }


def iso_date(value: Any) -> datetime.date | None:
    """A date slot ("2027-03-12") as a date."""
    try:
        return datetime.date.fromisoformat(str(value))
    except ValueError:
        return None


def iso_time(value: Any) -> datetime.time | None:
    """A time slot ("14:30") as a time."""
    try:
        return datetime.time.fromisoformat(str(value))
    except ValueError:
        return None


# The parts of the request a caller can name when something is wrong (folded words).
PART_WORDS: dict[str, frozenset[str]] = {
    SERVICE: frozenset({"dienstleistung", "anliegen", "service", "thema", "leistung", "grund"}),
    DATE: frozenset({"tag", "datum", "wochentag", "wunschtag", "day", "date"})
    | frozenset(words(" ".join(WEEKDAYS))),
    TIME: frozenset({"uhrzeit", "zeit", "uhr", "wunschzeit", "time"}),
    NAME: frozenset({"name", "namen", "nachname", "vorname", "nachnamen", "vornamen"}),
    PHONE: frozenset(
        {"nummer", "telefonnummer", "rufnummer", "ruckrufnummer", "handynummer", "telefon"}
    )
    | frozenset({"handy", "number", "phone"}),
}


def named_parts(text: str) -> list[str]:
    """The slots a caller names ("die Uhrzeit und der Name"), in form order; all for "alles".
    A service named ("nein, Personalausweis") names the service."""
    said = set(words(text))
    if "alles" in said or "all" in said:
        return list(VALUE_SLOTS)
    named = {slot for slot in VALUE_SLOTS if said & PART_WORDS[slot]}
    if catalogue().find(text) is not None:
        named.add(SERVICE)
    return [slot for slot in VALUE_SLOTS if slot in named]


def summary_values(tracker: Tracker) -> dict[str, str] | None:
    """The slots as spoken in the summary; None while one is missing or broken."""
    service = service_by_id(tracker.get_slot(SERVICE))
    date = iso_date(tracker.get_slot(DATE))
    time = iso_time(tracker.get_slot(TIME))
    name = tracker.get_slot(NAME)
    phone = tracker.get_slot(PHONE)
    if service is None or date is None or time is None or not name or not phone:
        return None
    return {
        "service": the_service(service),
        "date": speak_date(date),
        "time": speak_time(time),
        "name": str(name),
        "number": spoken_number(str(phone)),
    }


def staff_summary(service: Service, date: datetime.date, time: str, name: str, phone: str) -> str:
    """One line for staff: "Terminanfrage Reisepass (Bürgerbüro): Di 12.03.2027, 14:30 Uhr;
    Anna Schmidt; Rückruf 0214123456"."""
    office = catalogue().office_of(service)
    day = f"{WEEKDAYS[date.weekday()][:2]} {date.strftime('%d.%m.%Y')}"
    return (
        f"{APPOINTMENT.label_in('de')} {service.name.de} ({office.name.de}): {day}, {time} Uhr; "
        f"{name}; Rückruf {phone}"
    )
