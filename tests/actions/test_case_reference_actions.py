"""Aktenzeichen and Kassenzeichen (issue 16, item 7): spoken or keyed, checked against the
office's format, read back group by group, and carried by the request the caller makes."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from actions.case_reference import (
    ActionAskCaseReferenceConfirmed,
    ActionCaseReferenceNoted,
    ValidateCaseReferenceForm,
    case_format,
    formats,
    heard_reference,
    spoken_groups,
)
from actions.requests_client import request_body
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from tests.actions.helpers import make_tracker, responses, run_action, with_variables


@pytest.mark.parametrize(
    ("said", "chars"),
    [
        ("1234 5678 9012", "123456789012"),
        ("mein Kassenzeichen ist eins zwei drei vier, fünf sechs sieben acht", "12345678"),
        ("A wie Anton B wie Berlin Strich 1 2 3 4 5", "AB12345"),
        ("AB-12345", "AB12345"),
        ("Es Schrägstrich 2026 Schrägstrich 0815", "S20260815"),
        ("das weiß ich nicht", None),
    ],
)
def test_what_the_caller_says_or_keys(said: str, chars: str | None) -> None:
    assert heard_reference(said) == chars


def test_each_office_has_its_format_else_the_default() -> None:
    steuern = case_format(make_tracker(office="steuern"))
    assert steuern.kind("de") == "Kassenzeichen" and steuern.keypad
    assert steuern.accepts("123456789012") and not steuern.accepts("12345678901")
    assert steuern.written("123456789012") == "1234.5678.9012"
    kfz = case_format(make_tracker(office="kfz"))
    assert kfz.accepts("AB12345") and not kfz.accepts("1212345") and not kfz.keypad
    default = case_format(make_tracker())
    assert default is formats()[0] and default.kind("de") == "Aktenzeichen"
    assert default.accepts("X1234") and not default.accepts("X12") and not default.accepts("A-1")


def test_read_back_group_by_group() -> None:
    steuern = case_format(make_tracker(office="steuern"))
    said = spoken_groups("123456789012", steuern)
    assert said.startswith("eins, zwo, drei, vier - fünf") and said.count(" - ") == 2
    kfz = case_format(make_tracker(office="kfz"))
    assert spoken_groups("AB12345", kfz, "en").startswith("A as in Alfa, B as in Bravo - one")


def validate(slot: str, value: str, **slots: Any) -> tuple[list[str], dict[str, Any]]:
    tracker = make_tracker(value, "inform", **slots)
    dispatcher = CollectingDispatcher()
    method = getattr(ValidateCaseReferenceForm(), f"validate_{slot}")
    found = asyncio.run(method(value, dispatcher, tracker, {}))
    return responses(dispatcher.messages), found


def test_a_fitting_reference_is_kept_in_its_written_form() -> None:
    said, slots = validate("case_reference", "1234 5678 9012", office="steuern")
    assert said == [] and slots["case_reference"] == "1234.5678.9012"
    keyed = make_tracker('/dtmf{"dtmf_digits": "123456789012"}', "dtmf", office="steuern")
    keyed.latest_message["entities"] = [{"entity": "dtmf_digits", "value": "123456789012"}]
    found = asyncio.run(
        ValidateCaseReferenceForm().validate_case_reference(
            '/dtmf{"dtmf_digits": "123456789012"}', CollectingDispatcher(), keyed, {}
        )
    )
    assert found["case_reference"] == "1234.5678.9012"


def test_a_wrong_format_is_explained_and_asked_again_three_times() -> None:
    said, slots = validate("case_reference", "1234", office="steuern")
    assert said == ["utter_case_reference_invalid"] and slots["case_reference"] is None
    said, slots = validate("case_reference", "1234", office="steuern", case_reference_tries=2)
    assert slots["case_reference"] == "-" and slots["case_reference_confirmed"] is False


def test_yes_confirms_no_asks_again() -> None:
    assert validate("case_reference_confirmed", "ja genau")[1] == {"case_reference_confirmed": True}
    assert validate("case_reference_confirmed", "nein")[1] == {
        "case_reference_confirmed": None,
        "case_reference": None,
    }


def test_the_read_back_and_the_end_of_the_form() -> None:
    tracker = make_tracker(office="steuern", case_reference="1234.5678.9012")
    messages, _ = run_action(ActionAskCaseReferenceConfirmed(), tracker)
    name, variables = with_variables(messages)[0]
    assert name == "utter_case_reference_read_back" and variables["kind"] == "Kassenzeichen"
    assert variables["groups"].count(" - ") == 2
    done = make_tracker(case_reference="1234.5678.9012", case_reference_confirmed=True)
    messages, events = run_action(ActionCaseReferenceNoted(), done)
    assert responses(messages) == ["utter_case_reference_noted"]
    assert events[0] == SlotSet("case_reference_noted", "1234.5678.9012")
    failed = make_tracker(case_reference="-", case_reference_confirmed=False)
    assert responses(run_action(ActionCaseReferenceNoted(), failed)[0]) == [
        "utter_case_reference_not_understood"
    ]


def test_a_request_carries_the_confirmed_reference_only() -> None:
    unconfirmed = make_tracker(case_reference="1234.5678.9012")
    data = request_body("sperrmuell", unconfirmed, {"street": "Hauptstraße"}, "Sperrmüll")["data"]
    assert "case_reference" not in data
    tracker = make_tracker(case_reference_noted="1234.5678.9012")
    body = request_body("sperrmuell", tracker, {"street": "Hauptstraße"}, "Sperrmüll")
    assert body["data"] == {"street": "Hauptstraße", "case_reference": "1234.5678.9012"}
    plain = request_body("sperrmuell", make_tracker(), {"street": "Hauptstraße"}, "Sperrmüll")
    assert "case_reference" not in plain["data"]
