"""The catalogue answers (action_answer_service) and the repetition (action_repeat_last) with
rasa_sdk's CollectingDispatcher. Run by the Rasa interpreter: `make test-actions`."""

from __future__ import annotations

from typing import Any

import pytest
from actions.catalogue import (
    say_address,
    say_documents,
    say_fee,
    say_form,
    say_opening_hours,
    say_phone,
    say_processing_time,
)
from actions.faq import ActionAnswerService
from actions.repeat import ActionRepeatLast, last_bot_turn
from actions.services import catalogue, named_office
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet

from tests.actions.helpers import make_tracker, run_action


def tracker(
    text: str,
    intent: str,
    entities: list[dict[str, Any]] | None = None,
    events: list[dict[str, Any]] | None = None,
    **slots: Any,
) -> Tracker:
    return make_tracker(text, intent, entities=entities, history=events, **slots)


def said(messages: list[dict[str, Any]]) -> list[str]:
    return [m["text"] or m["response"] for m in messages]


def entity(value: str) -> list[dict[str, Any]]:
    return [{"entity": "service", "value": value}]


def answered(question: str, service: str | None, office: str | None = None) -> list[Any]:
    """The events of an answer: the question, the service, its office (or the office asked
    about), the result."""
    events = [SlotSet("faq_question", question)]
    if service:
        events.append(SlotSet("service", service))
        office = office or catalogue().office_of(service).id
    if office:
        events.append(SlotSet("office", office))
    return [*events, SlotSet("faq_result", "answered")]


def service(service_id: str) -> Any:
    return catalogue().service(service_id)


def test_the_entity_names_the_service() -> None:
    t = tracker("was kostet ein reisepass", "ask_fee", entity("reisepass"))
    messages, events = run_action(ActionAnswerService(), t)
    assert said(messages) == [say_fee(service("reisepass"))]
    assert said(messages)[0].startswith("Der Reisepass kostet 70 Euro.")
    assert events == answered("fee", "reisepass")


def test_an_entity_in_another_spelling_is_looked_up() -> None:
    t = tracker("was muss ich mitbringen", "ask_documents", entity("personal ausweis"))
    messages, events = run_action(ActionAnswerService(), t)
    assert said(messages) == [say_documents(service("personalausweis"))]
    assert events == answered("documents", "personalausweis")


@pytest.mark.parametrize(
    ("text", "intent", "service_id", "expected"),
    [
        ("wie lange dauert ein führungs zeugnis", "ask_processing_time", "fuehrungszeugnis", None),
        ("gibt es ein formular für wohn geld", "ask_form", "wohngeld", None),
        ("was kostet die hunde steuer", "ask_fee", "hundesteuer", None),
        ("ich brauche eine meldebescheinigun", "ask_service", "meldebescheinigung", None),
        ("wo muss ich hin für den sperr müll", "ask_address", "sperrmuell", None),
    ],
)
def test_without_an_entity_the_words_name_the_service(
    text: str, intent: str, service_id: str, expected: str | None
) -> None:
    messages, events = run_action(ActionAnswerService(), tracker(text, intent))
    found = service(service_id)
    answers = {
        "ask_processing_time": lambda: say_processing_time(found),
        "ask_form": lambda: say_form(found),
        "ask_fee": lambda: say_fee(found),
        "ask_address": lambda: say_address(catalogue().office_of(found)),
    }
    if intent in answers:
        assert said(messages) == [answers[intent]()]
    else:
        assert said(messages)[0].startswith(found.summary.de)
    result = "form_named" if intent == "ask_form" and found.form else "answered"
    office = SlotSet("office", catalogue().office_of(found).id)
    assert events[-3:] == [SlotSet("service", service_id), office, SlotSet("faq_result", result)]


def test_a_named_form_is_offered_by_email_only_in_german_and_when_there_is_one() -> None:
    with_form = next(s for s in catalogue().services.values() if s.form and s.has_english)
    without = next(s for s in catalogue().services.values() if s.form is None)
    _, events = run_action(ActionAnswerService(), tracker("", "ask_form", entity(with_form.id)))
    assert events[-1] == SlotSet("faq_result", "form_named")
    _, events = run_action(ActionAnswerService(), tracker("", "ask_form", entity(without.id)))
    assert events[-1] == SlotSet("faq_result", "answered")
    english = tracker("is there a form for it", "ask_form", entity(with_form.id), language="en")
    messages, events = run_action(ActionAnswerService(), english)
    assert said(messages) == [say_form(with_form, "en")]
    assert SlotSet("faq_result", "answered") in events


