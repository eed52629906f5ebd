"""Number-based entry (issue 16, item 6): the topic of the dialled number, at the session
start, fills the slot office (an office) or service and office (a service)."""

from __future__ import annotations

from typing import Any

from actions.language import ActionSessionStart
from actions.number_entry import topic_events
from rasa_sdk import Tracker
from rasa_sdk.events import ActionExecuted, SessionStarted, SlotSet

from tests.actions.helpers import run_action


def session_tracker(metadata: dict[str, Any] | None) -> Tracker:
    slots = {"session_started_metadata": metadata}
    return Tracker("call-1", slots, {}, [], False, None, None, "action_listen")


def test_a_department_number_starts_with_its_office() -> None:
    _, events = run_action(ActionSessionStart(), session_tracker({"topic": "standesamt"}))
    assert events == [
        SessionStarted(),
        SlotSet("office", "standesamt"),
        ActionExecuted("action_listen"),
    ]


def test_a_service_topic_sets_the_service_and_its_office() -> None:
    t = session_tracker({"topic": "geburtsurkunde", "language": "en"})
    _, events = run_action(ActionSessionStart(), t)
    assert events == [
        SessionStarted(),
        SlotSet("language", "en"),
        SlotSet("service", "geburtsurkunde"),
        SlotSet("office", "standesamt"),
        ActionExecuted("action_listen"),
    ]


def test_unknown_or_missing_topics_set_nothing() -> None:
    assert topic_events({"topic": "mondfahrt"}) == []
    assert topic_events({"topic": 7}) == []
    assert topic_events({}) == []
    assert topic_events(None) == []
