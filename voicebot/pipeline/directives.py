"""The bot's reply directives: a BotMessage's `custom` payload, parsed once into a typed value.

Rasa's responses carry instructions for the gateway beside the text: hand the call to a person
(a department, and the office's transfer target from the catalogue), hang up, the kind of answer
expected next (a long one: a longer end-of-turn silence; a yes or no: a shorter one), speak
slower or at the normal rate, switch the call's language, and how many leading sentences the
caller cannot interrupt (the AI disclosure of the greeting). The session acts on a `Directives`
object, never on the raw dict.

Rasa's REST channel sends a response's text and its custom payload as two messages, one after
the other; `paired` puts them back together, so that a payload acts on its own text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from voicebot.services.dialogue import BotMessage

SLOWER_STEP = 1.25  # {"speech": "slower"}: each request makes speech this much longer
MAX_LENGTH_SCALE = 1.6  # slower than this sounds broken

Speech = Literal["slower", "normal"]
Expect = Literal["long", "yes_no", "postcode", "phone", "house_number", "digits"]
# {"expect": …}: the caller's next answer: its end-of-turn silence, and for a closed answer (yes
# or no, digits) what it is recognised against (pipeline/listening.py, services/constrained.py)
EXPECTED: dict[str, Expect] = {
    "address": "long",
    "long": "long",
    "yes_no": "yes_no",
    "postcode": "postcode",
    "phone": "phone",
    "house_number": "house_number",
    "digits": "digits",
}
MAX_UNINTERRUPTIBLE = 5  # sentences; more would make the bot deaf to the caller for too long


@dataclass(frozen=True)
class HandoffDirective:
    """{"handoff": {"department": …, "reason": …, "kind": "callback", "target": …}}: pass the
    call on; `target` is the office's transfer target from the catalogue (a SIP URI or a queue
    name the gateway's `[handoff] targets` map), None: the department's configured target."""

    department: str = "default"
    reason: str = "unspecified"
    kind: Literal["callback"] | None = None  # "callback": the caller asked for one, no transfer
    target: str | None = None


@dataclass(frozen=True)
class Directives:
    """What one bot message asks the gateway to do besides speaking its text."""

    handoff: HandoffDirective | None = None
    hangup: bool = False
    expect: Expect | None = None  # {"expect": "address" | "long" | "yes_no" | "postcode" | …}
    speech: Speech | None = None
    language: str | None = None
    uninterruptible: int = 0  # {"uninterruptible": n}: the first n sentences play to the end


def _handoff(value: Any) -> HandoffDirective:
    """The handoff payload; a non-dict value still means "hand off", with the defaults."""
    data = value if isinstance(value, dict) else {}
    target = data.get("target")
    return HandoffDirective(
        department=str(data.get("department") or "default"),
        reason=str(data.get("reason") or "unspecified"),
        kind="callback" if data.get("kind") == "callback" else None,
        target=(target.strip() or None) if isinstance(target, str) else None,
    )


def _sentences(value: Any) -> int:
    """A small whole number of sentences (bool, negative, other types: 0)."""
    if isinstance(value, bool) or not isinstance(value, int):
        return 0
    return max(0, min(MAX_UNINTERRUPTIBLE, value))


def parse_directives(custom: dict[str, Any]) -> Directives:
    """Reads a message's custom payload; unknown keys and malformed values are ignored."""
    speech = custom.get("speech")
    language = custom.get("language")
    expect = custom.get("expect")
    return Directives(
        handoff=_handoff(custom["handoff"]) if "handoff" in custom else None,
        hangup=bool(custom.get("hangup")),
        expect=EXPECTED.get(expect) if isinstance(expect, str) else None,
        speech="slower" if speech == "slower" else "normal" if speech == "normal" else None,
        language=language if isinstance(language, str) else None,
        uninterruptible=_sentences(custom.get("uninterruptible")),
    )


def paired(replies: list[BotMessage]) -> list[tuple[BotMessage, Directives]]:
    """Each message with its directives; a payload-only message right after a text without
    one is that text's payload (the REST channel splits a response in two), so it is acted on
    with its text: before it is spoken (the uninterruptible sentences) and even if the caller
    interrupts it (a handoff announced is a handoff made)."""
    out: list[tuple[BotMessage, Directives]] = []
    for message in replies:
        previous = out[-1][0] if out else None
        if not message.text and previous is not None and previous.text and not previous.custom:
            merged = BotMessage(text=previous.text, custom=message.custom)
            out[-1] = (merged, parse_directives(message.custom))
        else:
            out.append((message, parse_directives(message.custom)))
    return out


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
    handoff_target: str | None = None  # the office's transfer target from the catalogue

    @classmethod
    def of(cls, directives: Directives) -> Outcome | None:
        """The end a message asks for (a handoff wins over a hangup), or None."""
        if directives.handoff is not None:
            h = directives.handoff
            return cls("handoff", h.department, h.reason, h.kind, h.target)
        if directives.hangup:
            return cls("bot_hangup")
        return None
