"""Fixed prompts the gateway speaks on its own, pre-synthesised at start-up.

They are used when Rasa or a model fails, so they must not depend on either at call time.
The AI disclosure is part of the fault prompt at call start (EU AI Act Art. 50).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from voicebot.audio.resample import Pcm16, resample

PROMPT_TEXTS: dict[str, dict[str, str]] = {
    "de": {
        "fault_at_start": (
            "Guten Tag. Sie sprechen mit dem digitalen Assistenten der Stadt Leverkusen, "
            "einer künstlichen Intelligenz. Leider gibt es gerade ein technisches Problem. "
            "Ich verbinde Sie mit einer Mitarbeiterin oder einem Mitarbeiter."
        ),
        "fault": (
            "Entschuldigung, es gibt gerade ein technisches Problem. "
            "Ich verbinde Sie mit einer Mitarbeiterin oder einem Mitarbeiter."
        ),
        "filler": "Einen Moment bitte.",
    },
    "en": {
        "fault_at_start": (
            "Hello. You are talking to the digital assistant of the city of Leverkusen, "
            "an artificial intelligence. Unfortunately there is a technical problem. "
            "I will connect you to a member of staff."
        ),
        "fault": ("Sorry, there is a technical problem. I will connect you to a member of staff."),
        "filler": "One moment, please.",
    },
}


@dataclass
class Prompts:
    """Pre-synthesised prompt audio, resampled once per transport rate."""

    source_rate: int
    audio: dict[tuple[str, str], Pcm16]
    _by_rate: dict[tuple[str, str, int], Pcm16] = field(default_factory=dict)

    def text(self, name: str, language: str) -> str:
        """The prompt's text in the language (German when the language has none)."""
        return PROMPT_TEXTS.get(language, PROMPT_TEXTS["de"])[name]

    def get(self, name: str, language: str, rate: int) -> Pcm16:
        """The prompt's audio at `rate`."""
        lang = language if (name, language) in self.audio else "de"
        key = (name, lang, rate)
        if key not in self._by_rate:
            self._by_rate[key] = resample(self.audio[(name, lang)], self.source_rate, rate)
        return self._by_rate[key]
