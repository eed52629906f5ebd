"""Routing a handoff from the catalogue: the office that owns the caller's topic, its transfer
target in the payload, and the bot naming it; the office slot set by the answers; the answer
expected next repeated with "Wie bitte?".

Run with the Rasa interpreter: `PYTHONPATH=rasa_project .venv-rasa/bin/python -m pytest
--noconftest tests/actions`.
"""

from __future__ import annotations

from typing import Any

import pytest
from actions.faq import ActionAnswerService
from actions.handoff import ActionHandOver
from actions.repeat import ActionRepeatLast, last_expectation
from actions.routing import handoff_office, office_with_article
from actions.services import catalogue
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet

from tests.actions.helpers import make_tracker, run_action

OPEN = {"service_open": True}


def tracker(text: str, intent: str, **slots: Any) -> Tracker:
    return make_tracker(text, intent, metadata=OPEN, events=[], **slots)


@pytest.mark.parametrize(
    ("text", "intent", "slots", "office"),
    [
        ("verbinden sie mich bitte mit dem standesamt", "request_human", {}, "standesamt"),
        ("ich möchte mit der zulassungsstelle sprechen", "request_human", {}, "kfz"),
        ("mitarbeiter bitte", "request_human", {"office": "standesamt"}, "standesamt"),
        ("mitarbeiter bitte", "request_human", {"service": "wohngeld"}, "soziales"),
        ("das ist doch mist", "frustrated", {"service": "geburtsurkunde"}, "standesamt"),
        # the message itself wins over the topic before
        (
            "den mitarbeiter vom bürgerbüro bitte",
            "request_human",
            {"office": "kfz"},
            "buergerbuero",
        ),
        ("mitarbeiter bitte", "request_human", {}, None),
        ("mitarbeiter bitte", "request_human", {"office": "gibt_es_nicht"}, None),
    ],
)
def test_the_handoff_goes_to_the_office_of_the_topic(
    text: str, intent: str, slots: dict[str, Any], office: str | None
) -> None:
    found = handoff_office(tracker(text, intent, **slots))
    assert (found.id if found else None) == office


def test_the_bot_names_the_office_and_the_payload_carries_department_and_target() -> None:
    messages, events = run_action(
        ActionHandOver(), tracker("mitarbeiter bitte", "request_human", office="standesamt")
    )
    (message,) = messages
    assert message["response"] == "utter_handoff_office"
    assert message["office"] == "dem Standesamt"
    standesamt = catalogue().office("standesamt")
    assert message["custom"] == {
        "handoff": {
            "department": "standesamt",
            "reason": "caller_request",
            "target": standesamt.transfer,
        }
    }
    assert standesamt.transfer == "sip:standesamt@pbx.leverkusen.local"
    assert events == [SlotSet("handoff_mode", "transfer")]


def test_a_frustrated_caller_is_put_through_to_the_office_with_an_apology() -> None:
    t = tracker("das ist doch mist", "frustrated", office="kfz")
    (message,), _ = run_action(ActionHandOver(), t)
    assert message["response"] == "utter_handoff_office_frustrated"
    assert message["office"] == "der Kfz-Zulassungsstelle"
    assert message["custom"]["handoff"]["reason"] == "frustrated"


def test_without_an_office_the_domain_response_keeps_its_default_department() -> None:
    (message,), _ = run_action(ActionHandOver(), tracker("mitarbeiter bitte", "request_human"))
    assert message["response"] == "utter_handoff" and not message["custom"]


def test_office_names_after_mit_in_german_and_english() -> None:
    offices = catalogue().offices
    assert office_with_article(offices["buergerbuero"], "de") == "dem Bürgerbüro"
    assert office_with_article(offices["abfall"], "de") == "der Abfallberatung"
    assert office_with_article(offices["standesamt"], "en") == "the registry office"


def test_an_answer_about_an_office_or_a_service_sets_the_office() -> None:
    _, events = run_action(
        ActionAnswerService(),
        make_tracker("wann hat das standesamt geöffnet", "ask_opening_hours", events=[]),
    )
    assert SlotSet("office", "standesamt") in events
    _, events = run_action(
        ActionAnswerService(),
        make_tracker(
            "was kostet eine geburtsurkunde",
            "ask_fee",
            entities=[{"entity": "service", "value": "geburtsurkunde"}],
            events=[],
        ),
    )
    assert (
        SlotSet("office", "standesamt") in events and SlotSet("service", "geburtsurkunde") in events
    )


HISTORY = [
    {"event": "user", "text": "ich möchte sperrmüll anmelden"},
    {
        "event": "bot",
        "text": "Wo soll der Sperrmüll abgeholt werden?",
        "data": {"custom": {"expect": "address"}},
    },
    {"event": "user", "text": "wie bitte"},
]


def test_wie_bitte_repeats_the_question_with_the_answer_it_expects() -> None:
    assert last_expectation(HISTORY) == "address"
    messages, _ = run_action(
        ActionRepeatLast(), make_tracker("wie bitte", "repeat", events=HISTORY)
    )
    (message,) = messages
    assert message["text"] == "Wo soll der Sperrmüll abgeholt werden?"
    assert message["custom"] == {"expect": "address"}
