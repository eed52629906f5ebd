"""Openers: "Guten Tag. [pause] Was kostet ein Anwohnerparkausweis?" is one caller turn.

The pure rules (what counts as an opener, how the two parts are joined) with tables, and the
call session with fakes: a held opener and the question after it go to Rasa as one message; an
opener the caller does not follow up is answered on its own after the hold.
"""

from __future__ import annotations

import pytest

from tests.unit.pipeline_fakes import FakeRasa, Fakes, settings, until, utterance
from tests.unit.test_pipeline_session import GREETING, greeted, run_call, say
from voicebot.config import VadSettings
from voicebot.pipeline.call import CallSession
from voicebot.pipeline.openers import is_opener, joined
from voicebot.services.dialogue import BotMessage

ANSWER = BotMessage(text="Ein Anwohnerparkausweis kostet dreißig Euro im Jahr.")


@pytest.mark.parametrize(
    ("text", "opener"),
    [
        ("Guten Tag.", True),
        ("Hallo?", True),
        ("Ja, hallo, guten Morgen.", True),
        ("Grüß Gott.", True),
        ("Moin moin!", True),
        ("Ich hätte da mal eine Frage.", True),
        ("Hello, good afternoon.", True),
        ("Hi there, I have a quick question.", True),
        ("Ja.", False),  # an answer, not an opener
        ("Ähm, also.", False),  # fillers alone: no greeting, no question announced
        ("Guten Tag, was kostet ein Anwohnerparkausweis?", False),  # the question is in it
        ("Hallo, ich habe meinen Ausweis verloren.", False),
        ("Hello, do you speak English?", False),
        ("", False),
        ("Hallo hallo hallo hallo hallo hallo hallo hallo hallo", False),  # too long
    ],
)
def test_what_is_an_opener(text: str, opener: bool) -> None:
    assert is_opener(text) is opener


@pytest.mark.parametrize(
    ("opener", "rest", "message"),
    [
        (
            "Guten Tag.",
            "Was kostet ein Anwohnerparkausweis?",
            "Guten Tag. Was kostet ein Anwohnerparkausweis?",
        ),
        ("Hallo", "wo ist das Bürgerbüro?", "Hallo. wo ist das Bürgerbüro?"),
        ("Hallo,", "wo ist das Bürgerbüro?", "Hallo, wo ist das Bürgerbüro?"),
        ("Guten Tag.", "  ", "Guten Tag."),
    ],
)
def test_joined(opener: str, rest: str, message: str) -> None:
    assert joined(opener, rest) == message


def hold(ms: int) -> Fakes:
    return Fakes(
        settings=settings(vad=VadSettings(opener_hold_ms=ms)),
        rasa=FakeRasa([GREETING], [ANSWER]),
    )


def test_the_question_after_a_greeting_is_one_turn_and_one_message() -> None:
    fakes = hold(60_000)  # the question always comes within the hold

    async def script(session: CallSession, f: Fakes) -> None:
        await greeted(session, f)
        f.asr.text = "Guten Tag."
        await say(session, f, utterance(0, 700))
        await until(lambda: f.asr.calls == 1)
        f.asr.text = "Was kostet ein Anwohnerparkausweis?"
        await say(session, f, utterance(1400, 3000))
        await until(lambda: len(f.store.texts("caller")) == 1)

    run_call(fakes, script)
    assert [text for text, _ in fakes.rasa.sent[1:]] == [
        "Guten Tag. Was kostet ein Anwohnerparkausweis?"
    ]
    assert fakes.store.texts("caller") == ["Guten Tag. Was kostet ein Anwohnerparkausweis?"]
    assert fakes.store.texts("bot")[-1] == ANSWER.text


def test_a_greeting_alone_is_answered_after_the_hold() -> None:
    fakes = hold(50)

    async def script(session: CallSession, f: Fakes) -> None:
        await greeted(session, f)
        f.asr.text = "Hallo?"
        await say(session, f, utterance(0, 700))
        await until(lambda: len(f.store.texts("caller")) == 1)

    run_call(fakes, script)
    assert [text for text, _ in fakes.rasa.sent[1:]] == ["Hallo?"]
    assert fakes.store.texts("bot")[-1] == ANSWER.text


@pytest.mark.parametrize(
    ("hold_ms", "text"),
    [
        (60_000, "Was kostet ein Anwohnerparkausweis?"),  # not an opener: answered at once
        (0, "Guten Tag."),  # holding switched off
    ],
)
def test_no_hold(hold_ms: int, text: str) -> None:
    fakes = hold(hold_ms)

    async def script(session: CallSession, f: Fakes) -> None:
        await greeted(session, f)
        f.asr.text = text
        await say(session, f, utterance(0, 700))
        await until(lambda: len(f.store.texts("caller")) == 1)

    run_call(fakes, script)
    assert [t for t, _ in fakes.rasa.sent[1:]] == [text]


def test_a_caller_who_is_speaking_again_when_the_transcript_is_ready_is_heard_out() -> None:
    """ "Wir haben ein Haus gekauft. [pause] Wie ändere ich die Grundsteuer?": the pause ended
    the turn, but the caller speaks again before the bot answers: one turn, one message."""
    fakes = hold(60_000)

    async def script(session: CallSession, f: Fakes) -> None:
        await greeted(session, f)
        f.asr.text = "Wir haben ein Haus gekauft."
        f.segmenter.in_speech = True  # the next sentence has begun when the turn ends
        await say(session, f, utterance(0, 1500))
        await until(lambda: f.asr.calls == 1)
        f.segmenter.in_speech = False
        f.asr.text = "Wie ändere ich die Grundsteuer?"
        await say(session, f, utterance(2200, 3500))
        await until(lambda: len(f.store.texts("caller")) == 1)

    run_call(fakes, script)
    joined_text = "Wir haben ein Haus gekauft. Wie ändere ich die Grundsteuer?"
    assert [text for text, _ in fakes.rasa.sent[1:]] == [joined_text]
    assert fakes.store.texts("caller") == [joined_text]
