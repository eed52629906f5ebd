"""Parsing Rasa's REST-channel replies, and the hot words taken from the NLU data."""

from __future__ import annotations

from typing import Any

import pytest

from voicebot.services.dialogue import (
    BotMessage,
    DialogueError,
    TrackerSummary,
    parse_webhook_reply,
    summarise_tracker,
)


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ([], []),
        ([{"recipient_id": "c", "text": " Hallo. "}], [BotMessage("Hallo.")]),
        (
            [
                {
                    "recipient_id": "c",
                    "text": "Ich verbinde.",
                    "custom": {"handoff": {"reason": "x"}},
                }
            ],
            [BotMessage("Ich verbinde.", {"handoff": {"reason": "x"}})],
        ),
        ([{"recipient_id": "c", "custom": {"hangup": True}}], [BotMessage(None, {"hangup": True})]),
        ([{"recipient_id": "c", "image": "x.png"}], [BotMessage(None)]),
    ],
)
def test_webhook_replies(payload: Any, expected: list[BotMessage]) -> None:
    assert parse_webhook_reply(payload) == expected


@pytest.mark.parametrize("payload", [{"text": "x"}, ["x"], [{"text": 3}], None])
def test_junk_replies_are_dialogue_errors(payload: Any) -> None:
    with pytest.raises(DialogueError):
        parse_webhook_reply(payload)


def test_tracker_summary_keeps_what_the_caller_gave() -> None:
    data = {
        "latest_message": {"intent": {"name": "request_human", "confidence": 0.97}},
        "slots": {
            "callback_topic": "Es geht um meinen Ausweis",
            "callback_number": "+4921477123",
            "callback_other_number": False,
            "dtmf_digits": None,
            "handoff_mode": "callback_offer",
            "requested_slot": "callback_topic",
            "session_started_metadata": {"caller": "+4921477123"},
        },
    }
    assert summarise_tracker(data) == TrackerSummary(
        "request_human",
        0.97,
        {
            "callback_topic": "Es geht um meinen Ausweis",
            "callback_number": "+4921477123",
            "handoff_mode": "callback_offer",
        },
    )
    assert summarise_tracker({}) == TrackerSummary(None, None, {})
