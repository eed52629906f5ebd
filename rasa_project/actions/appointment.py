# mypy: disallow-subclassing-any=False
# (rasa_sdk 3.6 ships no py.typed: its Action and FormValidationAction are Any to mypy)
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
- appointment_confirmed is the last slot: the read-back, confirm and correct step of
  form_base.py (shared with the other forms). "ja" completes the form; "nein" asks which part
  is wrong (or takes the part named in the same sentence: "nein, die Uhrzeit", with a new
  value: "die Uhrzeit, um drei") and clears that slot. "alles" clears everything.
- The checks and words (office hours, holidays, summaries) are in appointment_checks.py.
- action_submit_appointment stores the request and tells the caller that the office calls
  back to confirm. "abbrechen" at any point: action_reset_appointment, utter_cancelled.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from .answers import keypad_or_text, no_answer
from .appointment_checks import (
    CONFIRMED,
    CORRECTING,
    DATE,
    FLAG_SLOTS,
    NAME,
    NO_APPOINTMENT,
    OTHER_NUMBER,
    PHONE,
    SERVICE,
    TIME,
    VALUE_SLOTS,
    date_problem,
    iso_date,
    iso_time,
    keypad_time,
    named_parts,
    office_of,
    parse_clock,
    parse_day,
    staff_summary,
    summary_values,
    the_office,
    the_service,
    time_problem,
)
from .catalogue import Service
from .form_base import AskReadBack, ReadBack, ReadBackForm, reset_events
from .kinds import APPOINTMENT
from .names import parse_name
from .normalise import office_hours_time, parse_phone_number, parse_time
from .phone_answer import MIN_PHONE_DIGITS, AskPhone, validate_phone
from .requests_client import store_and_confirm
from .services import SERVICE_SLOT, catalogue, service_by_id, service_said

FORM = "appointment_form"
READ_BACK = ReadBack(
    confirmed=CONFIRMED,
    parts=VALUE_SLOTS,
    unclear="utter_appointment_confirm_unclear",
    correcting=CORRECTING,
    correction_unclear="utter_appointment_correction_unclear",
    phone=PHONE,
    other_number=OTHER_NUMBER,
)


def _reset(tracker: Tracker) -> list[EventType]:
    """Clears what an earlier request in the call left (form_base.reset_events)."""
    return reset_events(tracker, (*VALUE_SLOTS, CONFIRMED), FLAG_SLOTS)


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
        events = _reset(tracker)
        service = service_said(tracker, tracker.latest_message.get("text") or "")
        if service is None:
            service = service_by_id(tracker.get_slot(SERVICE_SLOT))
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


class ActionAskAppointmentConfirmed(AskReadBack):
    """Reads the whole request back and asks whether it is right; after a "nein" without a
    part, asks which part is wrong."""

    read_back = READ_BACK
    summary_response = "utter_appointment_summary"
    correction_response = "utter_ask_appointment_correction"

    def summary(self, tracker: Tracker) -> dict[str, str] | None:
        """Service, day, time, name and number as spoken."""
        return summary_values(tracker)


class ValidateAppointmentForm(ReadBackForm):
    """Checks each answer; says exactly what is wrong, then the form asks again."""

    read_back = READ_BACK

    def name(self) -> str:
        """The validation action of appointment_form."""
        return "validate_appointment_form"

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
        office = catalogue().office_of(service)
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
        prefilled = service_by_id(slot_value)
        if prefilled is not None:
            return self._check_service(prefilled, dispatcher, tracker)
        if no_answer(slot_value, dispatcher, tracker):
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
        if no_answer(slot_value, dispatcher, tracker):
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
        if no_answer(slot_value, dispatcher, tracker):
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
        if no_answer(slot_value, dispatcher, tracker):
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
        if no_answer(slot_value, dispatcher, tracker):
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
        """ "ja": done. "nein": clear the part named, or ask which one (form_base.py)."""
        return self.confirm(slot_value, dispatcher, tracker)

    def named_parts(self, text: str, tracker: Tracker) -> list[str]:
        """ "die Uhrzeit und der Name", a service named, or "alles"."""
        return named_parts(text)

    def take_new_value(
        self, part: str, text: str, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> dict[str, Any]:
        """A new value said in the same sentence ("nein, Personalausweis", "die Uhrzeit, um
        drei", "der Tag: Mittwoch") is taken right away when it is valid."""
        result: dict[str, Any] = {}
        service = service_by_id(tracker.get_slot(SERVICE))
        office = catalogue().office_of(service) if service else None
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
        service = service_by_id(tracker.get_slot(SERVICE))
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
        saved, events = await store_and_confirm(dispatcher, APPOINTMENT, tracker, data, summary)
        if saved is None:  # the handoff payload of utter_request_not_saved takes over
            return [SlotSet("requested_slot", None), *events]
        office = catalogue().office_of(service)
        dispatcher.utter_message(
            response="utter_appointment_requested", office=the_office(office, capital=True)
        )
        return [SlotSet("requested_slot", None), *events, *_reset(tracker)]


class ActionResetAppointment(Action):
    """After "abbrechen": clears the form's slots; nothing is stored."""

    def name(self) -> str:
        """Action name as used in the domain and the rules."""
        return "action_reset_appointment"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Silent; the rule says utter_cancelled after it."""
        return [SlotSet("requested_slot", None), *_reset(tracker)]
