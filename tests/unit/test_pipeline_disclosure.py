"""The AI disclosure is always heard: the greeting's first sentences cannot be talked away, the
rest of the greeting can; and a handoff, its department and catalogue target reach the transfer.
"""

from __future__ import annotations

import asyncio

import pytest

from tests.unit.pipeline_fakes import (
    FRAME,
    FakeHandoff,
    FakeRasa,
    Fakes,
    FakeSink,
    FakeStore,
    FakeTts,
    prompts,
    until,
    utterance,
)
from tests.unit.test_pipeline_session import run_call, say
from voicebot.audio.vad import SpeechStarted
from voicebot.pipeline.call import CallSession
from voicebot.pipeline.directives import paired
from voicebot.pipeline.playback import Playback
from voicebot.pipeline.turns import TurnRecorder
from voicebot.services.dialogue import BotMessage, DialogueError

DISCLOSURE = (
    "Guten Tag! Sie sprechen mit dem digitalen Assistenten der Stadt Leverkusen. "
    "Ich bin eine künstliche Intelligenz."
)
GREETING_TEXT = DISCLOSURE + " Wie kann ich Ihnen helfen?"
# as Rasa's REST channel sends a response with a custom payload: the text, then the payload
GREETING = [BotMessage(text=GREETING_TEXT), BotMessage(custom={"uninterruptible": 3})]
SENTENCE_FRAMES = 55  # FakeTts: two chunks of this many 20 ms frames per synthesis: 2.2 s


def test_the_held_sentences_play_to_the_end_and_a_barge_in_stops_right_after_them() -> None:
    sink, store, tts = FakeSink(), FakeStore(), FakeTts(frames=20)
    playback = Playback(sink, TurnRecorder("c1", store), tts, prompts())

    async def scenario() -> bool:
        speaking = asyncio.create_task(playback.say(GREETING_TEXT, "de", 1.0, 3))
        await until(lambda: len(sink.frames) >= 2)
        stopped = playback.barge_in()  # noted, not acted on during the disclosure
        spoken = await speaking
        assert spoken.interrupted
        return stopped

    assert asyncio.run(scenario())
    assert [text for text, _, _ in tts.said] == [DISCLOSURE]  # the rest is never synthesised
    assert len(sink.frames) == 40 and sink.marks == ["turn-1-held"] and sink.clears == 1
    (turn,) = store.turns
    assert turn.text == GREETING_TEXT and turn.interrupted


def test_without_barge_in_the_whole_message_plays_with_a_mark_after_the_held_part() -> None:
    sink, store, tts = FakeSink(), FakeStore(), FakeTts(frames=2)
    playback = Playback(sink, TurnRecorder("c1", store), tts, prompts())
    spoken = asyncio.run(playback.say(GREETING_TEXT, "de", 1.0, 3))
    assert not spoken.interrupted
    assert [text for text, _, _ in tts.said] == [DISCLOSURE, "Wie kann ich Ihnen helfen?"]
    assert len(sink.frames) == 8 and sink.marks == ["turn-1-held", "turn-1"]


def test_a_payload_sent_after_its_text_belongs_to_that_text() -> None:
    handoff = {"handoff": {"department": "standesamt"}}
    messages = paired(
        [
            BotMessage(text="Eins."),
            BotMessage(custom={"expect": "yes_no"}),
            BotMessage(custom={"language": "en"}),  # a payload of its own
            BotMessage(text="Ich verbinde Sie mit dem Standesamt.", custom=handoff),
        ]
    )
    assert [(m.text, d.expect, d.language) for m, d in messages] == [
        ("Eins.", "yes_no", None),
        (None, None, "en"),
        ("Ich verbinde Sie mit dem Standesamt.", None, None),
    ]
    assert messages[2][1].handoff is not None


