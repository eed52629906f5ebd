"""The no-input policy: what the bot says when the caller stays silent."""

from __future__ import annotations

import asyncio

import pytest

from voicebot.pipeline.no_input import NoInput, NoInputPolicy, next_input, question_to_repeat


@pytest.mark.parametrize(
    ("message", "repeated"),
    [
        (
            "Guten Tag! Ich bin eine künstliche Intelligenz. Wie kann ich Ihnen helfen?",
            "Wie kann ich Ihnen helfen?",
        ),
        (
            "Das Amt ruft Sie zurück. Sollen wir Sie unter dieser Nummer anrufen? "
            "Sagen Sie ja, oder tippen Sie eine andere Nummer ein.",
            "Sollen wir Sie unter dieser Nummer anrufen? "
            "Sagen Sie ja, oder tippen Sie eine andere Nummer ein.",
        ),
        (
            "An welchem Tag? Sagen Sie zum Beispiel: nächsten Dienstag. Welcher Tag passt?",
            "Welcher Tag passt?",
        ),
        ("Bitte nennen Sie Ihre Postleitzahl.", "Bitte nennen Sie Ihre Postleitzahl."),
    ],
)
def test_the_question_is_repeated_from_the_last_question_on(message: str, repeated: str) -> None:
    assert question_to_repeat(message) == repeated


def test_reprompts_until_the_limit_then_says_goodbye() -> None:
    policy = NoInputPolicy(reprompts=2)
    assert [policy.silence() for _ in range(3)] == ["reprompt", "reprompt", "goodbye"]


def test_an_answer_starts_the_count_afresh() -> None:
    policy = NoInputPolicy(reprompts=1)
    assert policy.silence() == "reprompt"
    policy.heard()
    assert policy.silence() == "reprompt"
    assert policy.silence() == "goodbye"


def test_the_reprompt_repeats_the_question_in_the_call_language() -> None:
    policy = NoInputPolicy(reprompts=1)
    german = policy.text("reprompt", "de", "Guten Tag! Wie kann ich Ihnen helfen?")
    assert german == "Sind Sie noch da? Ich habe Sie nicht gehört. Wie kann ich Ihnen helfen?"
    english = policy.text("reprompt", "en", "Hello! How can I help you?")
    assert english.startswith("Are you still there?") and english.endswith("How can I help you?")
    assert "Auf Wiederhören" in policy.text("goodbye", "de", "egal")
    assert policy.text("reprompt", "fr", None) == "Sind Sie noch da? Ich habe Sie nicht gehört."


def test_silence_after_the_timeout_is_no_input() -> None:
    async def scenario() -> object:
        inputs: asyncio.Queue[str] = asyncio.Queue()
        return await next_input(inputs, 0.01, busy=lambda: False)

    assert isinstance(asyncio.run(scenario()), NoInput)


def test_no_input_while_the_caller_is_busy_only_once_they_are_not() -> None:
    checks: list[bool] = []

    def busy() -> bool:
        checks.append(len(checks) < 3)  # speaking, typing or on hold for three timeouts
        return checks[-1]

    async def scenario() -> object:
        inputs: asyncio.Queue[str] = asyncio.Queue()
        return await next_input(inputs, 0.005, busy)

    assert isinstance(asyncio.run(scenario()), NoInput)
    assert checks == [True, True, True, False]


def test_an_input_comes_first_and_zero_waits_for_ever() -> None:
    async def scenario() -> list[object]:
        inputs: asyncio.Queue[str] = asyncio.Queue()
        inputs.put_nowait("utterance")
        inputs.put_nowait("keys")
        return [
            await next_input(inputs, 60, busy=lambda: False),
            await next_input(inputs, 0, busy=lambda: False),
        ]

    assert asyncio.run(scenario()) == ["utterance", "keys"]


def test_a_cancel_is_not_lost_when_the_input_is_already_there() -> None:
    """Ending a call cancels its dialogue task; an input already queued (the greeting's Start)
    must not swallow that cancel (asyncio.wait_for did before Python 3.12)."""

    async def scenario() -> bool:
        for _ in range(20):
            inputs: asyncio.Queue[str] = asyncio.Queue()
            inputs.put_nowait("start")
            waiter = asyncio.create_task(next_input(inputs, 10.0, lambda: False))
            await asyncio.sleep(0)  # the waiter is inside next_input, the input is ready
            waiter.cancel()
            try:
                await waiter
            except asyncio.CancelledError:
                continue
            return False
        return True

    assert asyncio.run(scenario())
