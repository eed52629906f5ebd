"""The bot's reply directives: a BotMessage's `custom` payload, parsed once into a typed value.

Rasa's responses carry instructions for the gateway beside the text: hand the call to a person,
hang up, expect a long answer (longer end-of-turn silence), speak slower or at the normal rate,
switch the call's language. The session acts on a `Directives` object, never on the raw dict.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

SLOWER_STEP = 1.25  # {"speech": "slower"}: each request makes speech this much longer
MAX_LENGTH_SCALE = 1.6  # slower than this sounds broken

Speech = Literal["slower", "normal"]


@dataclass(frozen=True)
class HandoffDirective:
    """{"handoff": {"department": …, "reason": …, "kind": "callback"}}: pass the call on."""

    department: str = "default"
    reason: str = "unspecified"
    kind: Literal["callback"] | None = None  # "callback": the caller asked for one, no transfer


@dataclass(frozen=True)
class Directives:
    """What one bot message asks the gateway to do besides speaking its text."""

    handoff: HandoffDirective | None = None
    hangup: bool = False
    expect_long: bool = False  # {"expect": "address" | "long"}
    speech: Speech | None = None
    language: str | None = None


def _handoff(value: Any) -> HandoffDirective:
    """The handoff payload; a non-dict value still means "hand off", with the defaults."""
    data = value if isinstance(value, dict) else {}
    return HandoffDirective(
        department=str(data.get("department") or "default"),
        reason=str(data.get("reason") or "unspecified"),
        kind="callback" if data.get("kind") == "callback" else None,
    )


def parse_directives(custom: dict[str, Any]) -> Directives:
    """Reads a message's custom payload; unknown keys and malformed values are ignored."""
    speech = custom.get("speech")
    language = custom.get("language")
    return Directives(
        handoff=_handoff(custom["handoff"]) if "handoff" in custom else None,
        hangup=bool(custom.get("hangup")),
        expect_long=custom.get("expect") in {"address", "long"},
        speech="slower" if speech == "slower" else "normal" if speech == "normal" else None,
        language=language if isinstance(language, str) else None,
    )


@dataclass
class Voice:
    """How the bot sounds for the rest of the call: its language and speaking rate."""

    language: str
    base_scale: float  # the configured Piper length scale
    length_scale: float = 0.0  # 0: the base scale

    def __post_init__(self) -> None:
        if self.length_scale == 0.0:
            self.length_scale = self.base_scale

    def apply_speech(self, speech: Speech | None) -> None:
        """Slower: a step longer (up to a limit); normal: back to the configured rate."""
        if speech == "slower":
            self.length_scale = min(MAX_LENGTH_SCALE, self.length_scale * SLOWER_STEP)
        elif speech == "normal":
            self.length_scale = self.base_scale


@dataclass
class Outcome:
    """How the call ends once the bot has finished speaking (reason None: it goes on)."""

    reason: str | None = None
    department: str | None = None
    handoff_reason: str | None = None
    handoff_kind: str | None = None  # "callback": the caller asked for one, never transfer

    @classmethod
    def of(cls, directives: Directives) -> Outcome | None:
        """The end a message asks for (a handoff wins over a hangup), or None."""
        if directives.handoff is not None:
            h = directives.handoff
            return cls("handoff", h.department, h.reason, h.kind)
        if directives.hangup:
            return cls("bot_hangup")
        return None