@pytest.mark.parametrize(
    ("after_s", "how"), [(0.3, "speech"), (1.0, "speech"), (2.0, "speech"), (0.3, "key")]
)
def test_the_disclosure_is_heard_in_full_however_early_the_caller_talks(
    after_s: float, how: str
) -> None:
    """Caller speech (or a key) 0.3, 1 or 2 s into the greeting: the disclosure plays to its
    end, the question after it stops, and the caller is answered."""
    answer = [BotMessage(text="Das Bürgerbüro hat heute bis 18 Uhr geöffnet.")]
    fakes = Fakes(rasa=FakeRasa(GREETING, answer), tts=FakeTts(frames=SENTENCE_FRAMES))
    held_frames = 2 * SENTENCE_FRAMES  # the disclosure (three sentences): one synthesis
    heard_before_clear: list[int] = []

    async def script(session: CallSession, f: Fakes) -> None:
        await until(lambda: len(f.sink.frames) >= after_s * 50)
        if how == "speech":
            await say(session, f, SpeechStarted(0))
        else:
            session.feed_dtmf("1")
        await until(lambda: f.sink.clears == 1)
        heard_before_clear.append(len(f.sink.frames))
        if how == "speech":
            await say(session, f, utterance())
        await until(lambda: len(f.store.texts("bot")) == 2)

    run_call(fakes, script)
    assert heard_before_clear == [held_frames]  # all of the disclosure, nothing after it
    assert fakes.sink.marks[0] == "turn-1-held"
    assert fakes.store.turns[0].interrupted
    assert fakes.store.texts("bot") == [GREETING_TEXT, answer[0].text]
    assert "künstliche Intelligenz" in fakes.tts.said[0][0]
    assert all(len(frame) == FRAME for frame in fakes.sink.frames)


def test_a_failure_at_the_start_says_the_disclosure_whatever_the_caller_does() -> None:
    fakes = Fakes(rasa=FakeRasa(DialogueError("down")), handoff=FakeHandoff())

    async def script(session: CallSession, f: Fakes) -> None:
        await until(lambda: len(f.sink.frames) >= 1)
        await say(session, f, SpeechStarted(0))
        await session.ended.wait()

    run_call(fakes, script)
    assert "künstlichen Intelligenz" in fakes.store.texts("bot")[0]
    assert not fakes.store.turns[0].interrupted and fakes.sink.clears == 0


def test_a_handoff_goes_to_the_department_and_target_rasa_names() -> None:
    handoff = {
        "handoff": {
            "department": "standesamt",
            "reason": "caller_request",
            "target": "sip:standesamt@pbx.leverkusen.local",
        }
    }
    reply = [BotMessage(text="Ich verbinde Sie mit dem Standesamt."), BotMessage(custom=handoff)]
    fakes = Fakes(rasa=FakeRasa(reply), handoff=FakeHandoff())

    async def script(session: CallSession, f: Fakes) -> None:
        await session.ended.wait()

    run_call(fakes, script)
    assert fakes.handoff is not None
    assert fakes.handoff.created == [
        {
            "department": "standesamt",
            "reason": "caller_request",
            "target": "sip:standesamt@pbx.leverkusen.local",
        }
    ]
    assert fakes.sink.transfers == [("sip:standesamt@pbx.leverkusen.local", "H7K2")]
    assert fakes.store.ends == [("c1", "handoff", "standesamt", "caller_request")]


def test_keys_pressed_hold_the_end_of_turn_until_the_entry_is_complete() -> None:
    fakes = Fakes(rasa=FakeRasa([BotMessage(text="Hallo.")]))

    async def script(session: CallSession, f: Fakes) -> None:
        await until(lambda: len(f.sink.marks) >= 1)
        await say(session, f)
        session.feed_dtmf("5")
        await say(session, f)  # typing: silence does not end the caller's turn
        await until(lambda: len(f.rasa.sent) == 2)  # the entry ended (inter-digit pause)
        await say(session, f)

    run_call(fakes, script)
    assert fakes.segmenter.held == [False, True, False]
