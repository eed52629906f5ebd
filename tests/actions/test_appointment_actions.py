"""The appointment request form (actions/appointment.py) with rasa_sdk's CollectingDispatcher:
every check of every slot, the read-back, the correction after "nein", and the request the
action server stores (a stand-in gateway, as in test_requests_client.py).

"Today" is Monday, 8 March 2027 in every test.
"""

from __future__ import annotations

import asyncio
import datetime
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from actions.appointment import (
    ActionAskAppointmentConfirmed,
    ActionAskAppointmentPhone,
    ActionResetAppointment,
    ActionStartAppointment,
    ActionSubmitAppointment,
    ValidateAppointmentForm,
)
from actions.appointment_checks import keypad_time
from actions.names import parse_name
from actions.workdays import easter_sunday
from actions.workdays import holiday_name as nrw_holiday
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from tests.actions.helpers import (
    configure,
    configured,
    make_tracker,
    run_action,
    with_gateway,
)
from tests.actions.helpers import (
    responses as said,
)

FORM = "appointment_form"

TODAY = datetime.date(2027, 3, 8)  # a Monday
DOMAIN_FILE = Path(__file__).parents[2] / "rasa_project" / "domain" / "appointment.yml"
FULL = {
    "appointment_service": "reisepass",
    "appointment_date": "2027-03-09",
    "appointment_time": "14:30",
    "appointment_name": "Anna Schmidt",
    "appointment_phone": "02141234567",
}


@pytest.fixture(autouse=True)
def fixed_today() -> Iterator[None]:
    with configured(fixed_today=TODAY):
        yield


def tracker(
    text: str = "",
    intent: str | None = None,
    metadata: dict[str, Any] | None = None,
    events: list[dict[str, Any]] | None = None,
    **kwargs: Any,
) -> Tracker:
    events = events or []
    return make_tracker(
        text, intent, sender="call-7", metadata=metadata, events=events, loop=FORM, **kwargs
    )


