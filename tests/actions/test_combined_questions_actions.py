"""A question with a request for English in the same breath is answered, in English, and the
gateway is switched (issue 17, item 3). Run by the Rasa interpreter: `make test-actions`."""

from __future__ import annotations

from actions.faq import ActionAnswerService
from rasa_sdk.events import SlotSet

from tests.actions.helpers import make_tracker, run_action


def test_english_please_and_a_passport_in_one_breath() -> None:
    entities = [{"entity": "service", "value": "reisepass"}]
    t = make_tracker(
        "hi is it possible to speak english i would like a passport",
        "ask_service",
        entities=entities,
        metadata={"language": "de"},
        events=[],
    )
    said, events = run_action(ActionAnswerService(), t)
    assert said[0]["custom"] == {"language": "en"}
    assert "passport" in said[0]["text"].lower()
    assert SlotSet("language", "en") in events
    assert SlotSet("faq_result", "answered") in events


def test_a_greeting_in_front_does_not_change_the_answer() -> None:
    plain = make_tracker("wann hat das bürgerbüro geöffnet", "ask_opening_hours", events=[])
    greeted = make_tracker(
        "ja guten tag wann hat das bürgerbüro geöffnet", "ask_opening_hours", events=[]
    )
    assert (
        run_action(ActionAnswerService(), plain)[0] == run_action(ActionAnswerService(), greeted)[0]
    )
