"""The Sperrmüll pre-check (actions/sperrmuell.py, actions/workdays.py) with rasa_sdk's
CollectingDispatcher: every validation, the read-back, the stored request. "Today" is pinned
(the settings' fixed_today), so the results do not depend on the day the tests run.
Run by the Rasa interpreter: `make test-actions`."""

from __future__ import annotations

import asyncio
import datetime
from collections.abc import Iterator
from typing import Any

import pytest
from actions.names import parse_name
from actions.normalise import parse_address, parse_items
from actions.settings import load_settings
from actions.sperrmuell import (
    ActionAskSperrmuellConfirmed,
    ActionAskSperrmuellDate,
    ActionAskSperrmuellPhone,
    ActionResetSperrmuell,
    ActionSubmitSperrmuell,
    ValidateSperrmuellForm,
)
from actions.sperrmuell_rules import check_date, earliest_date, summary_for_caller
from actions.workdays import add_working_days, easter_sunday, is_working_day, nrw_holidays
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from tests.actions.helpers import (
    configure,
    configured,
    make_tracker,
    with_gateway,
    with_variables,
)

# Friday 5 March 2027; with 5 working days the earliest date is Friday 12 March.
TODAY = datetime.date(2027, 3, 5)
CALLER = "+4921477123"


@pytest.fixture(autouse=True)
def pinned_today() -> Iterator[None]:
    with configured(fixed_today=TODAY):
        yield


def tracker(text: str = "", intent: str = "nlu_fallback", **kwargs: Any) -> Tracker:
    return make_tracker(text, intent, sender="CA-sperr", **kwargs)


def validate(slot: str, text: str, intent: str = "nlu_fallback", **kwargs: Any) -> tuple:
    """Runs validate_<slot> on the answer `text`: (slot values, what the caller hears)."""
    dispatcher = CollectingDispatcher()
    method = getattr(ValidateSperrmuellForm(), f"validate_{slot}")
    result = method(text, dispatcher, tracker(text, intent, **kwargs), {})
    return result, with_variables(dispatcher.messages)


def names(messages: list[tuple[str, dict[str, Any]]]) -> list[str]:
    return [name for name, _ in messages]


# --- workdays ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("year", "easter"),
    [(2024, (3, 31)), (2025, (4, 20)), (2026, (4, 5)), (2027, (3, 28)), (2030, (4, 21))],
)
def test_easter_sunday(year: int, easter: tuple[int, int]) -> None:
    assert easter_sunday(year) == datetime.date(year, *easter)


def test_nrw_holidays_2026() -> None:
    holidays = {d.isoformat(): name for d, name in nrw_holidays(2026).items()}
    assert holidays == {
        "2026-01-01": "Neujahr",
        "2026-04-03": "Karfreitag",
        "2026-04-06": "Ostermontag",
        "2026-05-01": "Tag der Arbeit",
        "2026-05-14": "Christi Himmelfahrt",
        "2026-05-25": "Pfingstmontag",
        "2026-06-04": "Fronleichnam",
        "2026-10-03": "Tag der Deutschen Einheit",
        "2026-11-01": "Allerheiligen",
        "2026-12-25": "erster Weihnachtstag",
        "2026-12-26": "zweiter Weihnachtstag",
    }


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        ("2027-03-05", 5, "2027-03-12"),  # Friday -> next Friday
        ("2027-03-06", 1, "2027-03-08"),  # Saturday -> Monday
        ("2026-04-02", 1, "2026-04-07"),  # Thursday before Easter -> Tuesday after
        ("2026-12-23", 2, "2026-12-28"),  # Christmas on Friday and Saturday
        ("2027-03-05", 0, "2027-03-05"),
    ],
)
def test_add_working_days(start: str, days: int, expected: str) -> None:
    result = add_working_days(datetime.date.fromisoformat(start), days)
    assert result.isoformat() == expected
    assert days == 0 or is_working_day(result)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, 5), ("3", 3), (" 10 ", 10), ("0", 5), ("61", 5), ("fünf", 5), ("-2", 5)],
)
def test_lead_days_from_the_environment(value: str | None, expected: int) -> None:
    environ = {} if value is None else {"VOICEBOT_SPERRMUELL_LEAD_DAYS": value}
    assert load_settings(environ).sperrmuell_lead_days == expected


