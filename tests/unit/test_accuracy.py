"""Scoring of the voice accuracy bench (voicebot.accuracy): WER, intent and topic per call."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from voicebot.accuracy import (
    EvalClip,
    degrade,
    load_eval_set,
    lost_frames,
    misses,
    on_topic,
    run_set,
    score,
    summary,
)
from voicebot.tools.wer import word_error_rate

ROOT = Path(__file__).resolve().parents[2]
CLIP = EvalClip(
    file=Path("eval/x.wav"),
    text="Hallo, was kostet ein Reisepass?",
    language="de",
    intent="ask_fee",
    topic="service:reisepass",
    answer_words=("reisepass",),
)


def record(*turns: tuple[str, str, str | None]) -> dict[str, Any]:
    return {"turns": [{"speaker": s, "text": t, "intent": i} for s, t, i in turns]}


GREETING = ("bot", "Guten Tag, hier ist der digitale Assistent.", None)


def test_a_right_answer_scores_on_every_count() -> None:
    out = score(
        CLIP,
        record(
            GREETING,
            ("caller", "Hallo, was kostet ein Reisepass?", "ask_fee"),
            ("bot", "Der Reisepass kostet 70 Euro.", None),
        ),
    )
    assert (out.errors, out.ref_words, out.intent_ok, out.topic_ok) == (0, 5, True, True)
    assert not out.failure


def test_the_greeting_does_not_count_as_the_answer() -> None:
    clip = EvalClip(Path("a.wav"), "Wo ist das Bürgerbüro?", "de", "ask_address",
                    "office:buergerbuero", ("bürgerbüro",))  # fmt: skip
    out = score(
        clip,
        record(
            ("bot", "Willkommen beim Bürgerbüro-Telefon.", None),
            ("caller", "Wo ist das Bürger Büro", "greet"),
            ("bot", "Guten Tag! Wie kann ich helfen?", None),
        ),
    )
    assert not out.topic_ok and not out.intent_ok
    assert out.errors == 2  # "bürgerbüro" substituted, "büro" inserted


def test_a_split_utterance_is_one_transcript_and_any_turn_may_carry_the_intent() -> None:
    out = score(
        CLIP,
        record(
            GREETING,
            ("caller", "Hallo", "greet"),
            ("bot", "Guten Tag.", None),
            ("caller", "was kostet ein Reisepass", "ask_fee"),
            ("bot", "Der Reisepass kostet 70 Euro.", None),
        ),
    )
    assert out.transcript == "Hallo was kostet ein Reisepass"
    assert out.intent_ok and out.topic_ok and out.errors == 0


def test_no_record_is_a_failed_call_and_a_miss() -> None:
    out = score(CLIP, None)
    assert out.failure == "no call record" and not out.topic_ok
    assert out.errors == out.ref_words == 5
    assert "FAILED" in out.miss_line()


def test_on_topic_is_normalised_substring() -> None:
    assert on_topic(CLIP, "Für den REISEPASS brauchen Sie ...")
    assert not on_topic(CLIP, "Für den Personalausweis brauchen Sie ...")
    # the question for a service the bot did not catch names examples: not an answer
    which = "Um welche Dienstleistung geht es? Zum Beispiel Reisepass oder Anmeldung."
    assert not on_topic(CLIP, which)
    assert on_topic(CLIP, f"Der Reisepass kostet 70 Euro. {which}")
    straße = EvalClip(Path("a.wav"), "x", "de", "i", "t", ("Führungszeugnis", "Straße"))
    assert on_topic(straße, "Die strasse ist ...")


def test_summary_is_corpus_wer_and_shares() -> None:
    good = score(
        CLIP, record(GREETING, ("caller", CLIP.text, "ask_fee"), ("bot", "Reisepass", None))
    )
    bad = score(CLIP, record(GREETING, ("caller", "Hallo was", "greet"), ("bot", "Hallo", None)))
    row = summary([good, bad])
    assert row == {
        "clips": 2,
        "wer": 0.3,  # 3 words missing of 10
        "intent_accuracy": 0.5,
        "topic_accuracy": 0.5,
        "failed_calls": 0,
    }
    assert len(misses([good, bad])) == 1
    assert word_error_rate(CLIP.text, "Hallo was") == 0.6


def test_conditions_are_deterministic_and_bounded() -> None:
    t = np.arange(8000 * 3) / 8000
    pcm = (np.sin(2 * np.pi * 300 * t) * 10000).astype(np.int16)
    assert degrade(pcm, "clean", 1) is pcm
    noisy = degrade(pcm, "noise", 1)
    assert np.array_equal(noisy, degrade(pcm, "noise", 1)) and not np.array_equal(noisy, pcm)
    residual = noisy.astype(np.float64) - pcm
    snr = 10 * np.log10(np.mean(pcm.astype(np.float64) ** 2) / np.mean(residual**2))
    assert 18 < snr < 22
    lossy = degrade(pcm, "loss", 7)
    gone = lost_frames(pcm, 7)
    assert 0 < len(gone) < 10  # about 3 % of 150 frames
    for n in gone:
        assert not lossy[n * 160 : (n + 1) * 160].any()
    assert np.count_nonzero(lossy != pcm) <= len(gone) * 160
    with pytest.raises(ValueError, match="unknown condition"):
        degrade(pcm, "wind", 1)


def test_run_set_calls_each_clip_and_keeps_the_order() -> None:
    clips = load_eval_set(ROOT / "audio_fixtures")[:5]
    seen: list[str] = []

    async def call(clip: EvalClip, pcm: np.ndarray, seed: int) -> dict[str, Any] | None:
        seen.append(clip.name)
        assert pcm.dtype == np.int16 and len(pcm) > 8000
        if clip is clips[1]:
            raise OSError("connection refused")
        answer = " ".join(clip.answer_words)
        return record(GREETING, ("caller", clip.text, clip.intent), ("bot", answer, None))

    outcomes = asyncio.run(run_set(clips, call, "loss", concurrency=2))
    assert sorted(seen) == sorted(c.name for c in clips)
    assert [o.clip for o in outcomes] == clips
    assert "OSError: connection refused" in outcomes[1].failure
    assert summary(outcomes)["topic_accuracy"] == 0.8
