"""How well the hotline understands callers: the held-out evaluation set through the gateway.

Each evaluation clip (audio_fixtures/manifest.yml, `evaluation_clips:`; made by
voicebot.tools.eval_fixtures, never tuned on) is one call: wait for the greeting, say the
question, listen to the answer, read the call record. Scored per clip:

- **WER** of the gateway's transcript (the caller turns of the record) against the text said;
- **intent**: Rasa's intent of the caller turn is the expected one;
- **topic**: the bot's answer is about the right thing: one of the clip's `answer_words` (the
  service or office name, "verbinde", "Computer", ...) is in the bot's reply.

Conditions change the caller's audio before it is sent: `clean`, `noise` (pink phone-band noise
at 20 dB SNR on top) and `loss` (3 % of the 20 ms packets lost, seeded, heard as silence as
without packet-loss concealment). `voicebot bench --accuracy` runs them over the media
WebSocket and SIP; tests/integration/test_voice_accuracy.py runs the clean set.
"""

from __future__ import annotations

import asyncio
import re
import zlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from voicebot.audio.resample import Pcm16
from voicebot.caller import FRAME, load_caller_audio
from voicebot.tools import normalise
from voicebot.tools.eval_fixtures import add_noise
from voicebot.tools.wer import edit_distance, words

CONDITIONS = ("clean", "noise", "loss")
NOISE_SNR_DB = 20.0
LOSS_RATE = 0.03


@dataclass(frozen=True)
class EvalClip:
    """One held-out question: its audio file and what a right answer is."""

    file: Path
    text: str
    language: str
    intent: str
    topic: str
    answer_words: tuple[str, ...]

    @property
    def name(self) -> str:
        return self.file.stem


def load_eval_set(fixtures: Path = Path("audio_fixtures")) -> list[EvalClip]:
    """The evaluation clips of the manifest (ValueError when the section is missing)."""
    data = yaml.safe_load((fixtures / "manifest.yml").read_text(encoding="utf-8"))
    entries = data.get("evaluation_clips") if isinstance(data, dict) else None
    if not entries:
        raise ValueError(f"{fixtures}/manifest.yml has no evaluation_clips section")
    return [
        EvalClip(
            file=fixtures / e["file"],
            text=e["text"],
            language=e["language"],
            intent=e["expected_intent"],
            topic=e["expected_topic"],
            answer_words=tuple(e["answer_words"]),
        )
        for e in entries
    ]


def _seed(name: str) -> int:
    return zlib.crc32(name.encode())


def degrade(pcm: Pcm16, condition: str, seed: int) -> Pcm16:
    """The caller's audio under a condition (clean, noise, loss); deterministic per seed."""
    if condition == "clean":
        return pcm
    if condition == "noise":
        noisy: Pcm16 = add_noise(pcm, NOISE_SNR_DB, seed)
        return noisy
    if condition == "loss":
        out: Pcm16 = pcm.copy()
        for n in lost_frames(pcm, seed):
            out[n * FRAME : (n + 1) * FRAME] = 0
        return out
    raise ValueError(f"unknown condition {condition!r}: use one of {', '.join(CONDITIONS)}")


def lost_frames(pcm: Pcm16, seed: int) -> list[int]:
    """The 20 ms frames the loss condition drops (for transports that drop packets instead)."""
    frames = len(pcm) // FRAME
    return [int(n) for n in np.flatnonzero(np.random.default_rng(seed).random(frames) < LOSS_RATE)]


@dataclass
class Outcome:
    """What the hotline made of one clip."""

    clip: EvalClip
    transcript: str
    intent: str | None
    answer: str
    errors: int  # word edits against the text
    ref_words: int
    intent_ok: bool
    topic_ok: bool
    failure: str = ""  # the call did not complete (no record, exception)

    def miss_line(self) -> str:
        """One line for a miss report."""
        return (
            f"{self.clip.name}: said {self.clip.text!r}; heard {self.transcript!r}; intent "
            f"{self.intent} (want {self.clip.intent}); answer {self.answer[:120]!r}"
            + (f"; FAILED {self.failure}" if self.failure else "")
        )


