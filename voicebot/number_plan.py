"""Number-based entry: the dialled number picks the call's language and, optionally, a topic.

`[numbers] plan` maps a dialled number to "LANGUAGE", "LANGUAGE:TOPIC" or ":TOPIC":

    [numbers.plan]
    "4930901820" = "en"               # the English service number starts in English
    "4930901821" = "de:standesamt"    # the Standesamt's number starts with its topic
    "kfz" = ":kfz_zulassung"          # a PBX that sends a name as the Request-URI user

The dialled number is the SIP Request-URI user (else the To user), or Twilio's
`customParameters.to` (a `language` or `topic` parameter there wins over the plan). Numbers
are compared by their digits ("+49 30 9018-20" and "004930901820" are "4930901820"); other
names in lower case. TOPIC is an office id or a service id of the catalogue: Rasa gets it as
metadata (`topic`), and `action_session_start` fills the slot `office` or `service`, so a
question or a handoff starts with that department. An unknown number changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from voicebot.errors import ConfigError

LANGUAGES = ("de", "en")
MAX_DIALLED = 64
_PHONE = re.compile(r"\+?[0-9 ()/.-]{1,40}")
_NAME = re.compile(r"[a-z0-9_.*#+-]{1,32}")
_TOPIC = re.compile(r"[a-z][a-z0-9_-]{0,63}")


@dataclass(frozen=True)
class NumberEntry:
    """What a dialled number selects: a language and/or a topic (None: not set)."""

    language: str | None = None
    topic: str | None = None


def normalise_number(text: str | None) -> str | None:
    """The plan key of a dialled number or name ("+49 30 9018-20" -> "4930901820"), or None."""
    if not text:
        return None
    text = text.strip()[:MAX_DIALLED]
    if _PHONE.fullmatch(text) and any(ch.isdigit() for ch in text):
        digits = "".join(ch for ch in text if ch.isdigit())
        return digits[2:] if digits.startswith("00") else digits
    name = text.lower()
    return name if _NAME.fullmatch(name) else None


def parse_entry(value: str, where: str = "[numbers] plan") -> NumberEntry:
    """ "en", "de:standesamt" or ":standesamt" as an entry; ConfigError names a bad value."""
    language, _, topic = value.strip().partition(":")
    language, topic = language.strip().lower(), topic.strip().lower()
    if language and language not in LANGUAGES:
        raise ConfigError(f"{where}: language {language!r} is not one of {', '.join(LANGUAGES)}")
    if topic and not _TOPIC.fullmatch(topic):
        raise ConfigError(f"{where}: topic {topic!r} is not an office or service id")
    if not language and not topic:
        raise ConfigError(f"{where}: {value!r} names neither a language nor a topic")
    return NumberEntry(language or None, topic or None)


def parse_plan(plan: Mapping[str, str]) -> dict[str, NumberEntry]:
    """The plan by normalised number; ConfigError for a bad number or value."""
    parsed: dict[str, NumberEntry] = {}
    for number, value in plan.items():
        key = normalise_number(number)
        where = f"[numbers] plan {number!r}"
        if key is None:
            raise ConfigError(f"{where}: not a phone number or a short name")
        if key in parsed:
            raise ConfigError(f"{where}: the number is in the plan twice")
        parsed[key] = parse_entry(value, where)
    return parsed


def lookup(plan: Mapping[str, str], dialled: str | None) -> NumberEntry:
    """The entry of a dialled number (an empty entry when it is not in the plan)."""
    key = normalise_number(dialled)
    if key is None or not plan:
        return NumberEntry()
    return parse_plan(plan).get(key, NumberEntry())


def call_entry(
    plan: Mapping[str, str],
    dialled: str | None,
    default_language: str,
    language: str | None = None,
    topic: str | None = None,
) -> tuple[str, str | None]:
    """The call's language and topic: an explicit one (Twilio parameters), else the plan's,
    else the default language and no topic."""
    entry = lookup(plan, dialled)
    explicit = language if language in LANGUAGES else None
    topic = (topic or "").strip().lower()
    chosen_topic = topic if _TOPIC.fullmatch(topic) else None
    return explicit or entry.language or default_language, chosen_topic or entry.topic
