"""The appointment request form: service, preferred day and time, name, callback number, then
the whole request read back ("Ist das richtig?") before it is stored.

The bot does not book an appointment. It stores a request (POST /api/requests, kind
`appointment`, see requests_client.py); the office calls the caller back to confirm a time.

Flow (domain/appointment.yml, data/rules/appointment.yml):
- `request_appointment` runs action_start_appointment: clears what an earlier request in the
  call left, and prefills the service when the caller named one ("einen Termin für meinen
  Personalausweis") or asked about one before ("Was kostet ein Reisepass?" then "Ich möchte
  einen Termin"). A prefilled service is said aloud ("... für den Reisepass") and read back in
  the summary, so a wrong guess is corrected there; the bot does not ask about it separately.
- appointment_form asks what is still missing; validate_appointment_form checks each answer
  and says exactly what is wrong (unknown service, weekend, holiday, office closed, past day,
  time outside the office's hours, number too short), then the form asks again.
- appointment_confirmed is the last slot: action_ask_appointment_confirmed reads everything
  back. "ja" completes the form; "nein" asks which part is wrong (or takes the part named in
  the same sentence: "nein, die Uhrzeit") and clears that slot, so the form asks it again and
  then reads the summary again. "alles" clears everything.
- action_submit_appointment stores the request and tells the caller that the office calls
  back to confirm. "abbrechen" at any point: action_reset_appointment, utter_cancelled.
"""

from __future__ import annotations

import datetime
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from . import clock
from .catalogue import Office, Service
from .catalogue import spoken as sp
from .catalogue.match import words
from .faq import CATALOGUE, SERVICE_SLOT, service_from_entities
from .names import parse_name
from .normalise import (
    office_hours_time,
    parse_phone_number,
    parse_time,
    speak_date,
    speak_time,
)
from .normalise import parse_date as _parse_date
from .normalise.dates import WEEKDAY_NAMES
from .phone_answer import (
    MIN_PHONE_DIGITS,
    AskPhone,
    keypad_or_text,
    latest_intent,
    spoken_number,
    validate_phone,
    yes_or_no,
)
from .requests_client import store_and_confirm
from .workdays import holiday_name as nrw_holiday

KIND = "appointment"
FORM = "appointment_form"
SERVICE = "appointment_service"
DATE = "appointment_date"
TIME = "appointment_time"
NAME = "appointment_name"
PHONE = "appointment_phone"
CONFIRMED = "appointment_confirmed"
CORRECTING = "appointment_correcting"
OTHER_NUMBER = "appointment_other_number"
VALUE_SLOTS = (SERVICE, DATE, TIME, NAME, PHONE)
ALL_SLOTS = (*VALUE_SLOTS, CONFIRMED, CORRECTING, OTHER_NUMBER)

MAX_DAYS_AHEAD = 365  # a preferred day further ahead is refused ("höchstens ein Jahr")
# Catalogue services that are no appointment at an office (the Sperrmüll pick-up has its own
# form; the waste calendar is an answer, not a visit).
NO_APPOINTMENT = frozenset({"sperrmuell", "abfuhrtermine"})
# Accusative with article: "für den Reisepass", "für die Anmeldung", "für das Führungszeugnis".
ACCUSATIVE = {"der": "den", "die": "die", "das": "das"}
PRONOUN = {"der": "er", "die": "sie", "das": "es"}
WEEKDAYS = WEEKDAY_NAMES


def today() -> datetime.date:
    """The date in Leverkusen, see clock.py (tests replace this function)."""
    return clock.today()


# --- working days -------------------------------------------------------------------------


# --- what the caller said -----------------------------------------------------------------


def the_service(service: Service) -> str:
    """ "den Reisepass", "die Anmeldung" (after "für")."""
    return f"{ACCUSATIVE[service.article]} {service.name.de}"


def the_office(office: Office, capital: bool = False) -> str:
    """ "das Bürgerbüro" (or "Das Bürgerbüro" at a sentence start)."""
    text = f"{office.article} {office.name.de}"
    return sp.capitalise(text) if capital else text


def office_of(service_id: Any) -> Office | None:
    """The office of a service id in a slot, or None."""
    if isinstance(service_id, str) and service_id in CATALOGUE.services:
        return CATALOGUE.office_of(service_id)
    return None


def hours_on(office: Office, weekday: int) -> str:
    """ "von 8 bis 16 Uhr" (or two spans joined with "und") on a weekday."""
    return " und ".join(sp.span_de(span) for span in office.hours.on(weekday))


