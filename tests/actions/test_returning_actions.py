"""Returning callers (issue 16, item 2): the number spoken or keyed, the gateway's check, and
what the bot says (the status only after the check). A stand-in gateway answers /api/lookup."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from actions.returning import (
    ActionReturningByNumber,
    ActionReturningStatus,
    ValidateReturningForm,
    spoken_reference,
)
from aiohttp import web
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from tests.actions.helpers import configured, free_port, make_tracker, responses, run_action

VERIFIED = {
    "result": "verified",
    "id": "K7M42X",
    "id_spoken": "Ka wie Köln, sieben, Em wie München, vier, zwo, Ix wie Xanten",
    "kind": "request",
    "label": "Sperrmüll-Anmeldung (Vorprüfung)",
    "status": "done",
    "note": "Abholung am 3. März.",
}


@pytest.mark.parametrize(
    ("said", "reference"),
    [
        ("K7M42X", "K7M42X"),
        ("k 7 m 4 2 x", "K7M42X"),
        ("Ka sieben Em vier zwo Ix", "K7M42X"),
        ("meine Vorgangsnummer ist K wie Köln, 7, M wie München, 4, 2, X wie Xanten", "K7M42X"),
        ("576429", "576429"),
        ("K7M42", None),
        ("A7M42X", None),  # no vowels in a Vorgangsnummer
        ("ich weiß sie nicht mehr", None),
    ],
)
def test_the_number_is_read_from_speech_or_keys(said: str, reference: str | None) -> None:
    assert spoken_reference(said) == reference


def validate(
    slot: str, value: str, answers: list[dict[str, Any]], **slots: Any
) -> tuple[list[str], dict[str, Any], list[dict[str, Any]]]:
    """Runs the form validation of `slot` against a gateway that gives `answers` in turn;
    returns what the bot said, the slots set and the bodies the gateway got."""
    seen: list[dict[str, Any]] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append(await request.json())
        return web.json_response(answers[len(seen) - 1])

    async def main() -> tuple[CollectingDispatcher, dict[str, Any]]:
        app = web.Application()
        app.router.add_post("/api/lookup", handler)
        runner = web.AppRunner(app)
        await runner.setup()
        port = free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        try:
            with configured(gateway_url=f"http://127.0.0.1:{port}", api_token="t"):
                tracker = make_tracker(
                    value, "inform", caller="+4921477123", loop="returning_form", **slots
                )
                dispatcher = CollectingDispatcher()
                method = getattr(ValidateReturningForm(), f"validate_{slot}")
                return dispatcher, await method(value, dispatcher, tracker, {})
        finally:
            await runner.cleanup()

    dispatcher, set_slots = asyncio.run(main())
    return responses(dispatcher.messages), set_slots, seen


def test_the_same_number_ends_the_form_with_the_status() -> None:
    said, slots, seen = validate("returning_reference", "K7M42X", [VERIFIED])
    assert said == []
    assert slots["returning_result"] == VERIFIED and slots["returning_postcode"] == "-"
    assert seen == [{"reference": "K7M42X", "call_id": "call-1", "caller": "+4921477123"}]


def test_another_number_is_asked_for_the_postcode() -> None:
    said, slots, _ = validate(
        "returning_reference", "Ka sieben Em vier zwo Ix", [{"result": "need_detail"}]
    )
    assert said == [] and slots["returning_reference"] == "K7M42X"
    assert "returning_postcode" not in slots  # the form asks it next


def test_a_wrong_postcode_tells_nothing_and_asks_again() -> None:
    said, slots, seen = validate(
        "returning_postcode",
        "fünf eins drei sieben neun",
        [{"result": "mismatch", "attempts_left": 2}],
        returning_reference="K7M42X",
    )
    assert said == ["utter_returning_mismatch"] and slots == {"returning_postcode": None}
    assert seen[0]["postcode"] == "51379" and seen[0]["reference"] == "K7M42X"


def test_the_right_postcode_ends_the_form() -> None:
    said, slots, _ = validate(
        "returning_postcode", "51373", [VERIFIED], returning_reference="K7M42X"
    )
    assert said == [] and slots["returning_result"] == VERIFIED


def test_an_unreadable_number_is_asked_again_then_given_up() -> None:
    said, slots, seen = validate("returning_reference", "Sofa und Schrank", [])
    assert said == ["utter_returning_reference_unclear"] and slots["returning_reference"] is None
    said, slots, _ = validate("returning_reference", "Sofa und Schrank", [], returning_tries=2)
    assert slots["returning_result"] == {"result": "unreadable"} and seen == []


def test_the_gateway_down_tells_nothing() -> None:
    with configured(gateway_url="http://127.0.0.1:9", request_timeout_s=1.0):
        tracker = make_tracker("K7M42X", "inform", caller="+49214", loop="returning_form")
        from actions.returning import lookup

        assert asyncio.run(lookup(tracker, "K7M42X")) == {"result": "unavailable"}


def status(result: Any) -> tuple[list[dict[str, Any]], list[Any]]:
    return run_action(ActionReturningStatus(), make_tracker("", returning_result=result))


def test_the_status_is_told_with_the_note_for_the_caller() -> None:
    messages, events = status(VERIFIED)
    assert responses(messages) == [
        "utter_returning_status_done",
        "utter_returning_note",
        "utter_anything_else",
    ]
    assert messages[0]["reference"].startswith("Ka wie Köln")
    assert messages[1]["note"] == "Abholung am 3. März."
    assert SlotSet("returning_outcome", "told") in events
    assert SlotSet("returning_reference", None) in events


@pytest.mark.parametrize(
    ("result", "response"),
    [
        ({"result": "locked"}, "utter_returning_locked"),
        ({"result": "unreadable"}, "utter_returning_unreadable"),
        ({"result": "unavailable"}, "utter_returning_unavailable"),
        ({"result": "need_detail"}, "utter_returning_unavailable"),
        (None, "utter_returning_unavailable"),
    ],
)
def test_nothing_is_told_without_a_passed_check(result: Any, response: str) -> None:
    messages, events = status(result)
    assert responses(messages) == [response]
    assert SlotSet("returning_outcome", "not_told") in events


def test_six_keys_at_the_menu_are_a_vorgangsnummer_for_the_form() -> None:
    from actions.dtmf import ActionDtmfMenu

    tracker = make_tracker("/dtmf", "dtmf", dtmf_digits="576429#")
    _, events = run_action(ActionDtmfMenu(), tracker)
    assert events == [
        SlotSet("dtmf_choice", "reference"),
        SlotSet("returning_reference", "576429"),
        SlotSet("dtmf_digits", None),
    ]
    _, events = run_action(ActionDtmfMenu(), make_tracker("/dtmf", "dtmf", dtmf_digits="0"))
    assert events[0] == SlotSet("dtmf_choice", "human")


def test_no_number_asks_for_consent_before_the_search_by_number() -> None:
    said, slots, seen = validate("returning_reference", "die habe ich nicht mehr", [])
    assert slots["returning_result"] == {"result": "no_number"} and seen == []
    messages, events = status({"result": "no_number"})
    assert responses(messages) == ["utter_returning_ask_consent"]
    assert SlotSet("returning_outcome", "consent_asked") in events


def by_number(answer: dict[str, Any], **slots: Any) -> tuple[list[str], list[Any], list[Any]]:
    seen: list[Any] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append(await request.json())
        return web.json_response(answer)

    async def main() -> tuple[list[dict[str, Any]], list[Any]]:
        app = web.Application()
        app.router.add_post("/api/lookup", handler)
        runner = web.AppRunner(app)
        await runner.setup()
        port = free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        try:
            with configured(gateway_url=f"http://127.0.0.1:{port}"):
                tracker = make_tracker("ja", "affirm", caller="+4921477123", **slots)
                dispatcher = CollectingDispatcher()
                if slots:
                    events = await ActionReturningStatus().run(dispatcher, tracker, {})
                else:
                    events = await ActionReturningByNumber().run(dispatcher, tracker, {})
                return dispatcher.messages, events
        finally:
            await runner.cleanup()

    messages, events = asyncio.run(main())
    return responses(messages), events, seen


def test_yes_searches_by_the_calling_number_and_is_remembered_for_the_call() -> None:
    said, events, seen = by_number({"result": "found", "requests": [VERIFIED]})
    assert said == ["utter_returning_status_done", "utter_returning_note", "utter_anything_else"]
    assert seen == [{"call_id": "call-1", "by_caller": True, "caller": "+4921477123"}]
    assert SlotSet("returning_consent", True) in events
    # consent given earlier in this call: no second question
    said, _, seen = by_number(
        {"result": "found", "requests": []},
        returning_result={"result": "no_number"},
        returning_consent=True,
    )
    assert said == ["utter_returning_none_found", "utter_anything_else"] and len(seen) == 1


def test_a_number_said_with_the_request_is_looked_up_at_once() -> None:
    from actions.returning import reference_in

    assert reference_in("es geht um die Vorgangsnummer x 4 4 t 2 m") == "X44T2M"
    assert reference_in("ich habe schon eine Vorgangsnummer") is None
    tracker = make_tracker("ich habe schon eine Vorgangsnummer", "returning_caller")
    dispatcher = CollectingDispatcher()
    found = asyncio.run(
        ValidateReturningForm().validate_returning_reference(
            "ich habe schon eine Vorgangsnummer", dispatcher, tracker, {}
        )
    )
    assert found == {"returning_reference": None} and dispatcher.messages == []
    said, slots, seen = validate(
        "returning_reference", "meine Vorgangsnummer ist K 7 M 4 2 X", [VERIFIED]
    )
    assert slots["returning_result"] == VERIFIED and seen[0]["reference"] == "K7M42X"
