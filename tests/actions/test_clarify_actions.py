"""action_clarify: after a first nlu_fallback, ask which of the two likeliest topics the
caller means. Run by the Rasa interpreter: `make test-actions`."""

from __future__ import annotations

from typing import Any

from actions.clarify import ActionClarify, alternatives, label
from actions.services import catalogue
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet

from tests.actions.helpers import make_tracker, run_action


def ranking(*pairs: tuple[str, float]) -> list[dict[str, Any]]:
    return [{"name": name, "confidence": confidence} for name, confidence in pairs]


def tracker(
    text: str,
    intents: list[dict[str, Any]],
    entities: list[dict[str, Any]] | None = None,
    metadata: dict[str, Any] | None = None,
    **slots: Any,
) -> Tracker:
    return make_tracker(
        text,
        "nlu_fallback",
        confidence=0.5,
        ranking=intents,
        entities=entities,
        metadata=metadata,
        events=[],
        **slots,
    )


def run(t: Tracker) -> tuple[list[dict[str, Any]], list[Any]]:
    return run_action(ActionClarify(), t)


TYPICAL = ranking(
    ("nlu_fallback", 0.5),
    ("ask_opening_hours", 0.41),
    ("affirm", 0.2),
    ("ask_fee", 0.18),
    ("greet", 0.1),
    ("ask_phone", 0.06),
)


def test_the_two_best_topics_skipping_fallback_and_yes_no() -> None:
    assert alternatives(TYPICAL) == ["ask_opening_hours", "ask_fee"]


def test_the_ranking_need_not_be_sorted() -> None:
    shuffled = list(reversed(TYPICAL))
    assert alternatives(shuffled) == ["ask_opening_hours", "ask_fee"]


def test_unlikely_topics_are_not_offered() -> None:
    intents = ranking(("nlu_fallback", 0.5), ("ask_fee", 0.45), ("greet", 0.5), ("ask_form", 0.01))
    assert alternatives(intents) == ["ask_fee"]


def test_unknown_intents_of_other_topics_are_skipped() -> None:
    intents = ranking(("some_new_intent", 0.4), ("ask_address", 0.3), ("ask_phone", 0.2))
    assert alternatives(intents) == ["ask_address", "ask_phone"]


def test_asks_with_the_german_labels() -> None:
    messages, events = run(tracker("äh wegen dem dings", TYPICAL))
    assert len(messages) == 1
    assert messages[0]["response"] == "utter_clarify"
    assert (messages[0]["first"], messages[0]["second"]) == ("die Öffnungszeiten", "die Gebühren")
    assert events == []


def test_english_labels_when_the_caller_speaks_english() -> None:
    messages, _ = run(tracker("erm the thing", TYPICAL, language="en"))
    assert (messages[0]["first"], messages[0]["second"]) == ("the opening hours", "the fees")


def test_english_labels_from_the_gateway_language() -> None:
    messages, _ = run(tracker("erm the thing", TYPICAL, metadata={"language": "en"}))
    assert messages[0]["second"] == "the fees"


def test_a_named_service_goes_into_the_labels_and_the_slot() -> None:
    intents = ranking(("nlu_fallback", 0.5), ("ask_fee", 0.4), ("ask_documents", 0.35))
    entities = [{"entity": "service", "value": "reisepass"}]
    messages, events = run(tracker("reisepass äh dings", intents, entities))
    assert messages[0]["response"] == "utter_clarify"
    assert messages[0]["first"] == "die Gebühren für den Reisepass"
    assert messages[0]["second"] == "die Unterlagen für den Reisepass"
    assert events == [SlotSet("service", "reisepass")]


def test_the_service_from_the_callers_words() -> None:
    intents = ranking(("nlu_fallback", 0.5), ("ask_address", 0.4), ("ask_service", 0.35))
    _, events = run(tracker("die sache mit der geburtsurkunde", intents))
    assert events == [SlotSet("service", "geburtsurkunde")]


def test_fewer_than_two_topics_asks_to_rephrase() -> None:
    intents = ranking(("nlu_fallback", 0.5), ("greet", 0.3), ("ask_fee", 0.3), ("deny", 0.2))
    messages, events = run(tracker("hm", intents))
    assert [m["response"] for m in messages] == ["utter_ask_rephrase"]
    assert events == []


def test_no_ranking_asks_to_rephrase() -> None:
    messages, _ = run(tracker("hm", []))
    assert [m["response"] for m in messages] == ["utter_ask_rephrase"]


def test_labels_with_a_service_in_both_languages() -> None:
    pass_ = catalogue().service("reisepass")
    assert label("ask_fee", "de", pass_) == "die Gebühren für den Reisepass"
    assert label("ask_fee", "en", pass_) == "the fees for the passport"
    assert label("ask_service", "de", catalogue().service("geburtsurkunde")) == "die Geburtsurkunde"
    assert label("request_human", "de", pass_).startswith("ein Gespräch mit")


# Implicit confirmation of a topic the bot is not quite sure of (issue 17, item 5).


def test_a_middling_intent_confidence_names_the_topic_first() -> None:
    from actions.faq import ActionAnswerService

    entities = [{"entity": "service", "value": "reisepass"}]
    t = make_tracker("was kostet ein reisepass", "ask_fee", confidence=0.6, entities=entities)
    said, _ = run_action(ActionAnswerService(), t)
    assert said[0]["text"] == "Es geht also um die Gebühren für den Reisepass."
    assert len(said) == 2  # then the answer itself


def test_a_middling_asr_confidence_names_the_topic_first() -> None:
    from actions.clarify import topic_confirmation

    t = make_tracker(
        "wann hat das bürgerbüro geöffnet",
        "ask_opening_hours",
        confidence=0.97,
        metadata={"asr_confidence": 0.3},
    )
    assert topic_confirmation(t, "de") == "Es geht also um die Öffnungszeiten."
    assert topic_confirmation(t, "en") == "So this is about the opening hours."


def test_a_sure_answer_needs_no_confirmation() -> None:
    from actions.clarify import topic_confirmation
    from actions.faq import ActionAnswerService

    t = make_tracker(
        "wann hat das bürgerbüro geöffnet",
        "ask_opening_hours",
        confidence=0.95,
        metadata={"asr_confidence": 0.8},
    )
    assert topic_confirmation(t, "de") is None
    said, _ = run_action(ActionAnswerService(), t)
    assert len(said) == 1


def test_no_confirmation_for_what_is_no_topic() -> None:
    from actions.clarify import topic_confirmation

    assert topic_confirmation(make_tracker("ja", "affirm", confidence=0.55), "de") is None
    # a service question without a service: nothing to name
    assert (
        topic_confirmation(
            make_tracker("ich hätte eine frage", "ask_service", confidence=0.6), "de"
        )
        is None
    )


def test_something_left_on_the_bus_is_for_the_lost_property_office() -> None:
    from actions.faq import ActionAnswerService

    t = make_tracker("ich habe meine tasche im bus vergessen", "report_lost", events=[])
    said, events = run_action(ActionAnswerService(), t)
    assert SlotSet("service", "fundbuero") in events
    assert SlotSet("faq_result", "answered") in events
    assert "Fundbüro" in said[0]["text"]