def on_topic(clip: EvalClip, answer: str) -> bool:
    """Whether one of the clip's answer words is in the bot's answer (normalised). Sentences
    with examples ("Zum Beispiel Personalausweis, Anmeldung oder Sperrmüll.", the question for
    a service the bot did not catch) name services without answering about them: not counted."""
    sentences = re.split(r"(?<=[.!?])\s+", answer)
    kept = " ".join(s for s in sentences if "zum beispiel" not in s.lower())
    said = f" {normalise(kept)} "
    return any(normalise(w) in said for w in clip.answer_words)


def score(clip: EvalClip, record: dict[str, Any] | None, failure: str = "") -> Outcome:
    """Scores one call record: the caller's turns after the greeting and the bot's reply."""
    turns = (record or {}).get("turns", [])
    first_caller = next((i for i, t in enumerate(turns) if t["speaker"] == "caller"), len(turns))
    callers = [t for t in turns[first_caller:] if t["speaker"] == "caller"]
    transcript = " ".join(str(t.get("text") or "") for t in callers).strip()
    intents = [t.get("intent") for t in callers if t.get("intent")]
    intent = clip.intent if clip.intent in intents else (intents[0] if intents else None)
    answer = " ".join(
        str(t.get("text") or "") for t in turns[first_caller:] if t["speaker"] == "bot"
    )
    ref = words(clip.text, clip.language)
    return Outcome(
        clip=clip,
        transcript=transcript,
        intent=intent,
        answer=answer,
        errors=edit_distance(ref, words(transcript, clip.language)),
        ref_words=len(ref),
        intent_ok=intent == clip.intent,
        topic_ok=bool(answer) and on_topic(clip, answer),
        failure=failure or ("" if record else "no call record"),
    )


def summary(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    """WER (corpus: all edits over all reference words), intent and topic accuracy."""
    n = len(outcomes)
    ref = sum(o.ref_words for o in outcomes)
    return {
        "clips": n,
        "wer": round(sum(o.errors for o in outcomes) / ref, 3) if ref else float("nan"),
        "intent_accuracy": round(sum(o.intent_ok for o in outcomes) / n, 3) if n else 0.0,
        "topic_accuracy": round(sum(o.topic_ok for o in outcomes) / n, 3) if n else 0.0,
        "failed_calls": sum(bool(o.failure) for o in outcomes),
    }


def misses(outcomes: Sequence[Outcome]) -> list[str]:
    """Lines for every clip answered off topic."""
    return [o.miss_line() for o in outcomes if not o.topic_ok]


# One call of a clip under a condition: returns the call record (or None).
CallFn = Callable[[EvalClip, Pcm16, int], Awaitable[dict[str, Any] | None]]


async def run_set(
    clips: Sequence[EvalClip],
    call: CallFn,
    condition: str = "clean",
    concurrency: int = 4,
    progress: Callable[[Outcome], None] | None = None,
) -> list[Outcome]:
    """Plays every clip as its own call, `concurrency` at a time; scores them in order."""
    gate = asyncio.Semaphore(concurrency)

    async def one(clip: EvalClip) -> Outcome:
        seed = _seed(clip.name)
        pcm = degrade(load_caller_audio(clip.file), condition, seed)
        async with gate:
            try:
                record = await call(clip, pcm, seed)
            except (OSError, asyncio.TimeoutError, RuntimeError, ValueError) as exc:
                outcome = score(clip, None, f"{type(exc).__name__}: {exc}")
            else:
                outcome = score(clip, record)
        if progress is not None:
            progress(outcome)
        return outcome

    return list(await asyncio.gather(*(one(c) for c in clips)))


def websocket_caller(url: str, token: str) -> CallFn:
    """A CallFn over the media WebSocket (the caller's language as the clip's own)."""
    from voicebot.caller import place_call

    async def call(clip: EvalClip, pcm: Pcm16, _seed: int) -> dict[str, Any] | None:
        result = await place_call(url, [pcm], api_token=token, quiet_after_answer=1.0)
        return result.record

    return call
