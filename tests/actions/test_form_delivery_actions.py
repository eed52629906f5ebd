"""The form delivery (actions/form_delivery.py) with rasa_sdk's CollectingDispatcher: what the
validation action makes of the caller's words, what the caller hears, and what is sent to the
gateway (a small aiohttp server stands in for POST /api/requests, as in
test_requests_client.py). Run by the Rasa interpreter: `make test-actions`."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from actions.form_delivery import (
    EMAIL_PROBLEMS,
    ActionAskFormEmailConfirmed,
    ActionResetFormDelivery,
    ActionStartFormEmail,
    ActionSubmitFormDelivery,
    ValidateFormDeliveryForm,
)
from actions.form_delivery_text import delivery_of, email_draft, say_link, spoken_link
from actions.normalise import email_problem, heard_email, spoken_email
from actions.services import catalogue
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from tests.actions.helpers import configured, make_tracker, with_gateway

FORM = "form_delivery_form"
REQUIRED = ["form_service", "form_delivery", "form_email", "form_email_confirmed"]
DOMAIN: dict[str, Any] = {"forms": {FORM: {"required_slots": REQUIRED}}, "slots": {}}
FORM_SLOTS = ("form_service", "form_title", "form_delivery", "form_email", "form_email_confirmed")


def tracker(
    text: str = "",
    intent: str = "inform_service",
    entities: list[dict[str, Any]] | None = None,
    active: bool = True,
    **kwargs: Any,
) -> Tracker:
    loop = FORM if active else None
    return make_tracker(text, intent, sender="CA88", entities=entities, loop=loop, **kwargs)


def validate(t: Tracker) -> tuple[dict[str, Any], list[str]]:
    """The slots the validation action sets, and the responses it says."""
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ValidateFormDeliveryForm().run(dispatcher, t, DOMAIN))
    slots = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
    return slots, [m["response"] for m in dispatcher.messages]


def entity(value: str) -> list[dict[str, Any]]:
    return [{"entity": "service", "value": value, "start": 0, "end": 1}]


# --- the words -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("per e-mail bitte", "email"),
        ("per Mail", "email"),
        ("Per E-Mail.", "email"),
        ("schicken sie es mir per email", "email"),
        ("anna at web punkt de", "email"),
        ("lesen sie mir den link vor", "read_out"),
        ("vorlesen bitte", "read_out"),
        ("den Link bitte", "read_out"),
        ("sagen sie ihn mir einfach", "read_out"),
        ("ja", None),
        ("per post", None),
        ("", None),
    ],
)
def test_the_channel_from_the_callers_words(text: str, expected: str | None) -> None:
    assert delivery_of(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("anna punkt schmidt at example punkt de", "anna.schmidt@example.de"),
        ("ja anna punkt schmidt at example punkt de bitte", "anna.schmidt@example.de"),
        ("Ähm, max at web punkt de. Danke.", "max@web.de"),
        ("m wie martha a x at gmx punkt de", "max@gmx.de"),
        ("nein, peter at t minus online punkt de", "peter@t-online.de"),
        ("per e-mail an anna at web punkt de", "anna@web.de"),
        ("meine adresse ist max at web", None),
        ("max mustermann", None),
    ],
)
def test_an_address_is_heard_without_the_words_around_it(text: str, expected: str | None) -> None:
    assert heard_email(text) == expected


@pytest.mark.parametrize(
    ("text", "response"),
    [
        ("anna schmidt web punkt de", "utter_form_email_no_at"),
        ("anna at at web punkt de", "utter_form_email_two_at"),
        ("meine adresse ist at web punkt de", "utter_form_email_no_name"),
        ("anna at web", "utter_form_email_no_ending"),
        ("anna at web punkt d", "utter_form_email_no_ending"),
        ("anna at web punkt de und noch was ganz anderes ät", "utter_form_email_two_at"),
        ("anna at minus web punkt de", "utter_form_email_unclear"),
    ],
)
def test_what_is_wrong_with_an_address_is_named(text: str, response: str) -> None:
    assert heard_email(text) is None
    assert EMAIL_PROBLEMS[email_problem(text)] == response


def test_the_address_is_read_back_spelled() -> None:
    assert spoken_email("anna.schmidt@example.de") == (
        "A N N A, Punkt, S C H M I D T, at, E X A M P L E, Punkt, D E"
    )
    assert spoken_email("max_12@gmx.net") == "M A X, Unterstrich, eins zwei, at, G M X Punkt net"
    assert spoken_email("a-b@web.de") == "A, Bindestrich, B, at, web Punkt de"


def test_the_link_is_read_out_for_the_tts() -> None:
    wohngeld = catalogue().services["wohngeld"]
    assert spoken_link(wohngeld.form.url) == (
        "leverkusen punkt de, Schrägstrich, formulare, Schrägstrich, "
        "wohngeld Bindestrich antrag Punkt P D F"
    )
    assert spoken_link("https://www.leverkusen.de") == "leverkusen punkt de"
    said = say_link(wohngeld)
    assert said.startswith("Das Formular „Wohngeldantrag“ finden Sie im Internet unter: ")
    assert "https" not in said and "/" not in said


def test_the_email_has_the_form_the_link_and_the_office() -> None:
    draft = email_draft("anna@web.de", catalogue().services["wohngeld"])
    assert draft.to == "anna@web.de"
    assert draft.subject == "Ihr Formular: Wohngeldantrag"
    body = draft.body
    assert body.startswith("Guten Tag,\n")
    assert "Wohngeldantrag\nhttps://www.leverkusen.de/formulare/wohngeld-antrag.pdf\n" in body
    assert "Zuständig ist: Wohngeldstelle" in body
    assert "Adresse: Hauptstraße 101, 51373 Leverkusen" in body
    assert "Öffnungszeiten: Die Wohngeldstelle hat montags" in body
    assert "Telefon: 0214 406-5010" in body
    assert "auf Ihren Wunsch vom Bürgertelefon" in body
    assert "@" not in body  # no reply address is promised


# --- the validation action (extraction and validation together) ---------------------------


@pytest.mark.parametrize("active", [True, False])  # Rasa marks the loop active first
def test_the_first_sentence_fills_service_and_channel(active: bool) -> None:
    t = tracker(
        "schicken sie mir das formular für die hundesteuer per e-mail",
        "request_form",
        entity("hundesteuer"),
        active=active,
    )
    slots, said = validate(t)
    assert slots == {
        "form_service": "hundesteuer",
        "form_title": "Anmeldung zur Hundesteuer",
        "form_delivery": "email",
    }
    assert said == []


def test_the_service_asked_about_before_is_the_form_meant() -> None:
    t = tracker("können sie mir das formular schicken", "request_form", service="wohngeld")
    slots, _ = validate(t)
    assert slots["form_service"] == "wohngeld"


def test_no_service_at_the_start_is_asked_for() -> None:
    slots, said = validate(tracker("können sie mir das formular schicken", "request_form"))
    assert slots == {} and said == []


@pytest.mark.parametrize(
    ("text", "ents", "slots", "said"),
    [
        (
            "das wohngeld",
            entity("wohngeld"),
            {"form_service": "wohngeld", "form_title": "Wohngeldantrag"},
            [],
        ),
        (
            "für meinen hund die steuer",
            [],  # no entity: the catalogue's synonyms
            {"form_service": "hundesteuer", "form_title": "Anmeldung zur Hundesteuer"},
            [],
        ),
        (
            "den personalausweis",
            entity("personalausweis"),
            {"form_service": None, "form_title": None},
            ["utter_form_service_no_form_others"],
        ),
        (
            "keine ahnung",
            [],
            {"form_service": None, "form_title": None},
            ["utter_form_service_unknown"],
        ),
    ],
)
def test_the_form_service(
    text: str, ents: list[Any], slots: dict[str, Any], said: list[str]
) -> None:
    got, responses = validate(tracker(text, "inform_service", ents, requested_slot="form_service"))
    assert {k: v for k, v in got.items() if k != "requested_slot"} == slots
    assert responses == said


def test_a_service_without_a_form_names_the_forms_of_its_office() -> None:
    dispatcher = CollectingDispatcher()
    t = tracker(
        "den personalausweis",
        "inform_service",
        entity("personalausweis"),
        requested_slot="form_service",
    )
    asyncio.run(ValidateFormDeliveryForm().run(dispatcher, t, DOMAIN))
    (message,) = dispatcher.messages
    assert message["service"] == "den Personalausweis"
    assert message["office"] == "Beim Bürgerbüro"
    assert message["forms"] == "„Wohnungsgeberbestätigung“ und „Abmeldung bei der Meldebehörde“"


@pytest.mark.parametrize(
    ("text", "slots", "said"),
    [
        ("per e-mail bitte", {"form_delivery": "email"}, []),
        ("lesen sie mir den link vor", {"form_delivery": "read_out", "requested_slot": None}, []),
        (
            "an anna at web punkt de bitte",
            {"form_delivery": "email", "form_email": "anna@web.de"},
            [],
        ),
        ("ja", {"form_delivery": None}, ["utter_form_delivery_invalid"]),
        ("per post", {"form_delivery": None}, ["utter_form_delivery_no_post"]),
    ],
)
def test_the_form_delivery(text: str, slots: dict[str, Any], said: list[str]) -> None:
    t = tracker(
        text,
        "request_form",
        requested_slot="form_delivery",
        form_service="wohngeld",
        form_title="Wohngeldantrag",
    )
    got, responses = validate(t)
    assert {k: v for k, v in got.items() if k in slots} == slots
    assert responses == said


@pytest.mark.parametrize(
    ("text", "slots", "said"),
    [
        (
            "anna punkt schmidt at example punkt de",
            {"form_email": "anna.schmidt@example.de", "form_email_confirmed": None},
            [],
        ),
        (
            "anna schmidt example punkt de",
            {"form_email": None, "form_email_confirmed": None},
            ["utter_form_email_no_at"],
        ),
        (
            "meine adresse ist max at web",
            {"form_email": None, "form_email_confirmed": None},
            ["utter_form_email_no_ending"],
        ),
    ],
)
def test_the_form_email(text: str, slots: dict[str, Any], said: list[str]) -> None:
    t = tracker(
        text,
        "inform_email",
        requested_slot="form_email",
        form_service="wohngeld",
        form_delivery="email",
    )
    got, responses = validate(t)
    assert {k: v for k, v in got.items() if k in slots} == slots
    assert responses == said


@pytest.mark.parametrize(
    ("text", "intent", "slots", "said"),
    [
        ("ja", "affirm", {"form_email_confirmed": True, "form_email": "max@web.de"}, []),
        ("ja genau richtig", "affirm", {"form_email_confirmed": True}, []),
        (
            "nein",
            "deny",
            {"form_email_confirmed": None, "form_email": None},
            ["utter_form_email_again"],
        ),
        (
            "nein max at gmx punkt de",
            "deny",
            {"form_email_confirmed": None, "form_email": "max@gmx.de"},
            [],
        ),
        # "Wie bitte?" is no answer: the form reads the address back again (form_base.py)
        (
            "wie bitte",
            "repeat",
            {"form_email_confirmed": None, "form_email": "max@web.de"},
            [],
        ),
    ],
)
def test_the_read_back_answer(
    text: str, intent: str, slots: dict[str, Any], said: list[str]
) -> None:
    t = tracker(
        text,
        intent,
        requested_slot="form_email_confirmed",
        form_service="wohngeld",
        form_delivery="email",
        form_email="max@web.de",
    )
    got, responses = validate(t)
    merged = {"form_email": "max@web.de", **got}
    assert {k: v for k, v in merged.items() if k in slots} == slots
    assert responses == said


@pytest.mark.parametrize(
    ("text", "intent"), [("abbrechen", "cancel"), ("einen mitarbeiter bitte", "request_human")]
)
def test_cancel_or_a_person_is_no_answer_so_the_form_rejects(text: str, intent: str) -> None:
    for requested in REQUIRED:
        t = tracker(
            text,
            intent,
            requested_slot=requested,
            form_service="wohngeld",
            form_delivery="email",
            form_email="max@web.de",
        )
        assert validate(t) == ({}, [])


def test_read_out_needs_no_address() -> None:
    t = tracker("vorlesen", "request_form", requested_slot="form_delivery", form_service="wohngeld")
    slots, _ = validate(t)
    assert slots["requested_slot"] is None  # the form is complete


def test_the_read_back_question_spells_the_address() -> None:
    dispatcher = CollectingDispatcher()
    t = tracker("max at web punkt de", "inform_email", form_email="max@web.de")
    asyncio.run(ActionAskFormEmailConfirmed().run(dispatcher, t, DOMAIN))
    assert dispatcher.messages[0]["response"] == "utter_form_email_read_back"
    assert dispatcher.messages[0]["email"] == "M A X, at, web Punkt de"


def test_the_reset_empties_the_form() -> None:
    full = tracker(
        form_service="wohngeld",
        form_title="Wohngeldantrag",
        form_delivery="email",
        form_email="max@web.de",
        form_email_confirmed=True,
    )
    events = asyncio.run(ActionResetFormDelivery().run(CollectingDispatcher(), full, DOMAIN))
    assert events == [SlotSet(slot, None) for slot in FORM_SLOTS]
    # slots already empty are left alone (form_base.reset_events)
    assert (
        asyncio.run(ActionResetFormDelivery().run(CollectingDispatcher(), tracker(), DOMAIN)) == []
    )


# --- the submission ------------------------------------------------------------------------


def submit(
    t: Tracker, status: int, answer: Any
) -> tuple[list[Any], list[dict[str, Any]], CollectingDispatcher]:
    """Runs action_submit_form_delivery against a stand-in gateway; returns the action's
    events, the bodies the gateway got, and the dispatcher."""
    dispatcher = CollectingDispatcher()
    result: list[Any] = []

    async def scenario(url: str) -> None:
        with configured(gateway_url=url):
            result.append(await ActionSubmitFormDelivery().run(dispatcher, t, DOMAIN))

    seen = asyncio.run(with_gateway(status, answer, scenario))
    return result[0], [body for _, body in seen], dispatcher


def email_tracker() -> Tracker:
    return tracker(
        "ja",
        "affirm",
        active=False,
        metadata={"caller": "+4921477123"},
        form_service="wohngeld",
        form_title="Wohngeldantrag",
        form_delivery="email",
        form_email="anna.schmidt@example.de",
        form_email_confirmed=True,
    )


def saved(state: str | None) -> dict[str, Any]:
    outbox = [{"id": 1, "state": state, "recipient": "anna.schmidt@example.de"}] if state else []
    return {"id": "K7M42X", "id_spoken": "K 7 M 4 2 X", "outbox": outbox}


def test_by_email_the_gateway_gets_the_request_and_the_email() -> None:
    events, seen, dispatcher = submit(email_tracker(), 201, saved("pending"))
    (body,) = seen
    assert body["kind"] == "form_delivery"
    assert body["call_id"] == "CA88" and body["caller"] == "+4921477123"
    assert body["data"] == {
        "service": "wohngeld",
        "form": "Wohngeldantrag",
        "url": "https://www.leverkusen.de/formulare/wohngeld-antrag.pdf",
        "delivery": "email",
        "email": "anna.schmidt@example.de",
    }
    assert body["summary"] == "Formular „Wohngeldantrag“ per E-Mail an anna.schmidt@example.de"
    draft = email_draft("anna.schmidt@example.de", catalogue().services["wohngeld"])
    assert body["email"] == {"to": draft.to, "subject": draft.subject, "body": draft.body}
    responses = [m["response"] for m in dispatcher.messages]
    assert responses == ["utter_request_saved", "utter_form_email_sent"]
    assert dispatcher.messages[1]["email"].startswith("A N N A, Punkt, S C H M I D T, at")
    assert SlotSet("request_reference", "K7M42X") in events
    assert SlotSet("form_delivery_result", "done") in events
    assert all(SlotSet(slot, None) in events for slot in FORM_SLOTS)


def test_without_smtp_the_bot_says_so_and_reads_the_link() -> None:
    events, seen, dispatcher = submit(email_tracker(), 201, saved("not_configured"))
    assert len(seen) == 1
    responses = [m["response"] for m in dispatcher.messages]
    assert responses == ["utter_request_saved", "utter_form_email_not_configured", None]
    assert dispatcher.messages[2]["text"] == say_link(catalogue().services["wohngeld"])
    assert SlotSet("form_delivery_result", "done") in events


def test_a_refused_request_says_the_apology_and_keeps_the_slots() -> None:
    events, _, dispatcher = submit(email_tracker(), 500, {"error": "boom"})
    assert [m["response"] for m in dispatcher.messages] == ["utter_request_not_saved"]
    assert events == [SlotSet("form_delivery_result", "not_saved")]  # the agent gets the slots


def test_read_out_says_the_link_and_stores_it_for_the_statistics() -> None:
    t = tracker(
        "vorlesen",
        "request_form",
        active=False,
        form_service="hundesteuer",
        form_title="Anmeldung zur Hundesteuer",
        form_delivery="read_out",
    )
    events, seen, dispatcher = submit(t, 201, saved(None))
    (body,) = seen
    assert body["kind"] == "form_delivery"
    assert body["data"] == {
        "service": "hundesteuer",
        "form": "Anmeldung zur Hundesteuer",
        "url": "https://www.leverkusen.de/formulare/hundesteuer-anmeldung.pdf",
        "delivery": "read_out",
    }
    assert body["summary"] == "Formular „Anmeldung zur Hundesteuer“: Link vorgelesen"
    assert "email" not in body
    assert [m["text"] for m in dispatcher.messages] == [
        say_link(catalogue().services["hundesteuer"])
    ]
    assert SlotSet("form_delivery_result", "done") in events


def test_read_out_without_a_gateway_still_gives_the_link() -> None:
    t = tracker(
        "vorlesen",
        "request_form",
        active=False,
        form_service="hundesteuer",
        form_delivery="read_out",
    )
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ActionSubmitFormDelivery().run(dispatcher, t, DOMAIN))
    assert dispatcher.messages[0]["text"].startswith("Das Formular „Anmeldung zur Hundesteuer“")
    assert SlotSet("form_delivery_result", "done") in events


# --- "Soll ich Ihnen das Formular per E-Mail schicken?" - "Ja" -------------------------------


def start_form_email(**slots: Any) -> dict[str, Any]:
    dispatcher = CollectingDispatcher()
    t = tracker("ja", "affirm", active=False, **slots)
    events = asyncio.run(ActionStartFormEmail().run(dispatcher, t, DOMAIN))
    assert dispatcher.messages == []  # the form asks next
    return {e["name"]: e["value"] for e in events if e["event"] == "slot"}


def test_yes_to_the_email_offer_starts_with_the_form_named_and_email() -> None:
    named = next(s for s in catalogue().services.values() if s.form is not None)
    slots = start_form_email(service=named.id, form_email="alt@example.de")
    assert slots["form_service"] == named.id and slots["form_delivery"] == "email"
    assert slots["form_title"] == named.form.name.de  # type: ignore[union-attr]
    assert slots["form_email"] is None  # an address from an earlier delivery is not reused
    # with the service and the way set, the form asks for the address
    t = tracker("ja", "affirm", **slots, requested_slot=None)
    assert [r for r in REQUIRED if not t.get_slot(r)][0] == "form_email"


def test_yes_to_the_email_offer_without_a_known_form_leaves_the_form_to_ask() -> None:
    without = next(s for s in catalogue().services.values() if s.form is None)
    slots = start_form_email(service=without.id)
    assert slots.get("form_service") is None and slots["form_delivery"] == "email"