# --- address ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "street", "house", "postcode"),
    [
        ("Hauptstraße 12, 51373 Leverkusen", "Hauptstraße", "12", "51373"),
        ("in der kölner straße zwölf fünf eins drei sieben drei", "Kölner Straße", "12", "51373"),
        ("Die Adresse ist Am Stadtpark 5a in 51379 Leverkusen.", "Am Stadtpark", "5a", "51379"),
        ("Wiesdorfer Platz 12 bis 14, Postleitzahl 51373", "Wiesdorfer Platz", "12-14", "51373"),
        ("Bergische Landstraße 7 b 51375", "Bergische Landstraße", "7b", "51375"),
        ("Hauptstraße zwölf a, fünf eins drei sieben drei", "Hauptstraße", "12a", "51373"),
        ("ich wohne in der Kölner Str. 3", "Kölner Str.", "3", None),
        ("Hauptstraße 12", "Hauptstraße", "12", None),
        ("Hauptstraße", "Hauptstraße", None, None),
        ("Hauptstraße 51373", "Hauptstraße", None, "51373"),
        ("zwölf", None, "12", None),
        ("Hauptstraße 50670 Köln", "Hauptstraße", None, "50670"),
        ("an der wiese 3", "An der Wiese", "3", None),
        ("51373 Leverkusen, Hauptstraße 12", "Hauptstraße", "12", "51373"),
        ("Hauptstraße Hausnummer 12 Postleitzahl 51373", "Hauptstraße", "12", "51373"),
        ("hauptstraße zwölf postleitzahl fünf eins drei sieben drei", "Hauptstraße", "12", "51373"),
        ("Hauptstraße Nummer zwölf", "Hauptstraße", "12", None),
        ("ähm moment", None, None, None),
        ("", None, None, None),
    ],
)
def test_parse_address(
    text: str, street: str | None, house: str | None, postcode: str | None
) -> None:
    address = parse_address(text)
    assert (address.street, address.house_number, address.postcode) == (street, house, postcode)


@pytest.mark.parametrize(
    ("text", "slots", "said"),
    [
        (
            "Hauptstraße 12, 51373 Leverkusen",
            {
                "sperrmuell_street": "Hauptstraße",
                "sperrmuell_house_number": "12",
                "sperrmuell_postcode": "51373",
            },
            [],
        ),
        (
            "Hauptstraße, 51373",
            {
                "sperrmuell_street": "Hauptstraße",
                "sperrmuell_house_number": None,
                "sperrmuell_postcode": "51373",
            },
            [("utter_sperrmuell_address_missing", {"verb": "fehlt", "missing": "die Hausnummer"})],
        ),
        (
            "Hauptstraße",
            {
                "sperrmuell_street": "Hauptstraße",
                "sperrmuell_house_number": None,
                "sperrmuell_postcode": None,
            },
            [
                (
                    "utter_sperrmuell_address_missing",
                    {"verb": "fehlen", "missing": "die Hausnummer und die Postleitzahl"},
                )
            ],
        ),
        (
            "ähm moment",
            {
                "sperrmuell_street": None,
                "sperrmuell_house_number": None,
                "sperrmuell_postcode": None,
            },
            [
                (
                    "utter_sperrmuell_address_missing",
                    {
                        "verb": "fehlen",
                        "missing": "der Straßenname, die Hausnummer und die Postleitzahl",
                    },
                )
            ],
        ),
        (
            "Domstraße 4, 50670 Köln",
            {
                "sperrmuell_street": "Domstraße",
                "sperrmuell_house_number": "4",
                "sperrmuell_postcode": None,
            },
            [("utter_sperrmuell_postcode_outside", {"postcode": "fünf null sechs sieben null"})],
        ),
    ],
)
def test_validate_address(text: str, slots: dict[str, Any], said: list) -> None:
    assert validate("sperrmuell_street", text) == (slots, said)


def test_a_second_address_answer_keeps_what_was_said_before() -> None:
    result, said = validate(
        "sperrmuell_street",
        "Hauptstraße",
        sperrmuell_house_number="12",
        sperrmuell_postcode="51373",
    )
    assert result == {
        "sperrmuell_street": "Hauptstraße",
        "sperrmuell_house_number": "12",
        "sperrmuell_postcode": "51373",
    }
    assert said == []


@pytest.mark.parametrize(
    ("text", "house", "said"),
    [
        ("zwölf a", "12a", []),
        ("Nummer 7", "7", []),
        ("12 B", "12b", []),
        ("12 bis 14", "12-14", []),
        ("weiß ich nicht", None, ["utter_sperrmuell_house_number_invalid"]),
    ],
)
def test_validate_house_number(text: str, house: str | None, said: list[str]) -> None:
    result, messages = validate("sperrmuell_house_number", text)
    assert result == {"sperrmuell_house_number": house}
    assert names(messages) == said