def test_was_kostet_das_refers_to_the_service_asked_about_before() -> None:
    t = tracker("was kostet das", "ask_fee", service="reisepass")
    messages, events = run_action(ActionAnswerService(), t)
    assert said(messages) == [say_fee(service("reisepass"))]
    assert events == answered("fee", "reisepass")


def test_a_new_service_wins_over_the_one_before() -> None:
    t = tracker("und was kostet ein führungszeugnis", "ask_fee", service="reisepass")
    messages, events = run_action(ActionAnswerService(), t)
    assert said(messages) == [say_fee(service("fuehrungszeugnis"))]


def test_unknown_service_asks_which_one_and_keeps_the_question() -> None:
    messages, events = run_action(ActionAnswerService(), tracker("was kostet das", "ask_fee"))
    assert messages == []  # the rule says utter_ask_which_service
    assert events == [SlotSet("faq_question", "fee"), SlotSet("faq_result", "unknown")]


def test_the_named_service_answers_the_question_asked_before() -> None:
    before = [{"event": "action", "name": "utter_ask_which_service"}]
    t = tracker("den reisepass", "inform_service", entity("reisepass"), before, faq_question="fee")
    messages, events = run_action(ActionAnswerService(), t)
    assert said(messages) == [say_fee(service("reisepass"))]
    assert events == answered("fee", "reisepass")


def test_inform_service_does_not_fall_back_to_the_earlier_service() -> None:
    t = tracker("ähm ja", "inform_service", service="reisepass", faq_question="fee")
    _, events = run_action(ActionAnswerService(), t)
    assert events[-1] == SlotSet("faq_result", "unknown")


@pytest.mark.parametrize(
    ("text", "service_id"),
    [
        ("ich habe meinen ausweis verloren", "ausweis_verlust"),
        ("mein reisepass wurde gestohlen", "ausweis_verlust"),
        ("mein pass ist weg", "ausweis_verlust"),  # heard as the Reisepass itself
        ("ich habe mein portemonnaie verloren", "fundbuero"),
    ],
)
def test_lost_things(text: str, service_id: str) -> None:
    messages, events = run_action(ActionAnswerService(), tracker(text, "report_lost"))
    assert said(messages)[0].startswith(service(service_id).summary.de)
    assert events == answered("lost", service_id)


@pytest.mark.parametrize(
    ("text", "office_id"),
    [
        ("wann hat das bürgerbüro geöffnet", "buergerbuero"),
        ("wann hat das bürger büro offen", "buergerbuero"),
        ("wann ist das standesamt geöffnet", "standesamt"),
        ("wann hat die kfz zulassungsstelle auf", "kfz"),
        ("was sind die öffnungszeiten", "buergerbuero"),  # default
    ],
)
def test_opening_hours_of_the_named_office(text: str, office_id: str) -> None:
    messages, events = run_action(ActionAnswerService(), tracker(text, "ask_opening_hours"))
    assert said(messages) == [say_opening_hours(catalogue().office(office_id))]
    named = office_id if text != "was sind die öffnungszeiten" else None  # the default: none
    assert events == answered("opening_hours", None, named)


def test_opening_hours_of_the_service_asked_about() -> None:
    t = tracker("und wann haben sie geöffnet", "ask_opening_hours", service="kfz_zulassung")
    messages, events = run_action(ActionAnswerService(), t)
    assert said(messages) == [say_opening_hours(catalogue().office("kfz"))]
    assert events == answered("opening_hours", "kfz_zulassung")


def test_dtmf_one_gives_the_buergerbuero_hours_whatever_was_asked_before() -> None:
    t = tracker('/dtmf{"dtmf_digits":"1"}', "dtmf", service="hundesteuer")
    messages, _ = run_action(ActionAnswerService(), t)
    assert said(messages) == [say_opening_hours(catalogue().office("buergerbuero"))]


def test_phone_number_of_a_named_office() -> None:
    messages, _ = run_action(
        ActionAnswerService(), tracker("welche nummer hat das standesamt", "ask_phone")
    )
    assert said(messages) == [say_phone(catalogue().office("standesamt"))]


