"""English beyond the FAQ, as text through the stack's real Rasa and action server: the
callback form and the keypad menu answer an English call in English."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import aiohttp
import pytest

from tests.support import Stack
from voicebot.config import RasaSettings
from voicebot.services.dialogue import BotMessage, RasaClient

pytestmark = pytest.mark.integration
CALLER = "+4921477123"


def converse(stack: Stack, turns: list[str], **metadata: Any) -> list[list[BotMessage]]:
    """Sends the caller's turns of one conversation; returns the bot's messages per turn."""

    async def run() -> list[list[BotMessage]]:
        settings = RasaSettings(url=stack.env["VOICEBOT_RASA_URL"], timeout_s=30)
        sender = "test-" + uuid.uuid4().hex
        meta = {"language": "en", "caller": CALLER, **metadata}
        async with aiohttp.ClientSession() as http:
            rasa = RasaClient(http, settings)
            return [await rasa.send(sender, text, meta) for text in turns]

    return asyncio.run(run())


def said(messages: list[BotMessage]) -> str:
    return " ".join(m.text for m in messages if m.text)


def test_an_english_caller_books_a_callback_in_english(stack: Stack) -> None:
    greeting, offer, number, topic, confirm = converse(
        stack,
        ["/call_start", "can i speak to a person", "yes please", "yes", "my new passport"],
        service_open=False,
    )
    assert "artificial intelligence" in said(greeting), said(greeting)
    assert "nobody is available" in said(offer), said(offer)
    assert said(number) == "Shall we call you back on the number you are calling from?"
    assert said(topic) == "What is it about? Please tell me in one sentence."
    assert said(confirm).startswith("Thank you. We will call you back on 0 2 1 4 7 7 1 2 3")
    handoff = next(m.custom["handoff"] for m in confirm if "handoff" in m.custom)
    assert handoff["kind"] == "callback", handoff


def test_an_english_caller_may_say_another_number_in_english_digits(stack: Stack) -> None:
    *_, asked, topic, confirm = converse(
        stack,
        [
            "/call_start",
            "i want to talk to a human",
            "yes",
            "no",
            "zero two one four three five six seven eight",
            "a question about my car registration",
        ],
        service_open=False,
    )
    assert said(asked).startswith("Which phone number can we call you back on?"), said(asked)
    assert said(topic).startswith("What is it about?"), said(topic)
    assert "0 2 1 4 3 5 6 7 8" in said(confirm), said(confirm)


def test_an_unassigned_key_reads_the_menu_in_english(stack: Stack) -> None:
    _, answer = converse(stack, ["/call_start", '/dtmf{"dtmf_digits": "7"}'])
    assert said(answer) == (
        "This key is not in use. "
        "For the opening hours, press one. For a member of staff, press zero."
    )
