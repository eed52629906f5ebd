"""The low-confidence policy (voicebot/pipeline/hearing.py): a loop or a low-confidence
transcript is never answered as if it were the caller's words."""

from __future__ import annotations

import pytest

from voicebot.pipeline.hearing import DEFAULT_MIN_CONFIDENCE, judge, looping


@pytest.mark.parametrize(
    "text",
    [
        "Metall, Metall, Metall, Metall",
        "Metall Metall Metall",
        "erwin wemir wemir wemir wemir wemir wemir wemir wemir wem",
        "nicht wahr nicht wahr nicht wahr nicht wahr",
        "Danke. Danke. Danke. Danke. Danke.",
    ],
)
def test_a_word_or_phrase_over_and_over_is_a_loop(text: str) -> None:
    assert looping(text)
    assert judge(text, 0.9).reason == "loop"


@pytest.mark.parametrize(
    "text",
    [
        "Wann hat das Bürgerbüro geöffnet?",
        "nein nein nein ich brauche einen neuen Reisepass für den Urlaub",  # under LOOP_SHARE
        "Metall Metall",  # twice is no loop
        "ja ja",
        "",
    ],
)
def test_a_caller_who_repeats_a_word_is_no_loop(text: str) -> None:
    assert not looping(text)


def test_low_confidence_is_not_answered() -> None:
    verdict = judge("Riedwerter Mordel", DEFAULT_MIN_CONFIDENCE - 0.01)
    assert not verdict.understood
    assert verdict.reason == "low_confidence"


def test_confident_speech_is_answered() -> None:
    verdict = judge("Wann hat das Bürgerbüro geöffnet?", 0.8)
    assert verdict.understood
    assert verdict.reason is None


def test_the_threshold_is_the_setting() -> None:
    assert judge("Wann hat das Bürgerbüro geöffnet?", 0.5, min_confidence=0.6).reason == (
        "low_confidence"
    )
    assert judge("Riedwerter Mordel", 0.1, min_confidence=0.0).understood
