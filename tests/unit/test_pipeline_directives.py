"""The bot's reply directives: a custom payload parsed once into a typed value."""

from __future__ import annotations

from typing import Any

import pytest

from voicebot.pipeline.directives import (
    MAX_LENGTH_SCALE,
    Directives,
    HandoffDirective,
    Outcome,
    Voice,
    parse_directives,
)


@pytest.mark.parametrize(
    ("custom", "expected"),
    [
        ({}, Directives()),
        (
            {"handoff": {"department": "standesamt", "reason": "asked_for_human"}},
            Directives(handoff=HandoffDirective("standesamt", "asked_for_human")),
        ),
        (
            {"handoff": {"department": "buergerbuero", "kind": "callback"}},
            Directives(handoff=HandoffDirective("buergerbuero", "unspecified", "callback")),
        ),
        ({"handoff": True}, Directives(handoff=HandoffDirective())),
        (
            {"handoff": {"kind": "transfer", "department": ""}},
            Directives(handoff=HandoffDirective()),
        ),
        ({"hangup": True}, Directives(hangup=True)),
        ({"hangup": False}, Directives()),
        ({"expect": "address"}, Directives(expect="long")),
        ({"expect": "long"}, Directives(expect="long")),
        ({"expect": "yes_no"}, Directives(expect="yes_no")),
        ({"expect": "maybe"}, Directives()),
        ({"expect": 1}, Directives()),
        ({"uninterruptible": 3}, Directives(uninterruptible=3)),
        ({"uninterruptible": 99}, Directives(uninterruptible=5)),
        ({"uninterruptible": -1}, Directives()),
        ({"uninterruptible": True}, Directives()),
        ({"uninterruptible": "3"}, Directives()),
        (
            {"handoff": {"department": "standesamt", "target": " sip:sta@pbx "}},
            Directives(handoff=HandoffDirective("standesamt", target="sip:sta@pbx")),
        ),
        ({"handoff": {"target": 5}}, Directives(handoff=HandoffDirective())),
        ({"speech": "slower"}, Directives(speech="slower")),
        ({"speech": "normal"}, Directives(speech="normal")),
        ({"speech": "faster"}, Directives()),
        ({"language": "en"}, Directives(language="en")),
        ({"language": 7}, Directives()),
        ({"unknown": 1, "hangup": 1, "expect": "long"}, Directives(hangup=True, expect="long")),
    ],
)
def test_a_custom_payload_becomes_directives(custom: dict[str, Any], expected: Directives) -> None:
    assert parse_directives(custom) == expected


def test_a_handoff_wins_over_a_hangup_and_plain_text_ends_nothing() -> None:
    both = parse_directives({"handoff": {"department": "x", "kind": "callback"}, "hangup": True})
    assert Outcome.of(both) == Outcome("handoff", "x", "unspecified", "callback")
    assert Outcome.of(parse_directives({"hangup": True})) == Outcome("bot_hangup")
    assert Outcome.of(parse_directives({"expect": "long"})) is None


def test_slower_speech_stretches_up_to_a_limit_and_normal_goes_back() -> None:
    voice = Voice("de", base_scale=1.0)
    voice.apply_speech("slower")
    assert voice.length_scale == pytest.approx(1.25)
    for _ in range(5):
        voice.apply_speech("slower")
    assert voice.length_scale == MAX_LENGTH_SCALE
    voice.apply_speech(None)
    assert voice.length_scale == MAX_LENGTH_SCALE
    voice.apply_speech("normal")
    assert voice.length_scale == 1.0
