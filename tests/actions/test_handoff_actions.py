"""The handoff and callback-form actions with rasa_sdk's CollectingDispatcher.

Run by the Rasa interpreter (`make test` runs them with .venv-rasa; the gateway's pytest
skips this folder): `PYTHONPATH=rasa_project .venv-rasa/bin/python -m pytest --noconftest
tests/actions`.
"""

from __future__ import annotations

from typing import Any

import pytest
from actions.callback import (
    ActionAskCallbackNumber,
    ActionSubmitCallback,
    ValidateCallbackForm,
    spoken_number,
)
from actions.handoff import ActionHandOver
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from tests.actions.helpers import make_tracker, run_action


def tracker(
    text: str = "",
    intent: str | None = None,
    metadata: dict[str, Any] | None = None,
    entities: list[dict[str, Any]] | None = None,
    **slots: Any,
) -> Tracker:
    return make_tracker(text, intent, metadata=metadata, entities=entities, events=[], **slots)


@pytest.mark.parametrize(
    ("metadata", "state", "response", "mode"),
    [
        ({"service_open": True}, None, "utter_handoff", "transfer"),
        ({"service_open": True}, "closed", "utter_handoff", "transfer"),  # metadata wins
        ({"service_open": False}, "open", "utter_offer_callback", "callback_offer"),
        ({}, "closed", "utter_offer_callback", "callback_offer"),  # state from call start
        ({}, None, "utter_handoff", "transfer"),  # text tests, rasa shell
        (
            {"service_open": False, "service_hours": "montags von 8 Uhr bis 12 Uhr"},
            None,
            "utter_offer_callback_with_hours",
            "callback_offer",
        ),
    ],
)
def test_hand_over_transfers_in_service_hours_else_offers_a_callback(
    metadata: dict[str, Any], state: str | None, response: str, mode: str
) -> None:
    messages, events = run_action(ActionHandOver(), tracker(metadata=metadata, service_state=state))
    assert [m["response"] for m in messages] == [response]
    assert events == [SlotSet("handoff_mode", mode)]
    if response == "utter_offer_callback_with_hours":
        assert messages[0]["service_hours"] == metadata["service_hours"]


@pytest.mark.parametrize(
    ("caller", "other", "response"),
    [
        ("+4921477123", False, "utter_ask_callback_number_caller"),
        ("+4921477123", True, "utter_ask_callback_number"),
        ("anonymous", False, "utter_ask_callback_number"),
        (None, False, "utter_ask_callback_number"),
    ],
)
def test_the_number_question_offers_the_callers_own_number(
    caller: str | None, other: bool, response: str
) -> None:
    t = tracker(metadata={"caller": caller}, callback_other_number=other)
    messages, events = run_action(ActionAskCallbackNumber(), t)
    assert [m["response"] for m in messages] == [response] and events == []


CALLER = {"caller": "+4921477123"}


@pytest.mark.parametrize(
    ("text", "intent", "metadata", "other", "entities", "expected", "invalid"),
    [
        # "ja" to "the number you are calling from?"
        ("ja", "affirm", CALLER, False, [], {"callback_number": "+4921477123"}, False),
        # words Whisper may write when NLU did not call it affirm or deny
        ("Stimmt so.", "inform", CALLER, False, [], {"callback_number": "+4921477123"}, False),
        (
            "Nein, eine andere.",
            "inform",
            CALLER,
            False,
            [],
            {"callback_number": None, "callback_other_number": True},
            False,
        ),
        # "nein": ask for another number, without complaining
        (
            "nein",
            "deny",
            CALLER,
            False,
            [],
            {"callback_number": None, "callback_other_number": True},
            False,
        ),
        # digits win over yes/no, spoken one by one or as Whisper writes them
        (  # NLU calls spoken digits "dtmf" and maps only some of them: the text counts
            "null zwei eins vier drei fünf sechs sieben acht",
            "dtmf",
            {},
            True,
            [{"entity": "dtmf_digits", "value": "0"}, {"entity": "dtmf_digits", "value": "2"}],
            {"callback_number": "021435678"},
            False,
        ),
        (
            "null zwei eins vier drei fünf sechs sieben acht",
            "out_of_scope",
            {},
            True,
            [],
            {"callback_number": "021435678"},
            False,
        ),
        ("0214 35678", "out_of_scope", CALLER, True, [], {"callback_number": "021435678"}, False),
        (
            "Meine Nummer ist null zwei eins vier, drei fünf sechs sieben acht. Danke.",
            "out_of_scope",
            {},
            True,
            [],
            {"callback_number": "021435678"},
            False,
        ),
        # typed on the keypad, ended with '#'
        (
            '/dtmf{"dtmf_digits":"021435678#"}',
            "dtmf",
            {},
            True,
            [{"entity": "dtmf_digits", "value": "021435678#"}],
            {"callback_number": "021435678"},
            False,
        ),
        # too short, no digits, "ja" without a known caller number
        ("eins zwei drei", "dtmf", {}, True, [], None, True),
        ("das weiß ich nicht", "out_of_scope", {}, True, [], None, True),
        ("ja", "affirm", {"caller": "anonymous"}, False, [], None, True),
    ],
)
def test_callback_number_validation(
    text: str,
    intent: str,
    metadata: dict[str, Any],
    other: bool,
    entities: list[dict[str, Any]],
    expected: dict[str, Any] | None,
    invalid: bool,
) -> None:
    dispatcher = CollectingDispatcher()
    t = tracker(text, intent, metadata, entities, callback_other_number=other)
    result = ValidateCallbackForm().validate_callback_number(text, dispatcher, t, {})
    if expected is None:
        expected = {"callback_number": None, "callback_other_number": True}
    assert result == expected
    said = [m["response"] for m in dispatcher.messages]
    assert said == (["utter_callback_number_invalid"] if invalid else [])


@pytest.mark.parametrize(
    ("value", "expected"),
    [("  es geht um   meinen Ausweis ", "es geht um meinen Ausweis"), ("", None), (None, None)],
)
def test_callback_topic_keeps_the_callers_words(value: Any, expected: str | None) -> None:
    result = ValidateCallbackForm().validate_callback_topic(
        value, CollectingDispatcher(), tracker(), {}
    )
    assert result == {"callback_topic": expected}


@pytest.mark.parametrize(
    ("number", "spoken"),
    [
        ("+4921477123", "0 2 1 4 7 7 1 2 3"),
        ("021435678", "0 2 1 4 3 5 6 7 8"),
        ("+4312", "plus 4 3 1 2"),
    ],
)
def test_numbers_are_read_back_digit_by_digit(number: str, spoken: str) -> None:
    assert spoken_number(number) == spoken


def test_submit_reads_the_number_back() -> None:
    messages, events = run_action(ActionSubmitCallback(), tracker(callback_number="+4921477123"))
    assert messages[0]["response"] == "utter_callback_confirm"
    assert messages[0]["number"] == "0 2 1 4 7 7 1 2 3"
    assert events == [SlotSet("requested_slot", None)]
