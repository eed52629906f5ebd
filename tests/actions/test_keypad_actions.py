"""The keypad menu after a second miss (actions/keypad.py): built from the catalogue's
offices, a key hands over to its office. Run by the Rasa interpreter: `make test-actions`."""

from __future__ import annotations

from actions.keypad import (
    MAX_OFFICES,
    ActionKeypadChoice,
    ActionOfferKeypad,
    menu_offices,
    menu_text,
    office_for_key,
)
from actions.services import catalogue
from rasa_sdk.events import SlotSet

from tests.actions.helpers import make_tracker, run_action


def test_the_menu_names_every_office_with_its_key_and_the_null_for_a_person() -> None:
    where = catalogue()
    offices = menu_offices(where)
    text = menu_text(where, "de")
    assert 0 < len(offices) <= MAX_OFFICES
    assert "Für das Bürgerbüro, zum Beispiel " in text
    assert text.count("drücken Sie die") == len(offices) + 1
    assert text.endswith("Für eine Mitarbeiterin oder einen Mitarbeiter drücken Sie die Null.")
    assert "1" not in text  # keys are said as words ("die Eins")
    for office in offices:
        assert office.name.de in text


def test_the_english_menu() -> None:
    text = menu_text(catalogue(), "en")
    assert "press one" in text and text.endswith("For a member of staff, press zero.")


def test_keys_map_to_the_offices_in_menu_order() -> None:
    where = catalogue()
    offices = menu_offices(where)
    assert office_for_key(where, "1") == offices[0]
    assert office_for_key(where, str(len(offices))) == offices[-1]
    assert office_for_key(where, "0") is None
    assert office_for_key(where, "9") is None
    assert office_for_key(where, "#") is None
    assert office_for_key(where, None) is None


def test_offer_reads_the_menu() -> None:
    said, events = run_action(ActionOfferKeypad(), make_tracker("/acoustic_miss", "acoustic_miss"))
    assert said[0]["response"] == "utter_keypad_menu"
    assert "Bürgerbüro" in said[0]["menu"]
    assert events == []


def test_offer_in_english() -> None:
    t = make_tracker("/acoustic_miss", "acoustic_miss", language="en")
    said, _ = run_action(ActionOfferKeypad(), t)
    assert "press" in said[0]["menu"]


def test_a_pressed_key_picks_its_office() -> None:
    second = menu_offices(catalogue())[1]
    t = make_tracker('/dtmf{"dtmf_digits":"2"}', "dtmf", dtmf_digits="2")
    _, events = run_action(ActionKeypadChoice(), t)
    assert SlotSet("office", second.id) in events
    assert SlotSet("keypad_choice", "office") in events
    assert SlotSet("dtmf_digits", None) in events


def test_a_spoken_key_picks_its_office() -> None:
    first = menu_offices(catalogue())[0]
    entities = [{"entity": "dtmf_digits", "value": "eins"}]
    _, events = run_action(
        ActionKeypadChoice(), make_tracker("die eins", "dtmf", entities=entities)
    )
    assert SlotSet("office", first.id) in events


def test_the_null_hands_over_to_anyone() -> None:
    t = make_tracker("null", "dtmf", dtmf_digits="0", office="standesamt")
    _, events = run_action(ActionKeypadChoice(), t)
    assert SlotSet("office", None) in events
    assert SlotSet("keypad_choice", "office") in events


def test_a_key_not_on_the_menu_is_invalid() -> None:
    t = make_tracker("/dtmf", "dtmf", dtmf_digits="9")
    _, events = run_action(ActionKeypadChoice(), t)
    assert SlotSet("keypad_choice", "invalid") in events
    assert not any(e.get("name") == "office" for e in events)


def test_the_handoff_after_a_key_goes_to_the_chosen_office() -> None:
    from actions.handoff import ActionHandOver

    t = make_tracker('/dtmf{"dtmf_digits":"2"}', "dtmf", office="standesamt")
    said, events = run_action(ActionHandOver(), t)
    assert said[0]["response"] == "utter_handoff_office"
    assert "Standesamt" in said[0]["office"]
    assert SlotSet("handoff_mode", "transfer") in events