def validate(slot: str, value: Any, t: Tracker) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Calls validate_<slot> as rasa_sdk does; returns the slot values and what was said."""
    dispatcher = CollectingDispatcher()
    method = getattr(ValidateAppointmentForm(), f"validate_{slot}")
    return method(value, dispatcher, t, {}), dispatcher.messages


# --- service ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "entities", "slots", "expected", "responses"),
    [
        ("den reisepass", [], {}, {"appointment_service": "reisepass"}, []),
        ("es geht um meinen perso", [], {}, {"appointment_service": "personalausweis"}, []),
        (
            "um die zulassung",
            [{"entity": "service", "value": "kfz_zulassung"}],
            {},
            {"appointment_service": "kfz_zulassung"},
            [],
        ),
        ("reisepass", [], {}, {"appointment_service": "reisepass"}, []),  # prefilled id
        (
            "blumenkohl",
            [],
            {},
            {"appointment_service": None},
            ["utter_appointment_service_unknown"],
        ),
        (
            "weiß ich nicht",
            [],
            {},
            {"appointment_service": None},
            ["utter_appointment_service_unknown"],
        ),
        (
            "sperrmüll",
            [],
            {},
            {"appointment_service": None},
            ["utter_appointment_service_no_appointment"],
        ),
        # the Fundbüro is closed on Wednesdays: the day chosen before no longer fits
        (
            "eine fundsache abholen",
            [],
            {"appointment_date": "2027-03-10", "appointment_time": "10:00"},
            {
                "appointment_service": "fundbuero",
                "appointment_date": None,
                "appointment_time": None,
            },
            ["utter_appointment_date_office_closed"],
        ),
        # the Fundbüro closes at 12 on Tuesdays: the time no longer fits, the day does
        (
            "fundsache",
            [],
            {"appointment_date": "2027-03-09", "appointment_time": "14:30"},
            {"appointment_service": "fundbuero", "appointment_time": None},
            ["utter_appointment_time_closed"],
        ),
    ],
)
def test_service(
    text: str,
    entities: list[dict[str, Any]],
    slots: dict[str, Any],
    expected: dict[str, Any],
    responses: list[str],
) -> None:
    result, messages = validate(
        "appointment_service", text, tracker(text, "inform_service", entities=entities, **slots)
    )
    assert result == expected
    assert said(messages) == responses


# --- day ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "service", "expected", "response"),
    [
        ("nächsten dienstag", "reisepass", {"appointment_date": "2027-03-09"}, None),
        ("am zwölften märz", None, {"appointment_date": "2027-03-12"}, None),
        (
            "weiß ich nicht",
            "reisepass",
            {"appointment_date": None},
            "utter_appointment_date_missing",
        ),
        ("am sonntag", "reisepass", {"appointment_date": None}, "utter_appointment_date_weekend"),
        ("samstag", "reisepass", {"appointment_date": None}, "utter_appointment_date_weekend"),
        ("gestern", "reisepass", {"appointment_date": None}, "utter_appointment_date_past"),
        ("am 1.3.2027", "reisepass", {"appointment_date": None}, "utter_appointment_date_past"),
        ("heute", "reisepass", {"appointment_date": None}, "utter_appointment_date_today"),
        ("am 26.3.", "reisepass", {"appointment_date": None}, "utter_appointment_date_holiday"),
        ("am 1.4.2030", "reisepass", {"appointment_date": None}, "utter_appointment_date_too_far"),
        (
            "mittwoch",
            "fundbuero",
            {"appointment_date": None},
            "utter_appointment_date_office_closed",
        ),
        (
            "dienstag um halb drei",
            "reisepass",
            {"appointment_date": "2027-03-09", "appointment_time": "14:30"},
            None,
        ),
        (
            "dienstag um sieben",
            "reisepass",
            {"appointment_date": "2027-03-09", "appointment_time": None},
            "utter_appointment_time_closed",
        ),
    ],
)
def test_day(
    text: str, service: str | None, expected: dict[str, Any], response: str | None
) -> None:
    result, messages = validate(
        "appointment_date", text, tracker(text, "nlu_fallback", appointment_service=service)
    )
    assert result == expected
    assert said(messages) == ([response] if response else [])


def test_the_day_is_named_when_refused() -> None:
    _, messages = validate("appointment_date", "sonntag", tracker("sonntag"))
    assert messages[0]["date"] == "Sonntag, den vierzehnten März"
    _, messages = validate("appointment_date", "am 26.3.", tracker("am 26.3."))
    assert messages[0]["holiday"] == "Karfreitag"
    _, messages = validate(
        "appointment_date", "mittwoch", tracker("mittwoch", appointment_service="fundbuero")
    )
    assert messages[0]["office"] == "Das Fundbüro" and messages[0]["weekday"] == "mittwochs"
    assert messages[0]["open_days"] == "montags, dienstags, donnerstags und freitags"


def test_a_new_day_rechecks_the_time_said_before() -> None:
    """Correcting the day from Thursday (open until 18) to Tuesday (until 16) drops 17:00."""
    t = tracker("dienstag", appointment_service="reisepass", appointment_time="17:00")
    result, messages = validate("appointment_date", "dienstag", t)
    assert result == {"appointment_date": "2027-03-09", "appointment_time": None}
    assert said(messages) == ["utter_appointment_time_closed"]


# --- time ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "date", "expected", "response"),
    [
        ("um halb drei", "2027-03-09", "14:30", None),
        ("zehn", "2027-03-09", "10:00", None),
        ("vierzehn uhr dreißig", "2027-03-09", "14:30", None),
        ("viertel nach acht", "2027-03-09", "08:15", None),
        ("um sieben", "2027-03-09", None, "utter_appointment_time_closed"),
        ("um siebzehn uhr", "2027-03-09", None, "utter_appointment_time_closed"),
        ("um siebzehn uhr", "2027-03-11", "17:00", None),  # Thursdays until 18
        ("weiß ich nicht", "2027-03-09", None, "utter_appointment_time_missing"),
        ("egal", "2027-03-09", None, "utter_appointment_time_missing"),
    ],
)
def test_time(text: str, date: str, expected: str | None, response: str | None) -> None:
    t = tracker(text, appointment_service="reisepass", appointment_date=date)
    result, messages = validate("appointment_time", text, t)
    assert result == {"appointment_time": expected}
    assert said(messages) == ([response] if response else [])


def test_a_time_outside_the_hours_names_the_hours_of_that_day() -> None:
    t = tracker("um sieben", appointment_service="reisepass", appointment_date="2027-03-09")
    _, messages = validate("appointment_time", "um sieben", t)
    assert {k: messages[0][k] for k in ("time", "office", "weekday", "hours")} == {
        "time": "sieben Uhr",
        "office": "das Bürgerbüro",
        "weekday": "Dienstag",
        "hours": "von 8 bis 16 Uhr",
    }
    t = tracker("um eins", appointment_service="fundbuero", appointment_date="2027-03-11")
    _, messages = validate("appointment_time", "um eins", t)
    assert messages[0]["hours"] == "von 8 bis 12 Uhr und von 14 bis 18 Uhr"


# --- name ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Anna Schmidt.", "Anna Schmidt"),
        ("mein name ist anna schmidt", "Anna Schmidt"),
        ("ich heiße Jörg Müller-Lüdenscheidt", "Jörg Müller-Lüdenscheidt"),
        ("hans von der heide bitte", "Hans von der Heide"),
        ("S C H M I D T", "Schmidt"),
        ("M wie Martha, E, I, E, R", "Meier"),
        ("Otto", "Otto"),  # a code word alone is a name, not the letter O
        ("ja", None),
        ("weiß ich nicht", None),
        ("12345", None),
        ("", None),
    ],
)
def test_name(text: str, expected: str | None) -> None:
    assert parse_name(text) == expected
    result, messages = validate("appointment_name", text, tracker(text))
    assert result == {"appointment_name": expected}
    assert said(messages) == ([] if expected else ["utter_appointment_name_invalid"])


# --- callback number ----------------------------------------------------------------------

CALLER = {"caller": "+4921477123"}


@pytest.mark.parametrize(
    ("text", "intent", "metadata", "other", "expected", "response"),
    [
        ("ja", "affirm", CALLER, False, {"appointment_phone": "+4921477123"}, None),
        ("ja gerne", "affirm", CALLER, False, {"appointment_phone": "+4921477123"}, None),
        (
            "nein",
            "deny",
            CALLER,
            False,
            {"appointment_phone": None, "appointment_other_number": True},
            None,
        ),
        (
            "null zwei eins vier drei fünf sechs sieben acht",
            None,
            CALLER,
            True,
            {"appointment_phone": "021435678"},
            None,
        ),
        ("0214 123456", None, {}, False, {"appointment_phone": "0214123456"}, None),
        (
            "eins zwei drei",
            None,
            {},
            False,
            {"appointment_phone": None, "appointment_other_number": True},
            "utter_appointment_phone_too_short",
        ),
        (
            "ja",  # no own number was offered: "ja" is no number
            "affirm",
            {},
            False,
            {"appointment_phone": None, "appointment_other_number": True},
            "utter_appointment_phone_invalid",
        ),
        (
            "das weiß ich nicht",
            None,
            CALLER,
            True,
            {"appointment_phone": None, "appointment_other_number": True},
            "utter_appointment_phone_invalid",
        ),
    ],
)
def test_callback_number(
    text: str,
    intent: str | None,
    metadata: dict[str, Any],
    other: bool,
    expected: dict[str, Any],
    response: str | None,
) -> None:
    t = tracker(text, intent, metadata, appointment_other_number=other)
    result, messages = validate("appointment_phone", text, t)
    assert result == expected
    assert said(messages) == ([response] if response else [])


def test_a_short_number_is_read_back() -> None:
    _, messages = validate("appointment_phone", "eins zwei drei", tracker("eins zwei drei"))
    assert messages[0]["number"] == "1 2 3"


def test_typed_digits() -> None:
    text = '/dtmf{"dtmf_digits":"021435678#"}'
    t = tracker(text, "dtmf", entities=[{"entity": "dtmf_digits", "value": "021435678#"}])
    result, _ = validate("appointment_phone", text, t)
    assert result == {"appointment_phone": "021435678"}


@pytest.mark.parametrize(
    ("metadata", "other", "response"),
    [
        (CALLER, False, "utter_ask_appointment_phone_caller"),
        (CALLER, True, "utter_ask_appointment_phone"),
        ({}, False, "utter_ask_appointment_phone"),
    ],
)
def test_the_number_question(metadata: dict[str, Any], other: bool, response: str) -> None:
    messages, _ = run_action(
        ActionAskAppointmentPhone(), tracker(metadata=metadata, appointment_other_number=other)
    )
    assert said(messages) == [response]


# --- read-back and correction ---------------------------------------------------------------


def test_the_summary_reads_everything_back() -> None:
    messages, events = run_action(ActionAskAppointmentConfirmed(), tracker(**FULL))
    assert events == []
    assert said(messages) == ["utter_appointment_summary"]
    values = {k: messages[0][k] for k in ("service", "date", "time", "name", "number")}
    assert values == {
        "service": "den Reisepass",
        "date": "Dienstag, den neunten März",
        "time": "vierzehn Uhr dreißig",
        "name": "Anna Schmidt",
        "number": "0 2 1 4 1 2 3 4 5 6 7",
    }
    text = yaml.safe_load(DOMAIN_FILE.read_text())["responses"]["utter_appointment_summary"]
    assert text[0]["text"].format(**values) == (
        "Ich fasse zusammen: Termin für den Reisepass, am Dienstag, den neunten März, um "
        "vierzehn Uhr dreißig. Name: Anna Schmidt. Rückrufnummer: 0 2 1 4 1 2 3 4 5 6 7. "
        "Ist das richtig?"
    )


def test_after_no_it_asks_what_to_change() -> None:
    messages, _ = run_action(
        ActionAskAppointmentConfirmed(), tracker(appointment_correcting=True, **FULL)
    )
    assert said(messages) == ["utter_ask_appointment_correction"]


@pytest.mark.parametrize(
    ("text", "intent", "correcting", "expected", "responses"),
    [
        (
            "ja",
            "affirm",
            False,
            {"appointment_confirmed": True, "appointment_correcting": False},
            [],
        ),
        (
            "ja das stimmt so",
            None,
            False,
            {"appointment_confirmed": True, "appointment_correcting": False},
            [],
        ),
        (
            "nein",
            "deny",
            False,
            {"appointment_confirmed": None, "appointment_correcting": True},
            [],
        ),
        (
            "das stimmt nicht",
            None,
            False,
            {"appointment_confirmed": None, "appointment_correcting": True},
            [],
        ),
        (
            "nein die uhrzeit ist falsch",
            "deny",
            False,
            {
                "appointment_confirmed": None,
                "appointment_correcting": False,
                "appointment_time": None,
            },
            [],
        ),
        (
            "der name",
            None,
            True,
            {
                "appointment_confirmed": None,
                "appointment_correcting": False,
                "appointment_name": None,
            },
            [],
        ),
        (
            "die nummer",
            None,
            True,
            {
                "appointment_confirmed": None,
                "appointment_correcting": False,
                "appointment_phone": None,
                "appointment_other_number": True,
            },
            [],
        ),
        # the new value in the same sentence is taken right away
        (
            "die uhrzeit um drei",
            None,
            True,
            {
                "appointment_confirmed": None,
                "appointment_correcting": False,
                "appointment_time": "15:00",
            },
            [],
        ),
        (
            "nein der tag ist donnerstag",
            "deny",
            False,
            {
                "appointment_confirmed": None,
                "appointment_correcting": False,
                "appointment_date": "2027-03-11",
            },
            [],
        ),
        (
            "nein nicht reisepass sondern personalausweis",
            "deny",
            False,
            {
                "appointment_confirmed": None,
                "appointment_correcting": False,
                "appointment_service": "personalausweis",
            },
            [],
        ),
        (
            "die uhrzeit um sieben",  # outside the hours: cleared, the form asks again
            None,
            True,
            {
                "appointment_confirmed": None,
                "appointment_correcting": False,
                "appointment_time": None,
            },
            ["utter_appointment_time_closed"],
        ),
        (
            "alles falsch",
            None,
            False,
            {
                "appointment_confirmed": None,
                "appointment_correcting": False,
                "appointment_service": None,
                "appointment_date": None,
                "appointment_time": None,
                "appointment_name": None,
                "appointment_phone": None,
                "appointment_other_number": True,
            },
            [],
        ),
        (
            "vielleicht",
            None,
            False,
            {"appointment_confirmed": None},
            ["utter_appointment_confirm_unclear"],
        ),
        (
            "keine ahnung",
            None,
            True,
            {"appointment_confirmed": None, "appointment_correcting": True},
            ["utter_appointment_correction_unclear"],
        ),
        # "nichts" / "ja" to "Was soll ich ändern?": the summary is read again
        (
            "nichts",
            None,
            True,
            {"appointment_confirmed": None, "appointment_correcting": False},
            [],
        ),
    ],
)
def test_confirmation(
    text: str,
    intent: str | None,
    correcting: bool,
    expected: dict[str, Any],
    responses: list[str],
) -> None:
    t = tracker(text, intent, appointment_correcting=correcting, **FULL)
    result, messages = validate("appointment_confirmed", text, t)
    assert result == expected
    assert said(messages) == responses


def test_wie_bitte_asks_the_same_question_again() -> None:
    result, messages = validate("appointment_name", "wie bitte", tracker("wie bitte", "repeat"))
    assert result == {"appointment_name": None} and messages == []
    slower = tracker("bitte langsamer", "speak_slower", **FULL)
    result, messages = validate("appointment_confirmed", "bitte langsamer", slower)
    assert result == {"appointment_confirmed": None}
    assert said(messages) == ["utter_speak_slower"]


def test_the_sdk_runs_the_validation_with_the_domain() -> None:
    """The whole FormValidationAction.run with the real domain file: the extracted text is
    validated and the SDK turns the result into slot events."""
    domain = yaml.safe_load(DOMAIN_FILE.read_text())
    events = [
        {"event": "user", "text": "am sonntag", "parse_data": {}},
        {"event": "slot", "name": "appointment_date", "value": "am sonntag"},
    ]
    t = tracker(
        "am sonntag",
        events=events,
        appointment_service="reisepass",
        appointment_date="am sonntag",
        requested_slot="appointment_date",
    )
    dispatcher = CollectingDispatcher()
    result = asyncio.run(ValidateAppointmentForm().run(dispatcher, t, domain))
    assert SlotSet("appointment_date", None) in result
    assert said(dispatcher.messages) == ["utter_appointment_date_weekend"]


# --- start, cancel ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "entities", "previous", "service", "response"),
    [
        (
            "ich brauche einen termin für meinen personalausweis",
            [{"entity": "service", "value": "personalausweis"}],
            None,
            "personalausweis",
            "utter_appointment_start_service",
        ),
        (
            "einen termin für den reisepass bitte",
            [],
            None,
            "reisepass",
            "utter_appointment_start_service",
        ),
        # "Was kostet ein Reisepass?" before: the service asked about is taken
        (
            "ich möchte einen termin",
            [],
            "reisepass",
            "reisepass",
            "utter_appointment_start_service",
        ),
        ("ich möchte einen termin", [], None, None, "utter_appointment_start"),
        ("einen termin im bürgerbüro", [], None, None, "utter_appointment_start"),
        ("ich möchte einen termin", [], "sperrmuell", None, "utter_appointment_start"),
    ],
)
def test_start(
    text: str,
    entities: list[dict[str, Any]],
    previous: str | None,
    service: str | None,
    response: str,
) -> None:
    t = tracker(text, "request_appointment", entities=entities, service=previous, **FULL)
    messages, events = run_action(ActionStartAppointment(), t)
    assert said(messages) == [response]
    assert SlotSet("appointment_name", None) in events, "an earlier request's slots are cleared"
    service_events = [e for e in events if e["name"] == "appointment_service"]
    assert service_events[-1] == SlotSet("appointment_service", service)
    if service == "reisepass":
        assert messages[0]["service"] == "den Reisepass"


def test_cancel_clears_everything_and_says_nothing() -> None:
    t = tracker(
        appointment_confirmed=True,
        appointment_correcting=True,
        appointment_other_number=True,
        **FULL,
    )
    messages, events = run_action(ActionResetAppointment(), t)
    assert messages == []
    assert {e["name"]: e["value"] for e in events} == {
        "requested_slot": None,
        **{slot: None for slot in FULL},
        "appointment_confirmed": None,
        "appointment_correcting": False,
        "appointment_other_number": False,
    }


def test_only_filled_slots_are_cleared_before_the_form_starts() -> None:
    """A SlotSet right before the form starts makes rasa_sdk validate that slot: clearing
    empty slots there made the form complain about every one of them."""
    messages, events = run_action(
        ActionStartAppointment(), tracker("termin", "request_appointment")
    )
    assert events == [] and said(messages) == ["utter_appointment_start"]
    for slot in (*FULL, "appointment_confirmed"):
        assert validate(slot, None, tracker()) == ({slot: None}, [])


# --- holidays -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("date", "name"),
    [
        ("2027-01-01", "Neujahr"),
        ("2027-03-26", "Karfreitag"),
        ("2027-03-29", "Ostermontag"),
        ("2027-05-06", "Christi Himmelfahrt"),
        ("2027-05-17", "Pfingstmontag"),
        ("2027-05-27", "Fronleichnam"),
        ("2026-06-04", "Fronleichnam"),
        ("2027-10-03", "Tag der Deutschen Einheit"),
        ("2027-11-01", "Allerheiligen"),
        ("2027-12-24", None),  # Heiligabend is no public holiday
        ("2027-03-09", None),
    ],
)
def test_nrw_holidays(date: str, name: str | None) -> None:
    assert nrw_holiday(datetime.date.fromisoformat(date)) == name


def test_easter() -> None:
    assert [easter_sunday(y).isoformat() for y in (2024, 2025, 2026, 2027, 2038)] == [
        "2024-03-31",
        "2025-04-20",
        "2026-04-05",
        "2027-03-28",
        "2038-04-25",
    ]


# --- submit -------------------------------------------------------------------------------


def submit_with_gateway(
    t: Tracker, status: int = 201
) -> tuple[list[dict[str, Any]], list[Any], list[dict[str, Any]]]:
    """Runs action_submit_appointment against a stand-in gateway; returns what the caller
    heard, the events and the bodies the gateway received."""
    answer = {"id": "K7M42X", "id_spoken": "K, 7, M, 4, 2, X", "outbox": []}
    result: list[Any] = []

    async def scenario(url: str) -> None:
        configure(gateway_url=url)
        dispatcher = CollectingDispatcher()
        events = await ActionSubmitAppointment().run(dispatcher, t, {})
        result.append((dispatcher.messages, events))

    seen = asyncio.run(with_gateway(status, answer if status == 201 else {"error": "no"}, scenario))
    messages, events = result[0]
    return messages, events, [body for _, body in seen]


def test_submit_stores_the_request_and_promises_the_callback() -> None:
    t = tracker("ja", "affirm", CALLER, appointment_confirmed=True, **FULL)
    messages, events, bodies = submit_with_gateway(t)
    assert len(bodies) == 1
    body = bodies[0]
    assert body["kind"] == "appointment" and body["call_id"] == "call-7"
    assert body["caller"] == "+4921477123"
    assert body["data"] == {
        "service_id": "reisepass",
        "service": "Reisepass",
        "office": "buergerbuero",
        "date": "2027-03-09",
        "time": "14:30",
        "name": "Anna Schmidt",
        "phone": "02141234567",
    }
    assert body["summary"] == (
        "Terminanfrage Reisepass (Bürgerbüro): Di 09.03.2027, 14:30 Uhr; Anna Schmidt; "
        "Rückruf 02141234567"
    )
    assert said(messages) == ["utter_request_saved", "utter_appointment_requested"]
    assert messages[0]["reference"] == "K, 7, M, 4, 2, X"
    assert messages[1]["office"] == "Das Bürgerbüro"
    assert SlotSet("request_reference", "K7M42X") in events
    assert SlotSet("appointment_service", None) in events, "a second request starts clean"


def test_submit_refused_hands_over_with_the_slots_kept() -> None:
    t = tracker("ja", "affirm", appointment_confirmed=True, **FULL)
    messages, events, bodies = submit_with_gateway(t, status=400)
    assert len(bodies) == 1
    assert said(messages) == ["utter_request_not_saved"]
    assert not any(e.get("name", "").startswith("appointment_") for e in events)


def test_submit_without_a_gateway() -> None:
    messages, _ = run_action(ActionSubmitAppointment(), tracker(appointment_confirmed=True, **FULL))
    assert said(messages) == ["utter_request_not_saved"]


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("10", "10:00"),
        ("10#", "10:00"),
        ("930", "09:30"),
        ("1415", "14:15"),
        ("3", "15:00"),
        ("2460", None),
        ("99", None),
        ("", None),
        ("12345", None),
    ],
)
def test_a_time_typed_on_the_keypad(typed: str, expected: str | None) -> None:
    found = keypad_time(typed)
    assert (found.strftime("%H:%M") if found else None) == expected
