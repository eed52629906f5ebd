"""Number-based entry: the topic the dialled number starts with (voicebot/number_plan.py).

The gateway sends `topic` in the metadata of every message when the dialled number has one
in its number plan. `action_session_start` turns it into the slot `office` (an office id of
the catalogue) or `service` (a service id; its office too), so a handoff from a department's
number goes to that department, and a question without a service named is about its topic.
An id the catalogue does not know is ignored.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk.events import EventType, SlotSet

from .catalogue import CatalogueError
from .routing import OFFICE_SLOT
from .services import SERVICE_SLOT, catalogue

TOPIC_KEY = "topic"


def topic_events(metadata: Any) -> list[EventType]:
    """The slot events for the topic of the session's metadata ([] without a known one)."""
    topic = metadata.get(TOPIC_KEY) if isinstance(metadata, dict) else None
    if not isinstance(topic, str) or not topic:
        return []
    try:
        known = catalogue()
        if topic in known.offices:
            return [SlotSet(OFFICE_SLOT, topic)]
        service = known.services.get(topic)
        if service is None:
            return []
        office = known.office_of(service)
    except (CatalogueError, KeyError):
        return []
    return [SlotSet(SERVICE_SLOT, topic), SlotSet(OFFICE_SLOT, office.id)]
