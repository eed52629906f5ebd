"""English: the catalogue answers in the caller's language, the language switch, the language
at the session start. Run by the Rasa interpreter: `make test-actions`."""

from __future__ import annotations

from typing import Any

import pytest
from actions.catalogue import say_documents, say_fee, say_opening_hours
from actions.faq import ActionAnswerService
from actions.language import (
    ActionSessionStart,
    ActionSwitchLanguage,
    detect_language,
    requested_language,
)
from actions.services import catalogue
from rasa_sdk import Tracker
from rasa_sdk.events import ActionExecuted, SessionStarted, SlotSet

from tests.actions.helpers import make_tracker, run_action


def tracker(
    text: str,
    intent: str,
    entities: list[dict[str, Any]] | None = None,
    metadata: dict[str, Any] | None = None,
    **slots: Any,
) -> Tracker:
    return make_tracker(text, intent, entities=entities, metadata=metadata, **slots)


def passport() -> list[dict[str, Any]]:
    return [{"entity": "service", "value": "reisepass"}]


def test_the_fee_in_english_when_the_slot_is_english() -> None:
    t = tracker("and the passport", "ask_fee", passport(), {"language": "en"}, language="en")
    messages, events = run_action(ActionAnswerService(), t)
    assert [m["text"] for m in messages] == [say_fee(catalogue().service("reisepass"), "en")]
    assert messages[0]["text"].startswith("The passport costs")  # type: ignore[union-attr]
    assert messages[0]["custom"] == {}  # the gateway speaks English already: no payload
    assert SlotSet("language", "en") not in events
    assert events[-1] == SlotSet("faq_result", "answered")


def test_opening_hours_in_english_without_a_service() -> None:
    t = tracker("what are the opening hours", "ask_opening_hours", language="en")
    messages, _ = run_action(ActionAnswerService(), t)
    office = catalogue().office("buergerbuero")
    assert [m["text"] for m in messages] == [say_opening_hours(office, "en")]


def test_an_english_office_name_is_found() -> None:
    t = tracker("when is the registry office open", "ask_opening_hours", language="en")
    messages, _ = run_action(ActionAnswerService(), t)
    assert messages[0]["text"] == say_opening_hours(catalogue().office("standesamt"), "en")


def test_an_english_question_in_a_german_call_switches_to_english() -> None:
    t = tracker("what do i need for a passport", "ask_documents", passport(), {"language": "de"})
    messages, events = run_action(ActionAnswerService(), t)
    assert messages[0]["text"] == say_documents(catalogue().service("reisepass"), "en")
    assert messages[0]["custom"] == {"language": "en"}
    assert events[-1] == SlotSet("language", "en")


def test_a_german_question_in_an_english_call_switches_back() -> None:
    t = tracker(
        "was kostet ein reisepass", "ask_fee", passport(), {"language": "en"}, language="en"
    )
    messages, events = run_action(ActionAnswerService(), t)
    assert messages[0]["text"] == say_fee(catalogue().service("reisepass"), "de")
    assert messages[0]["custom"] == {"language": "de"}
    assert events[-1] == SlotSet("language", "de")


def test_a_service_name_alone_keeps_the_callers_language() -> None:
    t = tracker("reisepass", "inform_service", passport(), language="en")
    t.slots["faq_question"] = "fee"
    messages, events = run_action(ActionAnswerService(), t)
    assert messages[0]["text"] == say_fee(catalogue().service("reisepass"), "en")
    assert not any(e.get("name") == "language" for e in events)


def test_german_stays_german_without_language_events() -> None:
    t = tracker("was kostet ein reisepass", "ask_fee", passport())
    messages, events = run_action(ActionAnswerService(), t)
    assert messages[0]["text"] == say_fee(catalogue().service("reisepass"), "de")
    assert messages[0]["custom"] == {}
    assert not any(e.get("name") == "language" for e in events)


def test_unknown_service_in_english_switches_before_asking() -> None:
    t = tracker("what documents do i need", "ask_documents", metadata={"language": "de"})
    messages, events = run_action(ActionAnswerService(), t)
    assert messages == [
        {**messages[0], "text": None, "custom": {"language": "en"}},
    ]
    assert events[-2:] == [SlotSet("faq_result", "unknown"), SlotSet("language", "en")]


def test_processing_time_unknown_in_english() -> None:
    service = next(s for s in catalogue().services.values() if s.processing_time is None)
    entities = [{"entity": "service", "value": service.id}]
    t = tracker("how long does it take", "ask_processing_time", entities, language="en")
    messages, _ = run_action(ActionAnswerService(), t)
    assert messages[0]["response"] == "utter_processing_time_unknown_en"


@pytest.mark.parametrize(
    ("text", "current", "response", "language"),
    [
        ("can we speak english", "de", "utter_switched_to_english", "en"),
        ("können wir englisch sprechen", "de", "utter_switched_to_english", "en"),
        ("ich spreche kein deutsch", "de", "utter_switched_to_english", "en"),
        ("i don't speak german", "de", "utter_switched_to_english", "en"),
        ("auf deutsch bitte", "en", "utter_switched_to_german", "de"),
        ("german please", "en", "utter_switched_to_german", "de"),
        ("another language please", "en", "utter_switched_to_german", "de"),
        ("another language please", "de", "utter_switched_to_english", "en"),
    ],
)
def test_switch_language(text: str, current: str, response: str, language: str) -> None:
    t = tracker(text, "switch_language", language=current)
    messages, events = run_action(ActionSwitchLanguage(), t)
    assert [m["response"] for m in messages] == [response]
    assert events == [SlotSet("language", language)]
    assert requested_language(text, current) == language


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("how much does a passport cost", "en"),
        ("what are the opening hours of the citizens office", "en"),
        ("wann hat das bürgerbüro geöffnet", "de"),
        ("ich brauche einen neuen personalausweis", "de"),
        ("reisepass", None),
        ("hallo", None),
        ("", None),
    ],
)
def test_detect_language(text: str, language: str | None) -> None:
    assert detect_language(text) == language


def session_tracker(metadata: dict[str, Any] | None, **slots: Any) -> Tracker:
    slots = {**slots, "session_started_metadata": metadata}
    return Tracker("call-1", slots, {}, [], False, None, None, "action_listen")


def test_session_start_takes_the_language_from_the_metadata() -> None:
    t = session_tracker({"language": "en", "caller": "+492141234"})
    _, events = run_action(ActionSessionStart(), t)
    assert events == [SessionStarted(), SlotSet("language", "en"), ActionExecuted("action_listen")]


def test_session_start_without_metadata_sets_no_language() -> None:
    _, events = run_action(ActionSessionStart(), session_tracker(None))
    assert events == [SessionStarted(), ActionExecuted("action_listen")]


def test_session_start_carries_the_slots_over() -> None:
    t = session_tracker({"language": "de"}, service="reisepass", language="en")
    _, events = run_action(ActionSessionStart(), t)
    assert events == [
        SessionStarted(),
        SlotSet("service", "reisepass"),
        SlotSet("language", "de"),
        ActionExecuted("action_listen"),
    ]