def parse_day(text: str) -> datetime.date | None:
    """The preferred day in the caller's words, or None."""
    return _parse_date(text, today())


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


def date_problem(date: datetime.date, office: Office | None) -> tuple[str, dict[str, str]] | None:
    """Why the day cannot be a preferred day (response and its variables), or None."""
    spoken = speak_date(date)
    now = today()
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
) -> tuple[str, dict[str, str]] | None:
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
    if CATALOGUE.find(text) is not None:
        named.add(SERVICE)
    return [slot for slot in VALUE_SLOTS if slot in named]


# --- actions ------------------------------------------------------------------------------


def reset_events(tracker: Tracker) -> list[EventType]:
    """Clears the form's slots that hold a value, so a second request in the same call starts
    clean. Slots already empty are left alone: a SlotSet right before the form starts would
    make rasa_sdk validate that slot (and complain about its empty value)."""
    events: list[EventType] = []
    for slot in ALL_SLOTS:
        empty = False if slot in (CORRECTING, OTHER_NUMBER) else None
        if tracker.get_slot(slot) not in (None, empty):
            events.append(SlotSet(slot, empty))
    return events


def service_said(tracker: Tracker, text: str) -> Service | None:
    """The service in the latest message: entity `service`, else the catalogue's synonyms."""
    found = service_from_entities(tracker.get_latest_entity_values("service"))
    return found if found is not None else CATALOGUE.find(text)


class ActionStartAppointment(Action):
    """Clears an earlier request's slots; prefills the service the caller named or asked
    about before, and says so."""

    def name(self) -> str:
        """Action name as used in the domain and the rules."""
        return "action_start_appointment"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Runs before appointment_form is activated."""
        events = reset_events(tracker)
        service = service_said(tracker, tracker.latest_message.get("text") or "")
        if service is None:
            previous = tracker.get_slot(SERVICE_SLOT)
            service = CATALOGUE.services.get(previous) if isinstance(previous, str) else None
        if service is None or service.id in NO_APPOINTMENT:
            dispatcher.utter_message(response="utter_appointment_start")
            return events
        dispatcher.utter_message(
            response="utter_appointment_start_service", service=the_service(service)
        )
        return [*events, SlotSet(SERVICE, service.id)]


class ActionAskAppointmentPhone(AskPhone):
    """Offers the caller's own number, else asks for the digits."""

    slot = PHONE
    other_slot = OTHER_NUMBER
    offer_own = "utter_ask_appointment_phone_caller"
    ask_digits = "utter_ask_appointment_phone"


def summary_values(tracker: Tracker) -> dict[str, str] | None:
    """The slots as spoken in the summary; None while one is missing or broken."""
    service = CATALOGUE.services.get(str(tracker.get_slot(SERVICE)))
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


class ActionAskAppointmentConfirmed(Action):
    """Reads the whole request back and asks whether it is right; after a "nein" without a
    part, asks which part is wrong."""

    def name(self) -> str:
        """Rasa calls action_ask_<slot> instead of utter_ask_<slot> when it exists."""
        return "action_ask_appointment_confirmed"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """The summary, or the question what to change."""
        values = summary_values(tracker)
        if tracker.get_slot(CORRECTING) or values is None:
            dispatcher.utter_message(response="utter_ask_appointment_correction")
        else:
            dispatcher.utter_message(response="utter_appointment_summary", **values)
        return []


