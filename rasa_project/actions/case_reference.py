# mypy: disallow-subclassing-any=False
# (rasa_sdk 3.6 ships no py.typed: its Action and FormValidationAction are Any to mypy)
"""Aktenzeichen and Kassenzeichen: spoken or keyed in, checked, read back in groups.

The format is the office's (case_references.yml beside the domain: a pattern per office; the
office is the one of the caller's topic, slot `office`, else the default). The caller says it
("Kassenzeichen eins zwei drei vier, fünf sechs ...", letters with the spelling alphabet: "A
wie Anton") or keys it in (digit-only patterns). The bot reads it back group by group ("eins
zwo drei vier - fünf sechs sieben acht - ...") and asks whether it is right; a "nein" asks
again. Once confirmed, the slot `case_reference_noted` holds it ("1234.5678.9012", the
separators of the pattern put in): a request the caller then makes carries it in its data
(requests_client.py), and a handoff in its slots, where the agent sees it. (`case_reference`
is the form's slot: a reference not yet confirmed, e.g. when the caller cancels, goes nowhere.)

Flow: domain/case_reference.yml, data/rules/case_reference.yml.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from .answers import keypad_or_text, latest_intent, yes_or_no
from .normalise import parse_spelled

FORMATS_FILE = Path(__file__).resolve().parent.parent / "case_references.yml"
VALUE = "case_reference"
NOTED = "case_reference_noted"  # the confirmed reference: what requests and handoffs carry
CONFIRMED = "case_reference_confirmed"
TRIES = "case_reference_tries"
OFFICE_SLOT = "office"
LANGUAGE_SLOT = "language"
MAX_TRIES = 3
MAX_TEXT = 200
CAPITALS = re.compile(r"\b[A-Z]{2,4}\b")
FILLERS = frozenset(
    {"mein", "meine", "unser", "das", "ist", "lautet", "kassenzeichen", "aktenzeichen"}
    | {"az", "nummer", "the", "my", "reference", "is"}
)
SEPARATOR_WORDS = {"schrägstrich": " ", "slash": " ", "querstrich": " "}
DIGITS = {
    "de": ("null", "eins", "zwo", "drei", "vier", "fünf", "sechs", "sieben", "acht", "neun"),
    "en": ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"),
}
# DIN 5009 (2022) city words, as a phone agent spells; English: the NATO alphabet.
_CITIES = (
    "Aachen Berlin Chemnitz Düsseldorf Essen Frankfurt Goslar Hamburg Ingelheim Jena Köln "
    "Leipzig München Nürnberg Offenbach Potsdam Quickborn Rostock Salzwedel Tübingen Unna "
    "Völklingen Wuppertal Xanten Ypsilon Zwickau"
)
_NATO = (
    "Alfa Bravo Charlie Delta Echo Foxtrot Golf Hotel India Juliett Kilo Lima Mike November "
    "Oscar Papa Quebec Romeo Sierra Tango Uniform Victor Whiskey X-ray Yankee Zulu"
)
LETTERS_DE = dict(zip("ABCDEFGHIJKLMNOPQRSTUVWXYZ", _CITIES.split(" "), strict=True))
LETTERS_EN = dict(zip("ABCDEFGHIJKLMNOPQRSTUVWXYZ", _NATO.split(" "), strict=True))


@dataclass(frozen=True)
class CaseFormat:
    """One office's reference: its name and pattern (9 digit, A letter, X either)."""

    kind_de: str
    kind_en: str
    pattern: str
    min_length: int | None = None  # shorter references allowed (the default format)

    @property
    def slots(self) -> str:
        """The pattern without its separators."""
        return "".join(ch for ch in self.pattern if ch in "9AX")

    @property
    def keypad(self) -> bool:
        """Whether it can be keyed in (digits only)."""
        return set(self.slots) == {"9"}

    def kind(self, language: str) -> str:
        """ "Kassenzeichen" / "payment reference"."""
        return self.kind_en if language == "en" else self.kind_de

    def accepts(self, chars: str) -> bool:
        """Whether letters and digits `chars` fit the pattern."""
        shape = self.slots
        if self.min_length is not None:
            shape = shape[: len(chars)] if self.min_length <= len(chars) <= len(shape) else ""
        if len(chars) != len(shape):
            return False
        return all(
            (c.isdigit() if p == "9" else c.isalpha() if p == "A" else c.isalnum())
            for c, p in zip(chars, shape, strict=True)
        )

    def groups(self, chars: str) -> list[str]:
        """The reference in the pattern's groups ("123456789012" -> 1234, 5678, 9012)."""
        out, current, i = [], "", 0
        for p in self.pattern:
            if i >= len(chars):
                break
            if p in "9AX":
                current += chars[i]
                i += 1
            elif current:
                out.append(current)
                current = ""
        return [*out, current] if current else out

    def written(self, chars: str) -> str:
        """The reference as printed: "1234.5678.9012" (the default format: groups spaced)."""
        if self.min_length is not None:
            return " ".join(self.groups(chars))
        out, i = "", 0
        for p in self.pattern:
            if p in "9AX":
                out += chars[i]
                i += 1
            else:
                out += p
        return out


