"""Handoff ids, service hours and the derived summary: pure functions, no I/O."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from voicebot.errors import ConfigError
from voicebot.handoff.hours import ServiceHours
from voicebot.handoff.record import summarise
from voicebot.store.ids import (
    ALPHABET,
    LENGTH,
    display_id,
    new_handoff_id,
    normalise_handoff_id,
    spell_id,
)


def test_ids_use_only_unambiguous_characters() -> None:
    ids = {new_handoff_id() for _ in range(2000)}
    assert len(ids) == 2000
    for handoff_id in ids:
        assert len(handoff_id) == LENGTH and set(handoff_id) <= set(ALPHABET)
    assert not set("01OIL AEU") & set(ALPHABET)


def test_typed_ids_are_normalised() -> None:
    assert normalise_handoff_id(" k7m 42-x ") == "K7M42X"
    assert normalise_handoff_id("K7M42") is None  # too short
    assert normalise_handoff_id("K7M42O") is None  # O is never used
    assert display_id("K7M42X") == "K 7 M 4 2 X"


def test_ids_are_spelt_character_by_character() -> None:
    assert spell_id("K7M42X") == ("Ka wie Köln, sieben, Em wie München, vier, zwo, Ix wie Xanten")
    assert spell_id("K7M42X", "en") == "Kilo, seven, Mike, four, two, X-ray"


def berlin(text: str) -> datetime:
    """A wall-clock time in Berlin as an aware datetime."""
    from zoneinfo import ZoneInfo

    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo("Europe/Berlin"))


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        ("2026-11-23T08:00", True),  # Monday, opening minute
        ("2026-11-23T07:59", False),
        ("2026-11-27T17:59", True),  # Friday
        ("2026-11-27T18:00", False),  # closing minute is closed
        ("2026-11-28T10:00", True),  # Saturday morning
        ("2026-11-28T12:30", False),
        ("2026-11-29T10:00", False),  # Sunday
        ("2026-07-01T08:30", True),  # summer time
    ],
)
def test_service_hours_in_local_time(moment: str, expected: bool) -> None:
    hours = ServiceHours.parse("Mo-Fr 08:00-18:00; Sa 09:00-12:00")
    assert hours.is_open(berlin(moment)) is expected


def test_service_hours_follow_daylight_saving_time() -> None:
    hours = ServiceHours.parse("Mo-Fr 08:00-18:00")
    # 06:30 UTC is 08:30 in Berlin in summer (open) but 07:30 in winter (closed)
    assert hours.is_open(datetime(2026, 7, 1, 6, 30, tzinfo=timezone.utc))
    assert not hours.is_open(datetime(2026, 12, 2, 6, 30, tzinfo=timezone.utc))


def test_service_hours_variants_and_description() -> None:
    assert ServiceHours.parse("").is_open(datetime.now(timezone.utc))
    assert ServiceHours.parse("always").describe_de() == "rund um die Uhr"
    hours = ServiceHours.parse("Mo,Mi 08:00-12:00,13:30-16:00; Fr-Mo 10:00-11:00")
    assert hours.is_open(berlin("2026-11-25T14:00"))  # Wednesday afternoon
    assert hours.is_open(berlin("2026-11-29T10:30"))  # Sunday, in the wrapping Fr-Mo range
    assert not hours.is_open(berlin("2026-11-26T10:30"))  # Thursday
    assert ServiceHours.parse("Mo-Fr 08:00-18:00").describe_de() == (
        "montags bis freitags von 8 Uhr bis 18 Uhr"
    )


@pytest.mark.parametrize(
    ("spec", "zone", "needle"),
    [
        ("Mo-Fr", "Europe/Berlin", "should look like"),
        ("Xy 08:00-18:00", "Europe/Berlin", "unknown day"),
        ("Mo 18:00-08:00", "Europe/Berlin", "impossible"),
        ("Mo 8-18", "Europe/Berlin", "bad time range"),
        ("Mo 08:00-18:00", "Mars/Olympus", "timezone"),
    ],
)
def test_bad_service_hours_name_the_problem(spec: str, zone: str, needle: str) -> None:
    with pytest.raises(ConfigError, match=needle):
        ServiceHours.parse(spec, zone)


def turn(seq: int, speaker: str, text: str, intent: str | None = None, dtmf: str | None = None):  # type: ignore[no-untyped-def]
    return {"seq": seq, "speaker": speaker, "text": text, "intent": intent, "dtmf": dtmf}


def test_summary_quotes_the_request_and_what_led_to_the_handoff() -> None:
    transcript = [
        turn(1, "bot", "Guten Tag!"),
        turn(2, "caller", "Wann hat das Bürgerbüro geöffnet?", "ask_opening_hours"),
        turn(3, "bot", "Montags bis freitags."),
        turn(4, "caller", "DTMF 0", "dtmf", dtmf="0"),
    ]
    topic, summary = summarise(transcript, "caller_request")
    assert topic == "Öffnungszeiten"
    assert summary == (
        "Öffnungszeiten: „Wann hat das Bürgerbüro geöffnet?“ – danach Tastenwahl: DTMF 0"
    )


def test_summary_without_a_topic_uses_the_last_words_or_the_reason() -> None:
    only_request = [turn(2, "caller", "Ich möchte mit einem Menschen sprechen.", "request_human")]
    topic, summary = summarise(only_request, "caller_request")
    assert topic.startswith("Wunsch nach") and "Menschen sprechen" in summary
    topic, summary = summarise([turn(1, "bot", "Guten Tag!")], "dialogue_failed")
    assert topic == "Kein Anliegen genannt" and "Technische Störung" in summary
    long_text = "Ich habe eine Frage " * 30
    _, summary = summarise([turn(1, "caller", long_text, "out_of_scope")], "not_understood")
    assert len(summary) < 200 and summary.endswith("…“")


def test_every_intent_of_the_rasa_project_has_a_german_label() -> None:
    """Agents see topics in German, never an intent name."""
    import yaml

    from tests.support import ROOT
    from voicebot.handoff.record import INTENT_LABELS

    intents = set()
    for path in (ROOT / "rasa_project" / "domain").glob("*.yml"):
        for intent in yaml.safe_load(path.read_text(encoding="utf-8")).get("intents") or []:
            intents.add(intent if isinstance(intent, str) else next(iter(intent)))
    assert intents, "no intents found"
    assert not sorted(intents - set(INTENT_LABELS) - {"call_start"})