class ValidateAppointmentForm(FormValidationAction):
    """Checks each answer; says exactly what is wrong, then the form asks again."""

    def name(self) -> str:
        """The validation action of appointment_form."""
        return "validate_appointment_form"

    @staticmethod
    def _no_answer(slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker) -> bool:
        """Nothing to check: an empty value (a slot cleared by an action), or "Wie bitte?" /
        "Bitte langsamer" inside the form. The form then asks its question again (for
        "langsamer" after the sentence that slows the voice down)."""
        if slot_value is None:
            return True
        intent = latest_intent(tracker)
        if intent == "speak_slower":
            dispatcher.utter_message(response="utter_speak_slower")
        return intent in ("repeat", "speak_slower")

    def _check_service(
        self, service: Service, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> dict[str, Any]:
        """The service, and the day and time cleared when they do not fit its office."""
        if service.id in NO_APPOINTMENT:
            dispatcher.utter_message(
                response="utter_appointment_service_no_appointment",
                service=the_service(service),
            )
            return {SERVICE: None}
        result: dict[str, Any] = {SERVICE: service.id}
        office = CATALOGUE.office_of(service)
        date = iso_date(tracker.get_slot(DATE))
        if date is not None:
            problem = date_problem(date, office)
            if problem is not None:
                dispatcher.utter_message(response=problem[0], **problem[1])
                return {**result, DATE: None, TIME: None}
        time = iso_time(tracker.get_slot(TIME))
        if time is not None and (problem := time_problem(time, date, office)):
            dispatcher.utter_message(response=problem[0], **problem[1])
            result[TIME] = None
        return result

    def validate_appointment_service(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """A catalogue service (its id); unknown: say so, name examples, ask again."""
        if isinstance(slot_value, str) and slot_value in CATALOGUE.services:  # prefilled
            return self._check_service(CATALOGUE.services[slot_value], dispatcher, tracker)
        if self._no_answer(slot_value, dispatcher, tracker):
            return {SERVICE: None}
        service = service_said(tracker, str(slot_value or ""))
        if service is None:
            dispatcher.utter_message(response="utter_appointment_service_unknown")
            return {SERVICE: None}
        return self._check_service(service, dispatcher, tracker)

    def validate_appointment_date(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """A future working day on which the office is open; a time said with it
        ("Dienstag um zehn") is taken too, when it fits."""
        if self._no_answer(slot_value, dispatcher, tracker):
            return {DATE: None}
        text = str(slot_value or "")
        date = parse_day(text)
        if date is None:
            dispatcher.utter_message(response="utter_appointment_date_missing")
            return {DATE: None}
        office = office_of(tracker.get_slot(SERVICE))
        problem = date_problem(date, office)
        if problem is not None:
            dispatcher.utter_message(response=problem[0], **problem[1])
            return {DATE: None}
        result: dict[str, Any] = {DATE: date.isoformat()}
        time = parse_time(text)
        time = office_hours_time(time) if time else iso_time(tracker.get_slot(TIME))
        if time is not None:
            problem = time_problem(time, date, office)
            if problem is not None:
                dispatcher.utter_message(response=problem[0], **problem[1])
            result[TIME] = None if problem else time.strftime("%H:%M")
        return result

    def validate_appointment_time(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """A clock time within the office's hours on the preferred day."""
        if self._no_answer(slot_value, dispatcher, tracker):
            return {TIME: None}
        text = keypad_or_text(slot_value, tracker)
        typed = str(slot_value or "").startswith("/dtmf")
        time = keypad_time(text) if typed else parse_clock(text)
        if time is None:
            dispatcher.utter_message(response="utter_appointment_time_missing")
            return {TIME: None}
        date = iso_date(tracker.get_slot(DATE))
        problem = time_problem(time, date, office_of(tracker.get_slot(SERVICE)))
        if problem is not None:
            dispatcher.utter_message(response=problem[0], **problem[1])
            return {TIME: None}
        return {TIME: time.strftime("%H:%M")}

    def validate_appointment_name(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """Free text, cleaned; a spelled name is put together."""
        if self._no_answer(slot_value, dispatcher, tracker):
            return {NAME: None}
        name = parse_name(str(slot_value or ""))
        if name is None:
            dispatcher.utter_message(response="utter_appointment_name_invalid")
        return {NAME: name}

    def validate_appointment_phone(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """ "ja" takes the caller's own number, "nein" asks for digits; digits need 6 to 15."""
        if self._no_answer(slot_value, dispatcher, tracker):
            return {PHONE: None}
        return validate_phone(
            slot_value,
            dispatcher,
            tracker,
            PHONE,
            OTHER_NUMBER,
            too_short="utter_appointment_phone_too_short",
            invalid="utter_appointment_phone_invalid",
        )

    def validate_appointment_confirmed(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """ "ja": done. "nein": clear the part named, or ask which one."""
        if self._no_answer(slot_value, dispatcher, tracker):
            return {CONFIRMED: None}
        text = str(slot_value or "")
        parts = named_parts(text)
        correcting = bool(tracker.get_slot(CORRECTING))
        answer = yes_or_no(text, latest_intent(tracker))
        if not correcting and answer is True:
            return {CONFIRMED: "yes", CORRECTING: False}
        if parts:
            return self._correct(parts, text, dispatcher, tracker)
        if correcting:
            # "ja" / "nichts" to "Was soll ich ändern?": read the summary again
            if answer is True or "nichts" in words(text):
                return {CONFIRMED: None, CORRECTING: False}
            dispatcher.utter_message(response="utter_appointment_correction_unclear")
            return {CONFIRMED: None, CORRECTING: True}
        if answer is False:
            return {CONFIRMED: None, CORRECTING: True}
        dispatcher.utter_message(response="utter_appointment_confirm_unclear")
        return {CONFIRMED: None}

    def _correct(
        self, parts: list[str], text: str, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> dict[str, Any]:
        """Clears the named parts, so the form asks them again. A new value said in the same
        sentence ("nein, Personalausweis", "die Uhrzeit, um drei", "der Tag: Mittwoch") is
        taken right away when it is valid."""
        result: dict[str, Any] = {CONFIRMED: None, CORRECTING: False}
        result |= {slot: None for slot in parts}
        if PHONE in parts:
            result[OTHER_NUMBER] = True  # the offered number was the wrong one
        if len(parts) > 1:
            return result
        part = parts[0]
        service = CATALOGUE.services.get(str(tracker.get_slot(SERVICE)))
        office = CATALOGUE.office_of(service) if service else None
        if part == SERVICE:
            found = service_said(tracker, text)
            if found is not None and found.id != tracker.get_slot(SERVICE):
                result |= self._check_service(found, dispatcher, tracker)
        elif part == DATE and (date := parse_day(text)) is not None:
            problem = date_problem(date, office)
            if problem is None:
                result[DATE] = date.isoformat()
                time = iso_time(tracker.get_slot(TIME))
                if time is not None and (problem := time_problem(time, date, office)):
                    result[TIME] = None
            if problem is not None:
                dispatcher.utter_message(response=problem[0], **problem[1])
        elif part == TIME and (time := parse_time(text)) is not None:
            time = office_hours_time(time)
            problem = time_problem(time, iso_date(tracker.get_slot(DATE)), office)
            if problem is None:
                result[TIME] = time.strftime("%H:%M")
            else:
                dispatcher.utter_message(response=problem[0], **problem[1])
        elif part == PHONE:
            digits = parse_phone_number(text)
            if digits and len(digits.lstrip("+")) >= MIN_PHONE_DIGITS:
                result[PHONE] = digits
        return result


def staff_summary(service: Service, date: datetime.date, time: str, name: str, phone: str) -> str:
    """One line for staff: "Terminanfrage Reisepass (Bürgerbüro): Di 12.03.2027, 14:30 Uhr;
    Anna Schmidt; Rückruf 0214123456"."""
    office = CATALOGUE.office_of(service)
    day = f"{WEEKDAYS[date.weekday()][:2]} {date.strftime('%d.%m.%Y')}"
    return (
        f"Terminanfrage {service.name.de} ({office.name.de}): {day}, {time} Uhr; "
        f"{name}; Rückruf {phone}"
    )


class ActionSubmitAppointment(Action):
    """Stores the request; the office calls back to confirm the appointment."""

    def name(self) -> str:
        """Action name as used in the domain and the rules."""
        return "action_submit_appointment"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """POST /api/requests (kind appointment), then the callback promise; the slots are
        cleared either way (on failure the handoff carries them to the agent)."""
        service = CATALOGUE.services.get(str(tracker.get_slot(SERVICE)))
        date = iso_date(tracker.get_slot(DATE))
        time = str(tracker.get_slot(TIME) or "")
        name = str(tracker.get_slot(NAME) or "")
        phone = str(tracker.get_slot(PHONE) or "")
        if service is None or date is None or not (time and name and phone):
            dispatcher.utter_message(response="utter_request_not_saved")
            return [SlotSet("requested_slot", None)]
        data = {
            "service_id": service.id,
            "service": service.name.de,
            "office": service.office,
            "date": date.isoformat(),
            "time": time,
            "name": name,
            "phone": phone,
        }
        summary = staff_summary(service, date, time, name, phone)
        saved, events = await store_and_confirm(dispatcher, KIND, tracker, data, summary)
        if saved is None:  # the handoff payload of utter_request_not_saved takes over
            return [SlotSet("requested_slot", None), *events]
        office = CATALOGUE.office_of(service)
        dispatcher.utter_message(
            response="utter_appointment_requested", office=the_office(office, capital=True)
        )
        return [SlotSet("requested_slot", None), *events, *reset_events(tracker)]


class ActionResetAppointment(Action):
    """After "abbrechen": clears the form's slots; nothing is stored."""

    def name(self) -> str:
        """Action name as used in the domain and the rules."""
        return "action_reset_appointment"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Silent; the rule says utter_cancelled after it."""
        return [SlotSet("requested_slot", None), *reset_events(tracker)]
