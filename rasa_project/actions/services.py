"""The service catalogue as the actions see it: loaded on first use and cached, never at
import; and the service or office the caller means (entity, words, or an earlier question).

A broken catalogue file raises CatalogueError (naming the file and the field) on the first
action that needs the catalogue; `python -m actions.check` loads it ahead of a start.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

from rasa_sdk import Tracker

from .catalogue import Catalogue, Office, Service, default_directory, load_catalogue
from .catalogue.match import words
from .catalogue.phonetic import any_sounds_alike
from .settings import settings

SERVICE_SLOT = "service"  # the service of the caller's latest question
# Other words callers use for an office (folded spelling, see catalogue/match.py).
OFFICE_ALIASES: dict[str, str] = {
    "burgeramt": "buergerbuero",
    "einwohnermeldeamt": "buergerbuero",
    "meldeamt": "buergerbuero",
    "zulassungsstelle": "kfz",
    "strassenverkehrsamt": "kfz",
    "abfallwirtschaft": "abfall",
    "wohngeldamt": "soziales",
    "steueramt": "steuern",
}


@lru_cache(maxsize=4)
def _load(directory: Path) -> Catalogue:
    """One load per folder (file I/O once per process)."""
    return load_catalogue(directory)


def catalogue() -> Catalogue:
    """The catalogue of settings().catalogue_dir (default folder without it), loaded once."""
    return _load(settings().catalogue_dir or default_directory())


def _office_keys(office: Office) -> set[str]:
    """Folded spellings that name the office: its name written as one word, the last part
    of a compound name ("Kfz-Zulassungsstelle" -> "zulassungsstelle"), the English name."""
    parts = words(office.name.de)
    keys = {"".join(parts)}
    if len(parts) > 1 and len(parts[-1]) >= 8:
        keys.add(parts[-1])
    if office.name.en:  # "citizens office", "registry office"
        keys.add("".join(words(office.name.en)))
    return keys


def named_office(text: str, where: Catalogue | None = None) -> Office | None:
    """The office the caller names ("bürger büro", "Standesamt"), or None."""
    where = where or catalogue()
    said = words(text)
    joined = {"".join(said[i : i + n]) for n in (1, 2, 3) for i in range(len(said) - n + 1)}
    for office in where.offices.values():
        if _office_keys(office) & joined:
            return office
    for alias, office_id in OFFICE_ALIASES.items():
        if alias in joined and office_id in where.offices:
            return where.offices[office_id]
    # as Whisper may write it: "Bürger Bühro", "Standes Amt" sound like the office's name
    alike = [o for o in where.offices.values() if any_sounds_alike(_office_keys(o), joined)]
    return alike[0] if len(alike) == 1 else None


def service_from_entities(values: Iterable[Any], where: Catalogue | None = None) -> Service | None:
    """The first entity value that is a service id, or whose words name a service."""
    where = where or catalogue()
    for value in values:
        if not isinstance(value, str) or not value.strip():
            continue
        if value in where.services:
            return where.services[value]
        found = where.find(value)
        if found is not None:
            return found
    return None


def service_by_id(value: Any) -> Service | None:
    """The service whose id a slot holds, or None."""
    return catalogue().services.get(value) if isinstance(value, str) else None


def service_said(tracker: Tracker, text: str) -> Service | None:
    """The service in the latest message: entity `service`, else the catalogue's synonyms."""
    found = service_from_entities(tracker.get_latest_entity_values("service"))
    return found if found is not None else catalogue().find(text)


def resolve_service(tracker: Tracker, use_context: bool = True) -> Service | None:
    """Entity, else the caller's words, else (with use_context) the service asked about before."""
    found = service_said(tracker, str(tracker.latest_message.get("text") or ""))
    if found is None and use_context:
        found = service_by_id(tracker.get_slot(SERVICE_SLOT))
    return found