def test_address_without_office_or_service_asks_which_service() -> None:
    _, events = run_action(ActionAnswerService(), tracker("wo muss ich hin", "ask_address"))
    assert events[-1] == SlotSet("faq_result", "unknown")


def test_named_office_ignores_services() -> None:
    assert named_office("was kostet ein reisepass") is None
    assert named_office("wo ist das Fundbüro?").id == "fundbuero"  # type: ignore[union-attr]


def test_every_service_answers_every_question() -> None:
    """No catalogue entry makes the action fail, whatever is asked."""
    intents = ["ask_service", "ask_documents", "ask_fee", "ask_processing_time"]
    intents += ["ask_address", "ask_phone", "ask_form", "ask_opening_hours"]
    for service_id in catalogue().services:
        for intent in intents:
            messages, events = run_action(
                ActionAnswerService(), tracker("", intent, entity(service_id))
            )
            assert len(messages) == 1, (service_id, intent)
            named = intent == "ask_form" and catalogue().services[service_id].form is not None
            result = "form_named" if named else "answered"
            assert events[-1] == SlotSet("faq_result", result), (service_id, intent)


def bot(text: str, custom: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"event": "bot", "text": text, "data": {"custom": custom} if custom else {}}


def user(text: str) -> dict[str, Any]:
    return {"event": "user", "text": text}


HISTORY = [
    bot("Guten Tag! Wie kann ich Ihnen helfen?"),
    user("was kostet ein reisepass"),
    {"event": "action", "name": "action_answer_service"},
    bot("Der Reisepass kostet 70 Euro."),
    {"event": "action", "name": "utter_anything_else"},
    bot("Kann ich sonst noch etwas für Sie tun?"),
    {"event": "action", "name": "action_listen"},
]


def test_repeat_says_the_last_bot_turn_again() -> None:
    messages, events = run_action(
        ActionRepeatLast(), tracker("wie bitte", "repeat", events=HISTORY)
    )
    assert said(messages) == [
        "Der Reisepass kostet 70 Euro.",
        "Kann ich sonst noch etwas für Sie tun?",
    ]
    # "nein" now answers "anything else?" (data/rules/conversation.yml)
    assert events == [SlotSet("repeated_question", "anything_else")]


def test_after_repeating_the_offer_of_a_person_yes_means_yes() -> None:
    history = [
        user("sind sie ein roboter"),
        {"event": "action", "name": "utter_bot_challenge"},
        bot("Ich bin ein digitaler Assistent. Möchten Sie mit einer Mitarbeiterin sprechen?"),
        {"event": "action", "name": "action_listen"},
    ]
    messages, events = run_action(
        ActionRepeatLast(), tracker("wie bitte", "repeat", events=history)
    )
    assert len(messages) == 1 and events == [SlotSet("repeated_question", "offer_person")]


def test_slower_sends_the_speech_payload_then_repeats() -> None:
    messages, _ = run_action(
        ActionRepeatLast(), tracker("bitte langsamer", "speak_slower", events=HISTORY)
    )
    assert messages[0]["response"] == "utter_speak_slower"
    assert said(messages)[1:] == [
        "Der Reisepass kostet 70 Euro.",
        "Kann ich sonst noch etwas für Sie tun?",
    ]


def test_a_second_repeat_repeats_the_answer_not_the_slower_notice() -> None:
    history = [
        *HISTORY,
        user("bitte langsamer"),
        bot("Gerne, ich spreche langsamer.", {"speech": "slower"}),
        bot("Der Reisepass kostet 70 Euro."),
    ]
    assert last_bot_turn([*history, user("wie bitte")]) == ["Der Reisepass kostet 70 Euro."]


def test_nothing_to_repeat() -> None:
    messages, events = run_action(ActionRepeatLast(), tracker("wie bitte", "repeat"))
    assert [m["response"] for m in messages] == ["utter_nothing_to_repeat"]
    assert events == [SlotSet("repeated_question", "none")]


def test_the_speech_payload_is_in_the_domain() -> None:
    import yaml
    from actions.catalogue import default_directory

    domain = default_directory().parent / "domain" / "faq.yml"
    response = yaml.safe_load(domain.read_text())["responses"]["utter_speak_slower"][0]
    assert response["custom"] == {"speech": "slower"}
