"""The action server down during a call (issue 12, finding 13): Rasa answers [] to the caller's
turn, which is a fault like Rasa down, so the caller hears the apology and is handed off."""

from __future__ import annotations

import asyncio

from tests.unit.pipeline_fakes import FakeRasa, Fakes, until, utterance
from tests.unit.test_pipeline_session import GREETING, bot_texts, run_call, say
from voicebot.pipeline.call import CallSession
from voicebot.pipeline.prompts import PROMPT_TEXTS


def test_an_empty_answer_with_the_action_server_down_is_apologised_for_and_handed_off() -> None:
    fakes = Fakes(rasa=FakeRasa([GREETING], []))

    async def script(session: CallSession, f: Fakes) -> None:
        await until(lambda: len(f.sink.marks) >= 1)
        f.rasa.actions_up = False
        await say(session, f, utterance(0, 800))
        await asyncio.wait_for(session.ended.wait(), 10)  # before the fix: silence, no end

    run_call(fakes, script)
    assert bot_texts(fakes) == [GREETING.text, PROMPT_TEXTS["de"]["fault"]]
    assert fakes.sink.closed == ["handoff"]
    assert fakes.store.ends == [("c1", "handoff", "default", "dialogue_failed")]


def test_an_empty_answer_with_the_action_server_up_is_no_fault() -> None:
    fakes = Fakes(rasa=FakeRasa([GREETING], [], [GREETING]))

    async def script(session: CallSession, f: Fakes) -> None:
        await until(lambda: len(f.sink.marks) >= 1)
        await say(session, f, utterance(0, 800))
        await until(lambda: len(f.rasa.sent) >= 2)

    run_call(fakes, script)
    assert PROMPT_TEXTS["de"]["fault"] not in bot_texts(fakes)
    assert not fakes.store.ends or fakes.store.ends[0][1] != "handoff"