@pytest.mark.parametrize(
    ("text", "postcode", "said"),
    [
        ("fünf eins drei sieben drei", "51373", []),
        ("51381", "51381", []),
        ("die Postleitzahl ist 51371", "51371", []),
        (
            "fünf null sechs sieben null",
            None,
            [("utter_sperrmuell_postcode_outside", {"postcode": "fünf null sechs sieben null"})],
        ),
        (
            "51382",
            None,
            [("utter_sperrmuell_postcode_outside", {"postcode": "fünf eins drei acht zwei"})],
        ),
        ("Leverkusen", None, [("utter_sperrmuell_postcode_invalid", {})]),
    ],
)
def test_validate_postcode(text: str, postcode: str | None, said: list) -> None:
    assert validate("sperrmuell_postcode", text) == ({"sperrmuell_postcode": postcode}, said)


def test_postcode_typed_on_the_keypad() -> None:
    result, said = validate(
        "sperrmuell_postcode",
        '/dtmf{"dtmf_digits":"51373"}',
        intent="dtmf",
        entities=[{"entity": "dtmf_digits", "value": "51373"}],
    )
    assert result == {"sperrmuell_postcode": "51373"} and said == []


# --- items ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "items"),
    [
        (
            "ein Sofa, zwei Stühle und ein Schrank",
            [("Sofa", 1), ("Stühle", 2), ("Schrank", 1)],
        ),
        ("Ich habe ein altes Sofa und 3 Matratzen.", [("Sofa", 1), ("Matratzen", 3)]),
        ("einen Kleiderschrank sowie zehn Bretter", [("Kleiderschrank", 1), ("Bretter", 10)]),
        ("Tisch", [("Tisch", 1)]),
        ("ein sofa zwei stühle und ein schrank", [("Sofa", 1), ("Stühle", 2), ("Schrank", 1)]),
        (
            "einen Schrank mit zwei Türen drei Kartons",
            [("Schrank mit zwei Türen", 1), ("Kartons", 3)],
        ),
        ("ähm, weiß ich nicht", []),
        ("ja", []),
        ("", []),
    ],
)
def test_parse_items(text: str, items: list[tuple[str, int]]) -> None:
    assert parse_items(text) == [{"item": i, "count": c} for i, c in items]


@pytest.mark.parametrize(
    ("text", "items", "said"),
    [
        (
            "ein Sofa, zwei Stühle und ein Schrank",
            [
                {"item": "Sofa", "count": 1},
                {"item": "Stühle", "count": 2},
                {"item": "Schrank", "count": 1},
            ],
            [],
        ),
        ("ähm ja", None, ["utter_sperrmuell_items_missing"]),
        (
            "ein Bett und einen Kühlschrank",
            [{"item": "Bett", "count": 1}],
            ["utter_sperrmuell_item_not_accepted"],
        ),
        (
            "vier Autoreifen",
            None,
            ["utter_sperrmuell_item_not_accepted", "utter_sperrmuell_items_only_not_accepted"],
        ),
    ],
)
def test_validate_items(text: str, items: list | None, said: list[str]) -> None:
    result, messages = validate("sperrmuell_items", text)
    assert result == {"sperrmuell_items": items}
    assert names(messages) == said


def test_a_not_accepted_item_is_named_with_what_to_do_instead() -> None:
    _, messages = validate("sperrmuell_items", "einen Kühlschrank und ein Bett")
    assert messages[0][1]["item"] == "Kühlschrank"
    assert (
        "Elektrogeräte" in messages[0][1]["reason"] and "Wertstoffhof" in messages[0][1]["reason"]
    )


# --- date -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "date", "said"),
    [
        (
            "in drei Wochen",
            None,
            "Freitag, der sechsundzwanzigste März ist ein Feiertag, Karfreitag.",
        ),
        ("in vier Wochen", "2027-04-02", None),
        ("am zwölften März", "2027-03-12", None),
        ("morgen", None, "Der früheste mögliche Termin ist Freitag, der zwölfte März."),
        (
            "nächsten Donnerstag",
            None,
            "Der früheste mögliche Termin ist Freitag, der zwölfte März.",
        ),
        ("am 13.03.", None, "Samstag, der dreizehnte März ist kein Werktag."),
        ("Montag in zwei Wochen", "2027-03-15", None),
    ],
)
def test_validate_date(text: str, date: str | None, said: str | None) -> None:
    result, messages = validate("sperrmuell_date", text)
    assert result == {"sperrmuell_date": date}
    if said is None:
        assert messages == []
    else:
        assert names(messages) == ["utter_sperrmuell_date_not_possible"]
        assert messages[0][1]["why"].startswith(said)


