"""The call session with fakes: a transcript the bot did not hear well (a loop, low
confidence) goes to Rasa as the intent acoustic_miss, never as the caller's words."""

from __future__ import annotations

from tests.unit.pipeline_fakes import FakeRasa, Fakes, until, utterance
from tests.unit.test_pipeline_session import GREETING, greeted, run_call, say
from voicebot.pipeline.call import CallSession
from voicebot.pipeline.hearing import ACOUSTIC_MISS
from voicebot.services.dialogue import BotMessage

AGAIN = BotMessage(
    text="Ich habe Sie akustisch nicht gut verstanden. Bitte sagen Sie es noch einmal."
)


def one_utterance(fakes: Fakes) -> None:
    async def script(session: CallSession, f: Fakes) -> None:
        await greeted(session, f)
        await say(session, f, utterance(0, 800))
        await until(lambda: len(f.store.texts("caller")) == 1)

    run_call(fakes, script)


def test_a_hallucination_loop_is_an_acoustic_miss() -> None:
    fakes = Fakes(rasa=FakeRasa([GREETING], [AGAIN]))
    fakes.asr.text = "Metall, Metall, Metall, Metall"
    one_utterance(fakes)
    text, metadata = fakes.rasa.sent[1]
    assert text == ACOUSTIC_MISS
    assert metadata["not_heard"] == "loop"
    caller = next(t for t in fakes.store.turns if t.speaker == "caller")
    assert caller.text == "Metall, Metall, Metall, Metall"  # the record keeps what was heard
    assert fakes.store.texts("bot")[-1] == AGAIN.text


def test_low_confidence_is_an_acoustic_miss() -> None:
    fakes = Fakes(rasa=FakeRasa([GREETING], [AGAIN]))
    fakes.asr.text = "Riedwerter Mordel"
    fakes.asr.confidence = 0.05
    one_utterance(fakes)
    text, metadata = fakes.rasa.sent[1]
    assert text == ACOUSTIC_MISS
    assert metadata["not_heard"] == "low_confidence"
    assert metadata["asr_confidence"] == 0.05


def test_a_confident_transcript_goes_to_rasa_as_said() -> None:
    fakes = Fakes(rasa=FakeRasa([GREETING], [BotMessage(text="Bis 18 Uhr.")]))
    one_utterance(fakes)
    text, metadata = fakes.rasa.sent[1]
    assert text == fakes.asr.text
    assert "not_heard" not in metadata
