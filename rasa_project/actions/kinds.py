"""The kinds of request the actions store in the gateway (POST /api/requests) and their labels.

One entry per kind: the gateway's kind name (its `requests.kind`; a new kind needs the gateway
to know it too, see voicebot/store), the intent that starts it, what staff read in the list
of requests, and how the bot names it when it asks which topic the caller means
(actions/clarify.py). German first, English second.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RequestKind:
    """One kind of stored request."""

    name: str  # the gateway's kind
    intent: str  # the intent that starts its form
    label: tuple[str, str]  # staff's name for it: German, English
    topic: tuple[str, str]  # the bot's words in "Meinen Sie ... oder ...?": German, English

    def label_in(self, language: str) -> str:
        """The label in "de" or "en" (German for anything else)."""
        return self.label[1] if language == "en" else self.label[0]


APPOINTMENT = RequestKind(
    name="appointment",
    intent="request_appointment",
    label=("Terminanfrage", "appointment request"),
    topic=("eine Terminanfrage", "an appointment"),
)
SPERRMUELL = RequestKind(
    name="sperrmuell",
    intent="request_sperrmuell",
    label=("Sperrmüll-Anmeldung", "bulky waste pick-up"),
    topic=("die Anmeldung von Sperrmüll", "a bulky waste pick-up"),
)
FORM_DELIVERY = RequestKind(
    name="form_delivery",
    intent="request_form",
    label=("Formularversand", "form delivery"),
    topic=("die Zusendung eines Formulars", "having a form sent to you"),
)

KINDS: dict[str, RequestKind] = {k.name: k for k in (APPOINTMENT, SPERRMUELL, FORM_DELIVERY)}


def request_kind(name: str) -> RequestKind:
    """The registered kind of this name; ValueError names the known ones."""
    try:
        return KINDS[name]
    except KeyError:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {name!r}") from None