def test_an_unclear_date_is_asked_again() -> None:
    result, messages = validate("sperrmuell_date", "irgendwann")
    assert result == {"sperrmuell_date": None}
    assert names(messages) == ["utter_sperrmuell_date_invalid"]


def test_the_lead_time_comes_from_the_settings() -> None:
    configure(sperrmuell_lead_days=2)
    assert validate("sperrmuell_date", "am zehnten März")[0] == {"sperrmuell_date": "2027-03-10"}
    assert earliest_date(TODAY, 2) == datetime.date(2027, 3, 9)


def test_check_date_far_ahead() -> None:
    assert check_date(datetime.date(2028, 6, 1), TODAY, 5)[0] is False


def test_the_date_question_says_the_earliest_date() -> None:
    dispatcher = CollectingDispatcher()
    t = tracker(requested_slot="sperrmuell_items")
    asyncio.run(ActionAskSperrmuellDate().run(dispatcher, t, {}))
    assert dispatcher.messages[0]["response"] == "utter_ask_sperrmuell_date"
    assert dispatcher.messages[0]["earliest"] == "Freitag, der zwölfte März"


def test_the_date_question_again_is_short() -> None:
    dispatcher = CollectingDispatcher()
    t = tracker(requested_slot="sperrmuell_date")
    asyncio.run(ActionAskSperrmuellDate().run(dispatcher, t, {}))
    assert [m["response"] for m in dispatcher.messages] == ["utter_ask_sperrmuell_date_again"]


# --- name and phone ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Mein Name ist Anna Schmidt.", "Anna Schmidt"),
        ("ich heiße peter müller", "Peter Müller"),
        ("S C H M I D T", "Schmidt"),
        ("ja", None),
        ("in drei Wochen", None),
        ("12345", None),
        ("", None),
    ],
)
def test_parse_name(text: str, name: str | None) -> None:
    assert parse_name(text) == name


def test_an_unclear_name_is_asked_again() -> None:
    result, messages = validate("sperrmuell_name", "ja")
    assert result == {"sperrmuell_name": None}
    assert names(messages) == ["utter_sperrmuell_name_invalid"]


@pytest.mark.parametrize(
    ("text", "intent", "caller", "slots", "said"),
    [
        ("ja", "affirm", CALLER, {"sperrmuell_phone": CALLER}, []),
        ("nein", "deny", CALLER, {"sperrmuell_phone": None, "sperrmuell_other_number": True}, []),
        (
            "null zwei eins vier drei fünf sechs sieben acht",
            "nlu_fallback",
            None,
            {"sperrmuell_phone": "021435678"},
            [],
        ),
        (
            "eins zwei drei",
            "nlu_fallback",
            None,
            {"sperrmuell_phone": None, "sperrmuell_other_number": True},
            ["utter_sperrmuell_phone_too_short"],
        ),
        (
            "weiß ich nicht",
            "nlu_fallback",
            None,
            {"sperrmuell_phone": None, "sperrmuell_other_number": True},
            ["utter_sperrmuell_phone_invalid"],
        ),
    ],
)
def test_validate_phone(
    text: str, intent: str, caller: str | None, slots: dict, said: list[str]
) -> None:
    result, messages = validate("sperrmuell_phone", text, intent=intent, caller=caller)
    assert result == slots
    assert [name for name, _ in messages] == said


def test_a_too_short_number_is_read_back() -> None:
    _, messages = validate("sperrmuell_phone", "eins zwei drei")
    assert messages[0][1]["number"] == "1 2 3"


def test_the_phone_question_offers_the_callers_number() -> None:
    for caller, other, expected in [
        (CALLER, False, "utter_ask_sperrmuell_phone_caller"),
        (CALLER, True, "utter_ask_sperrmuell_phone"),
        (None, False, "utter_ask_sperrmuell_phone"),
    ]:
        dispatcher = CollectingDispatcher()
        t = tracker(caller=caller, sperrmuell_other_number=other)
        asyncio.run(ActionAskSperrmuellPhone().run(dispatcher, t, {}))
        assert dispatcher.messages[0]["response"] == expected


