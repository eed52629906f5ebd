"""Constrained recognition, the pure parts: German number words as digits, the candidates'
spellings, the choice between an expected answer and the free transcript, and how the dialogue's
{"expect": …} reaches the listener."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from tests.unit.pipeline_fakes import FakeRasa, Fakes, FakeSegmenter, until, utterance
from tests.unit.test_pipeline_session import run_call, say
from voicebot.pipeline.call import CallSession
from voicebot.pipeline.directives import Directives, parse_directives
from voicebot.pipeline.listening import Listener
from voicebot.services.constrained import FLOOR, MARGIN, Scored, choose
from voicebot.services.constrained_text import (
    DIGIT_KINDS,
    digit_renderings,
    number_word,
    says_yes_or_no,
    spoken_digits,
)
from voicebot.services.dialogue import BotMessage


@pytest.mark.parametrize(
    ("word", "value"),
    [
        ("null", 0),
        ("eins", 1),
        ("zwo", 2),
        ("Fünf", 5),
        ("zwölf", 12),
        ("siebzehn", 17),
        ("zwanzig", 20),
        ("einundfünfzig", 51),
        ("dreiundsiebzig", 73),
        ("dreißig", 30),
        ("dreissig", 30),
        ("hundert", 100),
        ("dreihundertdreiundsiebzig", 373),
        ("zweihundertzwölf", 212),
        ("tausendeins", 1001),
        ("zweitausendvierhundertelf", 2411),
        ("hallo", None),
        ("undzwanzig", None),
        ("nullundzwanzig", None),
        ("hundertnull", None),
        ("", None),
        ("5", None),
    ],
)
def test_german_number_words(word: str, value: int | None) -> None:
    assert number_word(word) == value


@pytest.mark.parametrize(
    ("text", "digits"),
    [
        ("null eins zwo drei", "0123"),
        ("Fünf eins drei sieben drei.", "51373"),
        ("5, 1, 3, 7, 3", "51373"),
        ("5.0.6.7.0", "50670"),
        ("0,214, 123456", "0214123456"),
        ("0171 9876543", "01719876543"),
        ("einundfünfzig dreihundertdreiundsiebzig", "51373"),
        ("Die Postleitzahl ist fünf eins drei sieben drei", "51373"),
        ("äh null zwei eins vier", "0214"),
        ("doppel null sieben", "007"),
        ("dreimal sieben", "777"),
        ("zwei mal null", "00"),
        ("plus vier neun zwei eins vier", "+49214"),
        ("+49 214 406", "+49214406"),
        ("Ich möchte abbrechen.", None),
        ("5.0 weg 7.0", None),
        ("eine andere Nummer", None),
        ("Nein.", None),
        ("", None),
        ("plus", None),
        ("1" * 16, None),  # longer than any phone number
    ],
)
def test_an_answer_of_only_digits_is_read_as_digits(text: str, digits: str | None) -> None:
    assert spoken_digits(text) == digits


def test_digits_are_scored_as_whisper_writes_them() -> None:
    assert digit_renderings("51373") == ("5 1 3 7 3", "5, 1, 3, 7, 3")
    assert digit_renderings("+49") == ("+4 9", "+4, 9")


def test_digit_kinds_have_their_lengths() -> None:
    assert DIGIT_KINDS["postcode"].fits("51373") and not DIGIT_KINDS["postcode"].fits("5137")
    assert DIGIT_KINDS["phone"].fits("021412") and not DIGIT_KINDS["phone"].fits("02141")
    assert not DIGIT_KINDS["phone"].fits("1" * 16)
    assert DIGIT_KINDS["house_number"].fits("12")


@pytest.mark.parametrize(
    ("text", "yes_or_no"),
    [
        ("Ja.", True),
        ("Nein, danke.", True),
        ("Genau.", True),
        ("Yes, please.", True),
        ("9", False),
        ("Jagd", False),
    ],
)
def test_a_transcript_that_already_says_yes_or_no(text: str, yes_or_no: bool) -> None:
    assert says_yes_or_no(text) is yes_or_no


def _s(text: str, mean: float) -> Scored:
    return Scored(text, text, mean)


def test_an_expected_answer_wins_when_it_scores_about_as_well_as_the_free_transcript() -> None:
    nein = _s("Nein.", -0.8)
    assert choose(_s("9", -1.6), [_s("Ja.", -4.8), nein]) == nein
    assert choose(_s("9", nein.mean_logprob + MARGIN - 0.01), [nein]) == nein
    assert choose(None, [nein]) == nein  # nothing heard freely


def test_the_free_transcript_stays_when_it_scores_clearly_better_or_nothing_fits() -> None:
    free = _s("Ich möchte mit einem Menschen sprechen.", -0.2)
    assert choose(free, [_s("Ja.", -4.0), _s("Nein.", -3.0)]) is None
    assert choose(free, []) is None
    assert choose(None, [_s("5 1 3 7 3", FLOOR - 0.1)]) is None  # forced digits of noise


@pytest.mark.parametrize(
    ("expect", "parsed"),
    [
        ("postcode", "postcode"),
        ("phone", "phone"),
        ("house_number", "house_number"),
        ("digits", "digits"),
        ("yes_no", "yes_no"),
        ("address", "long"),
        ("date", None),  # not (yet) a kind: ignored, as any unknown value
    ],
)
def test_expect_kinds_are_directives(expect: str, parsed: str | None) -> None:
    assert parse_directives({"expect": expect}) == Directives(expect=parsed)  # type: ignore[arg-type]


def test_the_listener_keeps_the_expected_answer_and_its_end_of_turn_silence() -> None:
    seg = FakeSegmenter()
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vad")

    async def scenario() -> list[str | None]:
        listener = Listener(seg, pool)
        seen = []
        for answer in ("postcode", "yes_no", "long", "house_number", "normal"):
            listener.expect_answer(answer)
            seen.append(listener.recognition)
            await listener.push(np.ones(320, dtype=np.int16))
        return seen

    assert asyncio.run(scenario()) == ["postcode", "yes_no", None, "house_number", None]
    pool.shutdown()
    assert seg.answers == ["long", "yes_no", "long", "normal", "normal"]


def test_the_utterance_after_a_postcode_question_is_recognised_against_a_postcode() -> None:
    question = [BotMessage(text="Wie lautet die Postleitzahl?", custom={"expect": "postcode"})]
    thanks = [BotMessage(text="Danke.")]
    fakes = Fakes(rasa=FakeRasa(question, thanks, thanks))
    fakes.asr.text = "51373"

    async def script(session: CallSession, f: Fakes) -> None:
        await until(lambda: len(f.store.texts("bot")) == 1)
        await say(session, f, utterance())
        await until(lambda: len(f.store.texts("bot")) == 2)
        await say(session, f, utterance())  # after "Danke.": nothing is expected
        await until(lambda: len(f.store.texts("bot")) == 3)

    run_call(fakes, script)
    assert fakes.asr.expected == ["postcode"]
    assert fakes.asr.calls == 2
    assert fakes.rasa.sent[1][0] == "51373"
