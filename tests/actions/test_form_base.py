"""actions/form_base.py: the one read-back, confirm and correct step of every form that stores
a request, and the registry of request kinds, settings and lazy catalogue around it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from actions.appointment import ValidateAppointmentForm
from actions.check import problems
from actions.form_base import CONFIRMED, ReadBack, ReadBackForm, reset_events
from actions.form_delivery import ValidateFormDeliveryForm
from actions.kinds import KINDS, request_kind
from actions.sperrmuell import ValidateSperrmuellForm
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from tests.actions.helpers import make_tracker, responses

ROOT = Path(__file__).parents[2]


class TwoParts(ReadBackForm):
    """A form with a name and a phone number, and a correcting flag."""

    read_back = ReadBack(
        confirmed="t_confirmed",
        parts=("t_name", "t_phone"),
        unclear="utter_t_unclear",
        correcting="t_correcting",
        correction_unclear="utter_t_correction_unclear",
        correct_part="utter_t_correct_part",
        phone="t_phone",
        other_number="t_other_number",
    )

    def name(self) -> str:
        return "validate_t_form"

    def named_parts(self, text: str, tracker: Tracker) -> list[str]:
        said = text.split()
        return [p for p, w in (("t_name", "name"), ("t_phone", "nummer")) if w in said]

    def take_new_value(
        self, part: str, text: str, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> dict[str, Any]:
        return {"t_name": "Anna"} if part == "t_name" and "anna" in text else {}


def confirm(
    form: ReadBackForm, text: Any, intent: str | None = None, **slots: Any
) -> tuple[dict[str, Any], list[str]]:
    dispatcher = CollectingDispatcher()
    result = form.confirm(text, dispatcher, make_tracker(str(text), intent, **slots))
    return result, responses(dispatcher.messages)


@pytest.mark.parametrize(
    ("text", "intent", "correcting", "expected", "said"),
    [
        ("ja", "affirm", False, {"t_confirmed": True, "t_correcting": False}, []),
        ("passt so", None, False, {"t_confirmed": True, "t_correcting": False}, []),
        ("nein", "deny", False, {"t_confirmed": None, "t_correcting": True}, []),
        (
            "der name ist falsch",
            None,
            False,
            {"t_confirmed": None, "t_correcting": False, "t_name": None},
            ["utter_t_correct_part"],
        ),
        # a new value in the same sentence is taken, so the part is not asked again
        (
            "der name ist anna",
            None,
            True,
            {"t_confirmed": None, "t_correcting": False, "t_name": "Anna"},
            [],
        ),
        (
            "die nummer",
            None,
            True,
            {"t_confirmed": None, "t_correcting": False, "t_phone": None, "t_other_number": True},
            ["utter_t_correct_part"],
        ),
        ("nichts", None, True, {"t_confirmed": None, "t_correcting": False}, []),
        ("ja", "affirm", True, {"t_confirmed": None, "t_correcting": False}, []),
        (
            "hm",
            None,
            True,
            {"t_confirmed": None, "t_correcting": True},
            ["utter_t_correction_unclear"],
        ),
        ("vielleicht", None, False, {"t_confirmed": None}, ["utter_t_unclear"]),
        ("wie bitte", "repeat", False, {"t_confirmed": None}, []),
        ("bitte langsamer", "speak_slower", False, {"t_confirmed": None}, ["utter_speak_slower"]),
    ],
)
def test_the_read_back_answer(
    text: str, intent: str | None, correcting: bool, expected: dict[str, Any], said: list[str]
) -> None:
    assert confirm(TwoParts(), text, intent, t_correcting=correcting) == (expected, said)


def test_a_single_part_form_takes_no_as_that_part() -> None:
    class OnePart(TwoParts):
        read_back = ReadBack("o_confirmed", ("o_email",), "utter_o_unclear", correct_part="utter_o")

        def named_parts(self, text: str, tracker: Tracker) -> list[str]:
            return []

    assert confirm(OnePart(), "nein", "deny") == (
        {"o_confirmed": None, "o_email": None},
        ["utter_o"],
    )
    assert confirm(OnePart(), True) == ({"o_confirmed": True}, [])


@pytest.mark.parametrize(
    ("form", "slot"),
    [
        (ValidateAppointmentForm(), "appointment_confirmed"),
        (ValidateSperrmuellForm(), "sperrmuell_confirmed"),
        (ValidateFormDeliveryForm(), "form_email_confirmed"),
    ],
)
def test_every_form_confirms_with_the_same_value(form: ReadBackForm, slot: str) -> None:
    """One convention: True (the domain declares these slots text, any and bool; the e2e
    stories expect true)."""
    result, said = confirm(form, "ja", "affirm")
    assert result[slot] is CONFIRMED is True and said == []


def test_resets_clear_only_what_holds_a_value() -> None:
    t = make_tracker(a="x", b=None, flag=True, other=False)
    events = reset_events(t, ("a", "b"), ("flag", "other"))
    assert events == [SlotSet("a", None), SlotSet("flag", False)]


def test_the_kinds_registry() -> None:
    assert list(KINDS) == ["appointment", "sperrmuell", "form_delivery"]
    assert request_kind("sperrmuell").label_in("de") == "Sperrmüll-Anmeldung"
    assert request_kind("appointment").label_in("en") == "appointment request"
    with pytest.raises(ValueError, match="appointment, sperrmuell, form_delivery"):
        request_kind("parking")


def test_importing_the_actions_reads_no_environment_and_no_file() -> None:
    """A bad VOICEBOT_TODAY and a missing catalogue do not stop the import (rasa_sdk imports
    every module at the start); actions.check finds both."""
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT / "rasa_project"),
        "VOICEBOT_TODAY": "not a date",
        "VOICEBOT_CATALOGUE_DIR": "/nonexistent",
    }
    code = (
        "import pkgutil, importlib, actions\n"
        "for m in pkgutil.walk_packages(actions.__path__, 'actions.'):\n"
        "    importlib.import_module(m.name)\n"
        "import actions.services as s\n"
        "assert s._load.cache_info().currsize == 0\n"
        "from actions.check import problems\n"
        "print(problems())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "VOICEBOT_TODAY" in done.stdout


def test_the_check_passes_with_the_project_catalogue(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("VOICEBOT_TODAY", "VOICEBOT_CATALOGUE_DIR", "VOICEBOT_SPERRMUELL_LEAD_DAYS"):
        monkeypatch.delenv(name, raising=False)
    assert problems() == []
    monkeypatch.setenv("VOICEBOT_CATALOGUE_DIR", "/nonexistent")
    assert "VOICEBOT_CATALOGUE_DIR" in problems()[0]


def test_the_sdk_registers_exactly_the_domain_actions() -> None:
    """rasa_sdk registers every non-abstract Action subclass at the start: the base classes
    (ReadBackForm, AskReadBack, AskPhone) must not be among them, every custom action of
    the domain must."""
    import yaml
    from rasa_sdk.executor import ActionExecutor

    declared: set[str] = set()
    for domain_file in (ROOT / "rasa_project" / "domain").glob("*.yml"):
        declared |= set((yaml.safe_load(domain_file.read_text()) or {}).get("actions") or [])
    executor = ActionExecutor()
    executor.register_package("actions")
    registered = {  # the test modules' own example forms aside
        name
        for name, run in executor.actions.items()
        if type(run.__self__).__module__.startswith("actions.")
    }
    assert registered - declared <= {"action_session_start"}  # Rasa's default, overridden
    assert {a for a in declared if a.startswith(("action_", "validate_"))} <= registered