# --- read-back and confirmation ---------------------------------------------------------------

COMPLETE = {
    "sperrmuell_street": "Hauptstraße",
    "sperrmuell_house_number": "12a",
    "sperrmuell_postcode": "51373",
    "sperrmuell_items": [{"item": "Sofa", "count": 1}, {"item": "Stühle", "count": 2}],
    "sperrmuell_date": "2027-03-12",
    "sperrmuell_name": "Anna Schmidt",
    "sperrmuell_phone": "021435678",
}


def test_the_confirmation_reads_the_application_back() -> None:
    assert summary_for_caller(tracker(**COMPLETE)) == (
        "Ich fasse zusammen: Adresse: Hauptstraße zwölf a, Postleitzahl fünf eins drei sieben "
        "drei. Gegenstände: Sofa und zwei Stühle. Wunschtermin: Freitag, der zwölfte März. "
        "Name: Anna Schmidt. Telefon: 0 2 1 4 3 5 6 7 8."
    )
    dispatcher = CollectingDispatcher()
    asyncio.run(ActionAskSperrmuellConfirmed().run(dispatcher, tracker(**COMPLETE), {}))
    assert dispatcher.messages[0]["response"] == "utter_ask_sperrmuell_confirmed"
    assert dispatcher.messages[0]["summary"].startswith("Ich fasse zusammen")
    dispatcher = CollectingDispatcher()
    t = tracker(**COMPLETE, sperrmuell_correcting=True)
    asyncio.run(ActionAskSperrmuellConfirmed().run(dispatcher, t, {}))
    assert dispatcher.messages[0]["response"] == "utter_ask_sperrmuell_correction"


@pytest.mark.parametrize(
    ("text", "intent", "correcting", "slots", "said"),
    [
        (
            "ja",
            "affirm",
            False,
            {"sperrmuell_confirmed": True, "sperrmuell_correcting": False},
            [],
        ),
        # the keywords count as well as the intent (as in the appointment form)
        (
            "ja das stimmt so",
            "nlu_fallback",
            False,
            {"sperrmuell_confirmed": True, "sperrmuell_correcting": False},
            [],
        ),
        (
            "nein",
            "deny",
            False,
            {"sperrmuell_confirmed": None, "sperrmuell_correcting": True},
            [],
        ),
        (
            "nein die hausnummer ist falsch",
            "deny",
            False,
            {
                "sperrmuell_street": None,
                "sperrmuell_house_number": None,
                "sperrmuell_postcode": None,
                "sperrmuell_confirmed": None,
                "sperrmuell_correcting": False,
            },
            ["utter_sperrmuell_correct_part"],
        ),
        (
            "den termin",
            "nlu_fallback",
            True,
            {"sperrmuell_date": None, "sperrmuell_confirmed": None, "sperrmuell_correcting": False},
            ["utter_sperrmuell_correct_part"],
        ),
        (
            "die telefonnummer",
            "nlu_fallback",
            True,
            {
                "sperrmuell_phone": None,
                "sperrmuell_other_number": True,  # the offered own number was wrong
                "sperrmuell_confirmed": None,
                "sperrmuell_correcting": False,
            },
            ["utter_sperrmuell_correct_part"],
        ),
        (
            "hm",
            "nlu_fallback",
            True,
            {"sperrmuell_confirmed": None, "sperrmuell_correcting": True},
            ["utter_sperrmuell_correction_unclear"],
        ),
        (
            "vielleicht",
            "nlu_fallback",
            False,
            {"sperrmuell_confirmed": None},
            ["utter_sperrmuell_confirm_yes_or_no"],
        ),
    ],
)
def test_validate_confirmation(
    text: str, intent: str, correcting: bool, slots: dict, said: list[str]
) -> None:
    result, messages = validate(
        "sperrmuell_confirmed", text, intent=intent, sperrmuell_correcting=correcting
    )
    assert result == slots
    assert [name for name, _ in messages] == said


# --- stored request and reset ---------------------------------------------------------------


