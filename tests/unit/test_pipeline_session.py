"""The call session with fakes: inputs in (audio events, keys, silence), what comes out (frames,
clears, transfers, turns, the end of the record)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from tests.unit.pipeline_fakes import (
    FakeHandoff,
    FakeRasa,
    Fakes,
    FakeSink,
    FakeTts,
    pcm,
    settings,
    until,
    utterance,
)
from voicebot.audio.vad import SpeechPaused, SpeechStarted
from voicebot.pipeline.call import CallInfo, CallSession
from voicebot.pipeline.prompts import PROMPT_TEXTS
from voicebot.services.dialogue import BotMessage, DialogueError

GREETING = BotMessage(text="Guten Tag. Wie kann ich Ihnen helfen?")
ANSWER = BotMessage(text="Das Bürgerbüro hat heute bis 18 Uhr geöffnet.")
Script = Callable[[CallSession, Fakes], Awaitable[None]]


def run_call(fakes: Fakes, script: Script, hang_up: bool = True) -> CallSession:
    """Starts a call, runs the script against it, then hangs up (as the transport would)."""

    async def main() -> CallSession:
        info = CallInfo("c1", "test", "de", caller="+4921430")
        session = CallSession(info, fakes.sink, fakes.services())
        await session.start()
        try:
            await script(session, fakes)
        finally:
            if hang_up:
                await session.finish()
        return session

    try:
        return asyncio.run(main())
    finally:
        fakes.pool.shutdown()


async def greeted(session: CallSession, f: Fakes) -> None:
    """Waits until the greeting has been played to the end."""
    await until(lambda: len(f.sink.marks) >= 1)


async def say(session: CallSession, f: Fakes, *events: object) -> None:
    """The segmenter reports `events` for the next piece of caller audio."""
    f.segmenter.script.append(list(events))  # type: ignore[arg-type]
    await session.feed_audio(pcm(10))  # 200 ms: more than the resampler holds back


def bot_texts(f: Fakes) -> list[str]:
    return f.store.texts("bot")


def test_the_greeting_is_spoken_and_the_record_closed_at_the_hang_up() -> None:
    fakes = Fakes(rasa=FakeRasa([GREETING]))
    run_call(fakes, greeted)
    assert fakes.rasa.sent[0][0] == "/call_start"
    assert fakes.rasa.sent[0][1]["caller"] == "+4921430"
    assert bot_texts(fakes) == [GREETING.text]
    assert fakes.store.calls[0].call_id == "c1"
    assert fakes.store.ends == [("c1", "hangup", None, None)]
    assert fakes.sink.closed == []  # the caller hung up: the transport closes the stream


def test_an_utterance_is_answered_from_the_speculative_transcript() -> None:
    fakes = Fakes(rasa=FakeRasa([GREETING], [ANSWER]))

    async def script(session: CallSession, f: Fakes) -> None:
        await greeted(session, f)
        f.segmenter.speech_end_ms = 800
        await say(session, f, SpeechPaused(utterance(0, 800)))
        await say(session, f, utterance(0, 800))
        await until(lambda: len(f.store.texts("caller")) == 1)

    session = run_call(fakes, script)
    assert session.speculative_hits == 1 and fakes.asr.calls == 1
    assert fakes.rasa.sent[1][0] == fakes.asr.text
    caller = next(t for t in fakes.store.turns if t.speaker == "caller")
    assert caller.intent == "ask_hours" and caller.tts_first_audio_ms is not None
    assert bot_texts(fakes) == [GREETING.text, ANSWER.text]


def test_the_guess_is_dropped_when_the_caller_speaks_on() -> None:
    fakes = Fakes(rasa=FakeRasa([GREETING], [ANSWER]))

    async def script(session: CallSession, f: Fakes) -> None:
        await greeted(session, f)
        f.segmenter.speech_end_ms = 800
        await say(session, f, SpeechPaused(utterance(0, 800)))
        f.segmenter.speech_end_ms = 1400  # the caller went on after the pause
        await say(session, f)
        await say(session, f, utterance(0, 1400))
        await until(lambda: len(f.store.texts("caller")) == 1)

    session = run_call(fakes, script)
    assert session.speculative_hits == 0 and fakes.asr.calls == 2


def test_caller_speech_stops_the_bot_and_clears_the_far_end() -> None:
    fakes = Fakes(rasa=FakeRasa([GREETING]), tts=FakeTts(frames=200))

    async def script(session: CallSession, f: Fakes) -> None:
        await until(lambda: len(f.sink.frames) >= 2)
        await say(session, f, SpeechStarted(0))
        await until(lambda: f.sink.clears == 1)
        await until(lambda: len(f.store.turns) == 1)

    run_call(fakes, script)
    assert len(fakes.sink.frames) < 400 and fakes.sink.marks == []
    assert fakes.store.turns[0].interrupted


def test_a_key_stops_the_bot_too() -> None:
    fakes = Fakes(rasa=FakeRasa([GREETING]), tts=FakeTts(frames=200))

    async def script(session: CallSession, f: Fakes) -> None:
        await until(lambda: len(f.sink.frames) >= 2)
        session.feed_dtmf("1")
        await until(lambda: f.sink.clears == 1)

    run_call(fakes, script)


def test_the_filler_plays_when_rasa_is_slow_but_not_in_two_turns_in_a_row() -> None:
    filler = PROMPT_TEXTS["de"]["filler"]
    slow = FakeRasa([GREETING], [ANSWER], [ANSWER], delay_s=0.05)
    fakes = Fakes(rasa=slow, settings=settings(filler_after_ms=0))

    async def script(session: CallSession, f: Fakes) -> None:
        await say(session, f, utterance(0, 800))
        await say(session, f, utterance(2000, 2800))
        await until(lambda: len(f.store.texts("caller")) == 2)

    run_call(fakes, script)
    assert bot_texts(fakes) == [filler, GREETING.text, ANSWER.text, filler, ANSWER.text]


def test_no_filler_when_rasa_answers_in_time() -> None:
    fakes = Fakes(rasa=FakeRasa([GREETING]))
    run_call(fakes, greeted)
    assert bot_texts(fakes) == [GREETING.text]


def test_a_dialogue_fault_at_the_start_is_apologised_for_and_handed_off() -> None:
    fakes = Fakes(rasa=FakeRasa(DialogueError("Rasa is down")))

    async def script(session: CallSession, f: Fakes) -> None:
        await session.ended.wait()

    run_call(fakes, script)
    assert bot_texts(fakes) == [PROMPT_TEXTS["de"]["fault_at_start"]]
    assert fakes.sink.closed == ["handoff"]
    assert fakes.store.ends == [("c1", "handoff", "default", "dialogue_failed")]


def test_an_unexpected_error_is_a_fault_too_and_the_record_is_closed() -> None:
    fakes = Fakes(rasa=FakeRasa([GREETING], RuntimeError("a bug")))

    async def script(session: CallSession, f: Fakes) -> None:
        await greeted(session, f)
        await say(session, f, utterance(0, 800))
        await session.ended.wait()

    run_call(fakes, script)
    assert bot_texts(fakes) == [GREETING.text, PROMPT_TEXTS["de"]["fault"]]
    assert fakes.sink.closed == ["handoff"]
    assert fakes.store.ends == [("c1", "handoff", "default", "internal_failed")]
    assert fakes.store.turns[-1].speaker == "caller"  # the turn that failed is kept


class BrokenSink(FakeSink):
    """A transport whose stream fails on every write."""

    async def send_audio(self, frame: object) -> None:
        raise RuntimeError("socket gone")

    async def close(self, reason: str) -> None:
        raise RuntimeError("socket gone")


def test_a_failing_sink_still_ends_the_call_and_its_record() -> None:
    fakes = Fakes(rasa=FakeRasa([GREETING]), sink=BrokenSink())

    async def script(session: CallSession, f: Fakes) -> None:
        await session.ended.wait()

    run_call(fakes, script)
    assert fakes.store.ends == [("c1", "handoff", "default", "internal_failed")]
    assert [t.speaker for t in fakes.store.turns] == ["bot", "bot"]
    assert all(t.interrupted for t in fakes.store.turns)


def test_the_record_is_closed_when_turns_cannot_be_written() -> None:
    fakes = Fakes(rasa=FakeRasa([GREETING]), tts=FakeTts(frames=200))

    async def script(session: CallSession, f: Fakes) -> None:
        await until(lambda: len(f.sink.frames) >= 1)
        f.store.fail_turns = ConnectionError("database gone")

    run_call(fakes, script)
    assert fakes.store.ends == [("c1", "hangup", None, None)]


def test_keys_reach_the_dialogue_at_hash_and_after_the_pause() -> None:
    fakes = Fakes(rasa=FakeRasa([GREETING], [ANSWER], [ANSWER]))

    async def script(session: CallSession, f: Fakes) -> None:
        await greeted(session, f)
        for digit in "12#":
            session.feed_dtmf(digit)
        await until(lambda: len(f.rasa.sent) == 2)
        session.feed_dtmf("7")
        await until(lambda: len(f.rasa.sent) == 3)
        await until(lambda: len(f.store.texts("caller")) == 2)

    run_call(fakes, script)
    assert [text for text, _ in fakes.rasa.sent[1:]] == [
        '/dtmf{"dtmf_digits": "12"}',
        '/dtmf{"dtmf_digits": "7"}',
    ]
    assert fakes.rasa.sent[1][1]["dtmf"] == "12"
    assert [t.dtmf for t in fakes.store.turns if t.speaker == "caller"] == ["12", "7"]


def test_a_silent_caller_is_asked_again_then_told_goodbye() -> None:
    fakes = Fakes(
        rasa=FakeRasa([GREETING]), settings=settings(no_input_s=0.02, no_input_reprompts=1)
    )

    async def script(session: CallSession, f: Fakes) -> None:
        await session.ended.wait()

    run_call(fakes, script)
    reprompt, goodbye = bot_texts(fakes)[1:]
    assert reprompt == "Sind Sie noch da? Ich habe Sie nicht gehört. Wie kann ich Ihnen helfen?"
    assert "Auf Wiederhören" in goodbye
    assert fakes.sink.closed == ["no_input"]
    assert fakes.store.ends == [("c1", "no_input", None, None)]
    assert len(fakes.rasa.sent) == 1  # Rasa is not asked about silence


def test_no_reprompt_while_the_caller_holds_the_call() -> None:
    fakes = Fakes(
        rasa=FakeRasa([GREETING]), settings=settings(no_input_s=0.01, no_input_reprompts=1)
    )
    fakes.sink.hold = True

    async def script(session: CallSession, f: Fakes) -> None:
        await greeted(session, f)
        await until(lambda: f.sink.hold_checks >= 3)  # three silences while on hold
        assert bot_texts(f) == [GREETING.text]
        f.sink.hold = False
        await until(lambda: len(bot_texts(f)) == 2)

    run_call(fakes, script)
    assert bot_texts(fakes)[1].startswith("Sind Sie noch da?")


def test_a_handoff_directive_transfers_the_call_through_the_sink() -> None:
    handoff = BotMessage("Ich verbinde Sie.", {"handoff": {"department": "standesamt"}})
    fakes = Fakes(rasa=FakeRasa([handoff]), handoff=FakeHandoff())

    async def script(session: CallSession, f: Fakes) -> None:
        await session.ended.wait()

    run_call(fakes, script)
    assert fakes.sink.transfers == [("sip:standesamt@pbx", "H7K2")]
    assert bot_texts(fakes) == ["Ich verbinde Sie.", "Ihre Nummer ist H7K2."]
    assert fakes.tts.said[-1][0] == "Ihre Nummer ist H 7 K 2."
    assert fakes.sink.closed == ["handoff"]
    assert fakes.store.ends == [("c1", "handoff", "standesamt", "unspecified")]


def test_a_refused_transfer_is_told_to_the_caller() -> None:
    handoff = BotMessage("Ich verbinde Sie.", {"handoff": {"department": "standesamt"}})
    fakes = Fakes(rasa=FakeRasa([handoff]), handoff=FakeHandoff(), sink=FakeSink(False))

    async def script(session: CallSession, f: Fakes) -> None:
        await session.ended.wait()

    run_call(fakes, script)
    assert bot_texts(fakes)[-1] == "Die Weiterleitung hat nicht geklappt."
    assert fakes.handoff is not None and fakes.handoff.failed == ["H7K2"]
    assert fakes.sink.closed == ["transfer_failed"]


def test_a_callback_is_booked_without_a_transfer() -> None:
    callback = BotMessage("Wir rufen zurück.", {"handoff": {"kind": "callback"}})
    fakes = Fakes(rasa=FakeRasa([callback]), handoff=FakeHandoff())

    async def script(session: CallSession, f: Fakes) -> None:
        await session.ended.wait()

    run_call(fakes, script)
    assert fakes.sink.transfers == [] and fakes.sink.closed == ["callback"]


def test_the_bot_hangs_up() -> None:
    bye = BotMessage("Auf Wiederhören.", {"hangup": True})
    fakes = Fakes(rasa=FakeRasa([bye]))

    async def script(session: CallSession, f: Fakes) -> None:
        await session.ended.wait()

    run_call(fakes, script)
    assert fakes.sink.closed == ["bot_hangup"]
    assert fakes.store.ends == [("c1", "bot_hangup", None, None)]


def test_voice_directives_apply_to_the_answer_that_carries_them() -> None:
    english = BotMessage("What is your address?", {"language": "en", "speech": "slower"})
    expect = BotMessage(custom={"expect": "address"})
    fakes = Fakes(rasa=FakeRasa([english, expect]))

    async def script(session: CallSession, f: Fakes) -> None:
        await greeted(session, f)
        assert session.language == "en"
        await say(session, f)
        await until(lambda: f.segmenter.answers == ["long"])

    run_call(fakes, script)
    assert fakes.tts.said == [("What is your address?", "en", 1.25)]


def test_a_hang_up_mid_utterance_and_mid_answer_leaves_a_complete_record() -> None:
    fakes = Fakes(rasa=FakeRasa([GREETING]), tts=FakeTts(frames=200))
    fakes.segmenter.leftover = utterance(0, 500, complete=False)

    async def script(session: CallSession, f: Fakes) -> None:
        await until(lambda: len(f.sink.frames) >= 1)

    session = run_call(fakes, script)
    bot, caller = fakes.store.turns
    assert bot.speaker == "bot" and bot.interrupted and bot.ended_at is not None
    assert caller.speaker == "caller" and not caller.complete and caller.text == fakes.asr.text
    assert fakes.store.ends == [("c1", "hangup", None, None)]

    async def after_the_end() -> None:
        await session.finish("again")  # idempotent
        await session.feed_audio(pcm(1))  # nothing reaches the segmenter after the flush
        session.feed_dtmf("5")

    asyncio.run(after_the_end())
    assert fakes.store.ends == [("c1", "hangup", None, None)]
    assert fakes.segmenter.flushed and fakes.segmenter.pushes == 0
