"""Whole calls over the Twilio media stream against the real stack (Rasa, Whisper, TTS)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.integration.sip_peers import metrics
from tests.support import ARTIFACTS, FIXTURES, Stack, clip, turns, voiced_seconds
from voicebot.caller import CallResult, load_caller_audio, place_call, save_wav

pytestmark = pytest.mark.integration


def call(stack: Stack, files: list[str], **kwargs: Any) -> CallResult:
    audio = [load_caller_audio(FIXTURES / f) for f in files]
    return asyncio.run(place_call(stack.media_url, audio, api_token=stack.token, **kwargs))


def test_opening_hours_call_end_to_end(stack: Stack, manifest: list[dict[str, Any]]) -> None:
    entry = clip(manifest, "ask_opening_hours", "oeffnungszeiten_buergerbuero.wav")
    before = metrics(stack)
    result = call(stack, [entry["file"]])
    save_wav(ARTIFACTS / "opening_hours_call.wav", result.bot_audio)

    # the greeting plays before the caller speaks and discloses the AI
    first_speech = result.speech_spans[0][0]
    assert voiced_seconds(result.bot_audio_between(0, first_speech)) > 2.0
    bot = turns(result, "bot")
    assert "künstliche Intelligenz" in bot[0]["text"]

    # the caller's question is understood and answered with the opening hours
    caller = turns(result, "caller")
    assert len(caller) == 1
    assert caller[0]["intent"] == "ask_opening_hours"
    # (a middling confidence puts "Es geht also um die Öffnungszeiten." in front: issue 17)
    answer = [t for t in bot if t["seq"] > caller[0]["seq"]]
    assert answer and any("Uhr" in t["text"] for t in answer), answer

    # the answer's audio is there, non-silent and of plausible length for its text
    answer_audio = voiced_seconds(result.bot_audio_between(result.speech_spans[0][1]))
    words = sum(len(t["text"].split()) for t in answer)
    assert words * 0.15 < answer_audio < words * 0.8

    # every stage of the turn was measured and stored
    for stage in ("endpointing_ms", "asr_ms", "dialogue_ms", "tts_first_audio_ms"):
        assert caller[0][stage] is not None and caller[0][stage] >= 0, stage
    assert 0 < caller[0]["asr_confidence"] <= 1
    assert caller[0]["started_at"] < caller[0]["ended_at"]
    assert result.record["end_reason"] == "hangup"

    # ASR started at the short pause and its transcript was used at the end of turn
    hits = metrics(stack).get("asr_speculative_hits", 0) - before.get("asr_speculative_hits", 0)
    assert hits == 1


def test_hangup_mid_utterance_leaves_complete_record(
    stack: Stack, manifest: list[dict[str, Any]]
) -> None:
    entry = clip(manifest, "ask_opening_hours", "oeffnungszeiten_buergerbuero.wav")
    # 1.6 s of the 2.7 s clip: mid-sentence, and enough speech for the VAD in every window phase
    result = call(stack, [entry["file"]], hangup_after_s=1.6)
    record = result.record
    assert record is not None
    assert record["ended_at"] and record["end_reason"] == "hangup"
    bot, caller = turns(result, "bot"), turns(result, "caller")
    assert bot and "künstliche Intelligenz" in bot[0]["text"]
    assert len(caller) == 1 and caller[0]["complete"] is False
    assert caller[0]["text"], "the partial utterance was transcribed into the record"
    assert [t["seq"] for t in record["turns"]] == sorted(t["seq"] for t in record["turns"])


def test_two_simultaneous_calls_get_their_own_answers(
    stack: Stack, manifest: list[dict[str, Any]]
) -> None:
    hours = clip(manifest, "ask_opening_hours", "oeffnungszeiten_buergerbuero.wav")
    human = clip(manifest, "request_human", "mitarbeiter_bitte.wav")

    async def both() -> tuple[CallResult, CallResult]:
        a = place_call(
            stack.media_url,
            [load_caller_audio(FIXTURES / hours["file"])],
            api_token=stack.token,
            caller="+492141111111",
        )
        b = place_call(
            stack.media_url,
            [load_caller_audio(FIXTURES / human["file"])],
            api_token=stack.token,
            caller="+492142222222",
        )
        return await asyncio.gather(a, b)

    a, b = asyncio.run(both())
    assert a.call_sid != b.call_sid
    assert a.record and b.record
    assert a.record["caller"] == "+492141111111" and b.record["caller"] == "+492142222222"
    assert turns(a, "caller")[0]["intent"] == "ask_opening_hours"
    assert turns(b, "caller")[0]["intent"] == "request_human"
    a_texts = " ".join(t["text"] for t in a.record["turns"])
    b_texts = " ".join(t["text"] for t in b.record["turns"])
    assert "Uhr" in a_texts and "Uhr" not in b_texts
    assert b.record["end_reason"] == "handoff" and a.record["end_reason"] == "hangup"
    assert b.record["handoff_reason"] == "caller_request"
    # each caller heard speech after their own question
    for result in (a, b):
        assert voiced_seconds(result.bot_audio_between(result.speech_spans[0][1])) > 1.0


def test_dtmf_reaches_the_dialogue(stack: Stack) -> None:
    result = asyncio.run(place_call(stack.media_url, [], api_token=stack.token, dtmf="1"))
    caller = turns(result, "caller")
    assert caller and caller[0]["dtmf"] == "1" and caller[0]["intent"] == "dtmf"
    assert any("Uhr" in t["text"] for t in turns(result, "bot") if t["seq"] > caller[0]["seq"])