def test_the_confirmed_application_is_stored_for_staff() -> None:
    answer = {"id": "K7M42X", "id_spoken": "K 7 M 4 2 X", "outbox": []}
    dispatcher = CollectingDispatcher()
    events: list[Any] = []

    async def scenario(url: str) -> None:
        configure(gateway_url=url)
        t = tracker(caller=CALLER, **COMPLETE, sperrmuell_confirmed=True)
        events.extend(await ActionSubmitSperrmuell().run(dispatcher, t, {}))

    seen = asyncio.run(with_gateway(201, answer, scenario))
    ((_, body),) = seen
    assert body["kind"] == "sperrmuell"
    assert body["call_id"] == "CA-sperr" and body["caller"] == CALLER
    assert body["data"] == {
        "street": "Hauptstraße",
        "house_number": "12a",
        "postcode": "51373",
        "items": [{"item": "Sofa", "count": 1}, {"item": "Stühle", "count": 2}],
        "date": "2027-03-12",
        "name": "Anna Schmidt",
        "phone": "021435678",
    }
    assert body["summary"] == (
        "Sperrmüll-Anmeldung: Hauptstraße 12a, 51373 Leverkusen. Gegenstände: 1 × Sofa, "
        "2 × Stühle. Wunschtermin: 12.03.2027. Anna Schmidt, Telefon 021435678. Noch nicht "
        "geprüft: bitte prüfen und den Abholtermin mitteilen."
    )
    assert "email" not in body
    assert [m["response"] for m in dispatcher.messages] == [
        "utter_request_saved",
        "utter_sperrmuell_submitted",
    ]
    assert SlotSet("request_reference", "K7M42X") in events
    assert SlotSet("sperrmuell_street", None) in events
    assert SlotSet("sperrmuell_items", None) in events
    assert SlotSet("sperrmuell_confirmed", None) in events


def test_a_failed_store_hands_over_and_keeps_the_answers() -> None:
    dispatcher = CollectingDispatcher()
    events: list[Any] = []

    async def scenario(url: str) -> None:
        configure(gateway_url=url)
        t = tracker(**COMPLETE, sperrmuell_confirmed=True)
        events.extend(await ActionSubmitSperrmuell().run(dispatcher, t, {}))

    asyncio.run(with_gateway(500, {"error": "boom"}, scenario))
    assert [m["response"] for m in dispatcher.messages] == ["utter_request_not_saved"]
    assert events == [SlotSet("requested_slot", None)]


def test_cancel_forgets_the_answers() -> None:
    dispatcher = CollectingDispatcher()
    t = tracker(**COMPLETE, sperrmuell_other_number=True, sperrmuell_confirmed=True)
    events = asyncio.run(ActionResetSperrmuell().run(dispatcher, t, {}))
    assert dispatcher.messages == []
    assert SlotSet("sperrmuell_street", None) in events
    assert SlotSet("sperrmuell_other_number", False) in events
    assert len(events) == 10  # requested_slot and the nine slots that hold a value
    # slots already empty are left alone (as in the appointment form)
    events = asyncio.run(ActionResetSperrmuell().run(dispatcher, tracker(), {}))
    assert events == [SlotSet("requested_slot", None)]


def run_form_validation(text: str, intent: str, confidence: float = 0.95) -> tuple:
    dispatcher = CollectingDispatcher()
    message = {
        "text": text,
        "intent": {"name": intent, "confidence": confidence},
        "entities": [],
        "metadata": {},
    }
    events = [
        {"event": "user", "text": text, "parse_data": message},
        {"event": "slot", "name": "sperrmuell_items", "value": text},
    ]
    slots = {"requested_slot": "sperrmuell_items", "sperrmuell_items": text}
    t = Tracker("CA-sperr", slots, message, events, False, None, None, "action_listen")
    domain = {"forms": {"sperrmuell_form": {"required_slots": ["sperrmuell_items"]}}}
    result = asyncio.run(ValidateSperrmuellForm().run(dispatcher, t, domain))
    return result, [m["response"] for m in dispatcher.messages]


@pytest.mark.parametrize(
    ("text", "intent", "confidence", "question"),
    [
        ("was kostet das", "ask_fee", 0.95, True),
        ("Brauche ich dafür einen Ausweis?", "ask_documents", 0.9, True),
        ("was kostet das", "ask_fee", 0.5, False),
        ("ein sofa", "ask_service", 0.9, False),
        ("ein sofa zwei stühle", "request_sperrmuell", 0.9, False),
    ],
)
def test_a_question_during_the_form_is_not_an_answer(
    text: str, intent: str, confidence: float, question: bool
) -> None:
    events, said = run_form_validation(text, intent, confidence)
    if question:
        assert said == ["utter_sperrmuell_question_during_form"]
        assert events == [SlotSet("sperrmuell_items", None)]
    else:
        assert "utter_sperrmuell_question_during_form" not in said
