"""Voice-level accuracy over the held-out evaluation set (issue 17): through the real gateway,
Rasa and Whisper base, every clip of audio_fixtures' `evaluation_clips:` is its own call over
the media WebSocket (clean audio, one pass). At least 60 % of the answers must be on topic (the
issue's target of 90 % is not reached yet, see TOPIC_ACCURACY_TARGET); the result and the misses
are printed with what the gateway heard, the intent and the answer.

Behaviour, not timing: no latency is asserted. CPU: 44 short calls, 6 at a time (about one
Whisper base run and one Rasa turn per call). `voicebot bench --accuracy` measures the same set
over SIP, with noise and packet loss, and writes docs/accuracy.md.
"""

from __future__ import annotations

import asyncio
import sys

import pytest

from tests.support import FIXTURES, Stack
from voicebot.accuracy import load_eval_set, misses, run_set, summary, websocket_caller

pytestmark = [pytest.mark.integration, pytest.mark.slow]

# Issue 17 asks for >= 90 % on topic. Whisper base reaches 68-75 % on this set today
# (docs/accuracy.md): not there yet. This floor catches a regression below what is reached;
# raise it as the understanding improves, up to TOPIC_ACCURACY_TARGET.
TOPIC_ACCURACY_TARGET = 0.90
TOPIC_ACCURACY_MIN = 0.60
CONCURRENCY = 6  # under the stack's max_calls (8); most of a call is listening to the bot


def test_topic_accuracy_on_the_evaluation_set(stack: Stack) -> None:
    clips = load_eval_set(FIXTURES)
    assert len(clips) >= 40
    outcomes = asyncio.run(
        run_set(clips, websocket_caller(stack.media_url, stack.token), "clean", CONCURRENCY)
    )
    result = summary(outcomes)
    lines = misses(outcomes)
    report = "\n".join(
        [
            f"voice accuracy (WebSocket, clean, Whisper base): {result}",
            f"target {TOPIC_ACCURACY_TARGET:.0%} on topic, floor {TOPIC_ACCURACY_MIN:.0%}",
            *lines,
        ]
    )
    print(report, file=sys.stderr)
    assert result["failed_calls"] == 0, report
    assert result["topic_accuracy"] >= TOPIC_ACCURACY_MIN, report
