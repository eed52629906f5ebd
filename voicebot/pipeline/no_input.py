"""What the bot says when the caller stays silent after its question (the no-input event).

A phone line can go quiet for many reasons: the caller is thinking, the answer was too soft to
be heard, the line dropped the audio. A real IVR never waits in silence: after `no_input_s`
the bot asks whether the caller is still there and repeats its question; after
`no_input_reprompts` such reprompts it says goodbye and ends the call (`end_reason`
`no_input`). Rasa is not involved: the dialogue state stays exactly where it was.

It is not silence while the caller is speaking, typing a number or holding the call: then the
wait simply goes on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from voicebot.services.tts import split_sentences

NO_INPUT_TEXTS: dict[str, dict[str, str]] = {
    "de": {
        "reprompt": "Sind Sie noch da? Ich habe Sie nicht gehört.",
        "goodbye": (
            "Ich kann Sie leider nicht hören. Bitte rufen Sie noch einmal an. Auf Wiederhören."
        ),
    },
    "en": {
        "reprompt": "Are you still there? I did not hear you.",
        "goodbye": "I am afraid I cannot hear you. Please call again. Goodbye.",
    },
}


T = TypeVar("T")


@dataclass(frozen=True)
class NoInput:
    """Input: the caller said and typed nothing for `no_input_s` after the bot spoke."""


async def next_input(
    inputs: asyncio.Queue[T], no_input_s: float, busy: Callable[[], bool]
) -> T | NoInput:
    """The next input, or NoInput after `no_input_s` without one unless `busy()` says the
    caller is speaking, typing or holding the call (0 s: wait for ever)."""
    while True:
        if no_input_s <= 0:
            return await inputs.get()
        # not asyncio.wait_for: before Python 3.12 it drops a cancel that arrives as the input
        # does, and the call would then run on after the transport ended it
        getter = asyncio.ensure_future(inputs.get())
        try:
            done, _ = await asyncio.wait({getter}, timeout=no_input_s)
        except asyncio.CancelledError:
            getter.cancel()
            raise
        if done:
            return getter.result()
        getter.cancel()
        if not busy():
            return NoInput()


def question_to_repeat(message: str) -> str:
    """The part of the bot's last message worth repeating: from its last question on (with
    what follows, e.g. "Sagen Sie ja, oder tippen Sie …"), or all of it without a question."""
    sentences = split_sentences(message)
    asked = [i for i, s in enumerate(sentences) if s.rstrip().endswith("?")]
    if not asked:
        return message.strip()
    return " ".join(s.strip() for s in sentences[asked[-1] :])


@dataclass
class NoInputPolicy:
    """Counts silences in a row; any caller input (speech or keys) starts the count afresh."""

    reprompts: int  # reprompts before the bot gives up
    silences: int = 0

    def heard(self) -> None:
        """The caller said or typed something."""
        self.silences = 0

    def silence(self) -> str:
        """Another silence: "reprompt", or "goodbye" once the reprompts are used up."""
        self.silences += 1
        return "goodbye" if self.silences > self.reprompts else "reprompt"

    def text(self, what: str, language: str, last_message: str | None) -> str:
        """What the bot says for `what` in the call's language."""
        texts = NO_INPUT_TEXTS.get(language, NO_INPUT_TEXTS["de"])
        if what == "reprompt" and last_message:
            return f"{texts['reprompt']} {question_to_repeat(last_message)}"
        return texts[what]
