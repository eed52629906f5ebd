# mypy: disallow-subclassing-any=False
# (rasa_sdk 3.6 ships no py.typed: its Action and FormValidationAction are Any to mypy)
"""The caller's language: German (default) or English.

The slot `language` holds it. It is set
- at the start of the call from the gateway's metadata (`action_session_start`: Rasa passes
  the metadata of the first message, `/call_start`, in the slot `session_started_metadata`);
- by an explicit switch ("Can we speak English?", "Deutsch bitte"): `action_switch_language`;
- by action_answer_service when a question is clearly in the other language (`detect_language`).

Whenever the bot's language changes, the message carries the custom payload
`{"language": "en"}` (or "de"): the gateway then switches Whisper and the TTS voice before it
speaks that message. Fixed responses have English variants with a response condition on the
slot (`condition: [{type: slot, name: language, value: en}]`); the German one is the default.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from .catalogue.match import words
from .handoff import gateway_metadata
from .number_entry import topic_events

LANGUAGE_SLOT = "language"
LANGUAGES = ("de", "en")
DEFAULT_LANGUAGE = "de"
SESSION_METADATA_SLOT = "session_started_metadata"  # Rasa's own slot


def _word_set(text: str) -> frozenset[str]:
    """The folded words of a word list ("does" -> "dos", as words() folds the caller's)."""
    return frozenset(words(text))


# Short, frequent words that occur in only one of the two languages. Words both languages
# use ("in", "an", "so", "was", "will", "hi", "person") are left out on purpose.
ENGLISH_WORDS = _word_set(
    """the what when where which who how is are do does did can could would should
    i i'm my me you your we our it its this that there a of to for with from much many
    need want have has please hello thanks thank yes bye goodbye open opening hours
    cost costs lost bring take long get apply speak english office town hall card
    passport form number phone address someone human talk"""
)
GERMAN_WORDS = _word_set(
    """der die das den dem des was wann wo wie wer welche welcher ist sind bin ich mein
    meine meinen mir mich sie ihr ihnen ein eine einen einem kostet kosten brauche
    brauchen bitte hallo danke tschuss guten tag ja nein nicht und oder auf fur von
    mit muss mussen haben geoffnet offnungszeiten lange dauert gibt es kann konnen
    mochte mochten verloren wohin welches deutsch sprechen"""
)


def detect_language(text: str) -> str | None:
    """ "en" or "de" when the text is clearly in that language, else None (too short, mixed,
    only service names). Clearly: at least two marker words of the language and at most a
    third as many of the other."""
    said = words(text)
    english = sum(1 for w in said if w in ENGLISH_WORDS)
    german = sum(1 for w in said if w in GERMAN_WORDS)
    if english >= 2 and german * 3 <= english:
        return "en"
    if german >= 2 and english * 3 <= german:
        return "de"
    return None


def _valid(value: Any) -> str | None:
    """The language code if `value` is one the bot speaks ("en-GB" -> "en"), else None."""
    if not isinstance(value, str):
        return None
    code = value.strip().lower().replace("_", "-").split("-")[0]
    return code if code in LANGUAGES else None


def gateway_language(tracker: Tracker) -> str | None:
    """The language the gateway speaks and listens in now (metadata of the latest message)."""
    return _valid(gateway_metadata(tracker).get("language"))


def caller_language(tracker: Tracker) -> str:
    """The conversation's language: the slot, else the gateway's metadata, else German."""
    return _valid(tracker.get_slot(LANGUAGE_SLOT)) or gateway_language(tracker) or DEFAULT_LANGUAGE


def answer_language(tracker: Tracker) -> str:
    """The language to answer the latest message in: the language the message is clearly
    written in (an English question during a German call is answered in English), else the
    conversation's language."""
    return detect_language(tracker.latest_message.get("text") or "") or caller_language(tracker)


def language_events(tracker: Tracker, language: str) -> tuple[dict[str, Any], list[EventType]]:
    """What an action adds when it answers in `language`: the custom payload that switches
    the gateway (empty when it already speaks it) and the slot event (none when unchanged)."""
    current = gateway_language(tracker) or caller_language(tracker)
    payload = {"language": language} if language != current else {}
    events: list[EventType] = []
    if language != caller_language(tracker):
        events.append(SlotSet(LANGUAGE_SLOT, language))
    return payload, events


NEGATIONS = frozenset({"kein", "nicht", "not", "don", "dont", "no"})


def requested_language(text: str, current: str) -> str:
    """The language the caller asks for: the one named ("English please", "auf Deutsch");
    "ich spreche kein Deutsch" / "I don't speak German" means English; else the other one."""
    said = words(text)
    english = any(w.startswith(("englisch", "english")) for w in said)
    german = any(w.startswith(("deutsch", "german")) for w in said)
    if english and not german:
        return "en"
    if german and not english:
        return "en" if NEGATIONS & set(said) else "de"
    return "en" if current == "de" else "de"


class ActionSwitchLanguage(Action):
    """ "Can we speak English?" / "Deutsch bitte": confirms in the new language; the response
    carries the payload that switches the gateway; sets the slot `language`."""

    def name(self) -> str:
        """Action name as used in the domain and the rules."""
        return "action_switch_language"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[EventType]:
        """Says utter_switched_to_english or utter_switched_to_german (each carries its
        payload; two responses, because Rasa picks a response variant before the action's
        slot event is applied)."""
        text = tracker.latest_message.get("text") or ""
        language = requested_language(text, caller_language(tracker))
        if language == "en":
            dispatcher.utter_message(response="utter_switched_to_english")
        else:
            dispatcher.utter_message(response="utter_switched_to_german")
        return [SlotSet(LANGUAGE_SLOT, language)]


class ActionSessionStart(Action):
    """Rasa's session start, plus the slot `language` from the gateway's metadata of the
    first message. Carries the slots over like Rasa's own (carry_over_slots_to_new_session)."""

    def name(self) -> str:
        """Overrides Rasa's default action of this name."""
        return "action_session_start"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[EventType]:
        """SessionStarted, the carried-over slots, the language, then action_listen."""
        events: list[EventType] = [SessionStarted()]
        carry_over = (domain.get("session_config") or {}).get("carry_over_slots_to_new_session")
        if carry_over is not False:
            events += [
                SlotSet(key, value)
                for key, value in tracker.slots.items()
                if value is not None and key not in (SESSION_METADATA_SLOT, LANGUAGE_SLOT)
            ]
        metadata = tracker.get_slot(SESSION_METADATA_SLOT)
        language = _valid(metadata.get("language")) if isinstance(metadata, dict) else None
        if language is None and carry_over is not False:
            language = _valid(tracker.get_slot(LANGUAGE_SLOT))
        if language is not None:
            events.append(SlotSet(LANGUAGE_SLOT, language))
        events += topic_events(metadata)  # a department's number: its topic (number_entry.py)
        events.append(ActionExecuted("action_listen"))
        return events