def _format(entry: dict[str, Any]) -> CaseFormat:
    kind = entry["kind"]
    return CaseFormat(
        kind["de"], kind.get("en", kind["de"]), entry["pattern"], entry.get("min_length")
    )


@lru_cache(maxsize=1)
def formats() -> tuple[CaseFormat, dict[str, CaseFormat]]:
    """The default format and those of the offices, read once."""
    data = yaml.safe_load(FORMATS_FILE.read_text(encoding="utf-8"))
    offices = {office: _format(entry) for office, entry in (data.get("offices") or {}).items()}
    return _format(data["default"]), offices


def case_format(tracker: Tracker) -> CaseFormat:
    """The format of the caller's office (slot `office`), else the default."""
    default, offices = formats()
    office = tracker.get_slot(OFFICE_SLOT)
    return offices.get(office, default) if isinstance(office, str) else default


def heard_reference(text: str) -> str | None:
    """Letters and digits of a spoken or keyed reference, upper case; None if not spelled."""
    # letters written together ("AB 12345", "LEV") are spelled one by one
    text = CAPITALS.sub(lambda m: " ".join(m[0]), text[:MAX_TEXT]).lower()
    for word, replacement in SEPARATOR_WORDS.items():
        text = text.replace(word, replacement)
    kept = " ".join(w for w in text.replace(",", " ").split() if w.strip(".:") not in FILLERS)
    spelled = parse_spelled(kept) if kept else None
    if spelled is None:
        return None
    chars = "".join(ch for ch in spelled.upper() if ch.isalnum())
    return chars or None


def spoken_groups(chars: str, fmt: CaseFormat, language: str = "de") -> str:
    """The reference read back group by group: "eins zwo drei vier - fünf sechs ..."."""
    digits = DIGITS["en" if language == "en" else "de"]
    letters = LETTERS_EN if language == "en" else LETTERS_DE
    link = "as in" if language == "en" else "wie"

    def say(ch: str) -> str:
        if ch.isdigit():
            return digits[int(ch)]
        return f"{ch} {link} {letters[ch]}" if ch in letters else ch

    return " - ".join(", ".join(say(ch) for ch in group) for group in fmt.groups(chars))


def _language(tracker: Tracker) -> str:
    return "en" if tracker.get_slot(LANGUAGE_SLOT) == "en" else "de"


class ValidateCaseReferenceForm(FormValidationAction):
    """Checks the format, then the caller's yes to the read-back."""

    def name(self) -> str:
        """The validation action of case_reference_form."""
        return "validate_case_reference_form"

    async def validate_case_reference(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """A reference of the office's format is kept; else asked again (three times)."""
        if slot_value is None:
            return {}
        fmt = case_format(tracker)
        chars = heard_reference(keypad_or_text(slot_value, tracker))
        if chars is not None and fmt.accepts(chars):
            return {VALUE: fmt.written(chars), TRIES: 0}
        tries = int(tracker.get_slot(TRIES) or 0) + 1
        if tries >= MAX_TRIES:
            return {VALUE: "-", CONFIRMED: False, TRIES: 0}
        example = "".join("B" if p == "A" else "1" for p in fmt.slots)
        dispatcher.utter_message(
            response="utter_case_reference_invalid",
            kind=fmt.kind(_language(tracker)),
            example=spoken_groups(example, fmt, _language(tracker)),
        )
        return {VALUE: None, TRIES: tries}

    async def validate_case_reference_confirmed(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """ "ja": kept; "nein": asked again; anything else: the read-back again."""
        if slot_value is None or isinstance(slot_value, bool):
            return {}
        answer = yes_or_no(str(slot_value), latest_intent(tracker))
        if answer is True:
            return {CONFIRMED: True}
        if answer is False:
            return {CONFIRMED: None, VALUE: None}
        return {CONFIRMED: None}


class ActionAskCaseReferenceConfirmed(Action):
    """Reads the reference back in its groups and asks whether it is right."""

    def name(self) -> str:
        """The question of the slot case_reference_confirmed."""
        return "action_ask_case_reference_confirmed"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[EventType]:
        """utter_case_reference_read_back with the kind and the groups."""
        fmt = case_format(tracker)
        chars = "".join(ch for ch in str(tracker.get_slot(VALUE) or "") if ch.isalnum())
        dispatcher.utter_message(
            response="utter_case_reference_read_back",
            kind=fmt.kind(_language(tracker)),
            groups=spoken_groups(chars, fmt, _language(tracker)),
        )
        return []


class ActionCaseReferenceNoted(Action):
    """The form ended: noted (it goes with a request or handoff), or not understood."""

    def name(self) -> str:
        """Action name as used in the domain and the rules."""
        return "action_case_reference_noted"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[EventType]:
        """utter_case_reference_noted or utter_case_reference_not_understood, then the
        question what the caller wants to do."""
        fmt = case_format(tracker)
        if tracker.get_slot(CONFIRMED) is True:
            dispatcher.utter_message(
                response="utter_case_reference_noted", kind=fmt.kind(_language(tracker))
            )
            return [SlotSet(NOTED, tracker.get_slot(VALUE)), SlotSet(CONFIRMED, None)]
        dispatcher.utter_message(
            response="utter_case_reference_not_understood", kind=fmt.kind(_language(tracker))
        )
        return [SlotSet(VALUE, None), SlotSet(CONFIRMED, None)]
