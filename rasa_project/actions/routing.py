"""Which office a handoff goes to: the one that owns the caller's topic, from the catalogue.

The office is, in this order: the one the caller names in the message that asks for a person
("Verbinden Sie mich mit dem Standesamt"), the office of a service named in it, the office of
the latest question the bot answered (slot `office`, set by action_answer_service), the office
of the service asked about before (slot `service`). Its id is the handoff's department and its
`transfer` entry the target the gateway transfers to (before the gateway's own `[handoff]
targets`). No office known: the domain's handoff response with its default department.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker

from .catalogue import CatalogueError, Office
from .services import SERVICE_SLOT, catalogue, named_office, service_by_id, service_said

OFFICE_SLOT = "office"  # the office of the latest question answered (its id)
LANGUAGE_SLOT = "language"  # actions/language.py (which imports handoff.py: not imported here)
# "Ich verbinde Sie mit dem Standesamt": the article after "mit" (dative)
_DATIVE = {"der": "dem", "die": "der", "das": "dem"}


def office_by_id(value: Any) -> Office | None:
    """The office whose id a slot holds, or None."""
    return catalogue().offices.get(value) if isinstance(value, str) else None


def handoff_office(tracker: Tracker) -> Office | None:
    """The office that owns the caller's topic (see the module docstring), or None."""
    text = str(tracker.latest_message.get("text") or "")
    try:
        named = named_office(text)
        if named is not None:
            return named
        service = service_said(tracker, text)
        if service is not None:
            return catalogue().office_of(service)
        office = office_by_id(tracker.get_slot(OFFICE_SLOT))
        if office is not None:
            return office
        earlier = service_by_id(tracker.get_slot(SERVICE_SLOT))
        return catalogue().office_of(earlier) if earlier is not None else None
    except CatalogueError:
        return None  # a broken catalogue must not stop the handoff: the default department


def office_with_article(office: Office, language: str) -> str:
    """The office as the object of "mit" / "to": "dem Standesamt", "the registry office"."""
    if language == "en" and office.name.en:
        return f"the {office.name.en}"
    return f"{_DATIVE[office.article]} {office.name.de}"


def response_language(tracker: Tracker) -> str:
    """The language of the response variant Rasa picks (by the slot `language`)."""
    return "en" if tracker.get_slot(LANGUAGE_SLOT) == "en" else "de"


def handoff_payload(office: Office, reason: str) -> dict[str, Any]:
    """The custom payload that hands the call to the office: department and transfer target."""
    return {"handoff": {"department": office.id, "reason": reason, "target": office.transfer}}
