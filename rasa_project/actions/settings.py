"""The action server's settings: read once from the environment, on first use, never at import.

    VOICEBOT_GATEWAY_URL           the gateway that stores requests (POST /api/requests)
    VOICEBOT_API_TOKEN             the action server's own bearer token: the gateway accepts it
                                   on POST /api/requests only (never the gateway's API token)
    VOICEBOT_SPERRMUELL_LEAD_DAYS  working days before the earliest Sperrmüll pick-up (1-60, 5)
    VOICEBOT_TODAY                 YYYY-MM-DD: the forms act as if today were that day (tests)
    VOICEBOT_CATALOGUE_DIR         the service catalogue's folder (default rasa_project/catalogue)

`voicebot stack` sets the first two. Actions call `settings()`; tests call `use_settings()`
with a `Settings` of their own (or `load_settings` with a dict of variables).
"""

from __future__ import annotations

import datetime
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

GATEWAY_URL_ENV = "VOICEBOT_GATEWAY_URL"
TOKEN_ENV = "VOICEBOT_API_TOKEN"
LEAD_DAYS_ENV = "VOICEBOT_SPERRMUELL_LEAD_DAYS"
TODAY_ENV = "VOICEBOT_TODAY"
CATALOGUE_DIR_ENV = "VOICEBOT_CATALOGUE_DIR"
DEFAULT_LEAD_DAYS = 5
MAX_LEAD_DAYS = 60


class SettingsError(ValueError):
    """An environment variable holds a value the action server cannot use; says which."""


@dataclass(frozen=True)
class Settings:
    """Everything the actions take from the environment."""

    gateway_url: str = ""  # without a trailing slash; "" = requests cannot be stored
    api_token: str = ""
    sperrmuell_lead_days: int = DEFAULT_LEAD_DAYS
    fixed_today: datetime.date | None = None  # VOICEBOT_TODAY; None = the real date
    catalogue_dir: Path | None = None  # None = the catalogue package's default folder
    request_timeout_s: float = 5.0


def _lead_days(raw: str) -> int:
    """A whole number from 1 to 60; unset -> 5; anything else is logged and 5 is used."""
    raw = raw.strip()
    if not raw:
        return DEFAULT_LEAD_DAYS
    if raw.isdigit() and 1 <= int(raw) <= MAX_LEAD_DAYS:
        return int(raw)
    log.error(
        "%s=%r is not a whole number from 1 to %d; using %d",
        LEAD_DAYS_ENV,
        raw,
        MAX_LEAD_DAYS,
        DEFAULT_LEAD_DAYS,
    )
    return DEFAULT_LEAD_DAYS


def _fixed_today(raw: str) -> datetime.date | None:
    """VOICEBOT_TODAY as a date; an unreadable value is an error, not the real date."""
    if not raw.strip():
        return None
    try:
        fixed = datetime.date.fromisoformat(raw.strip())
    except ValueError as exc:
        raise SettingsError(f"{TODAY_ENV}={raw!r} is not a date like 2026-03-12: {exc}") from exc
    log.warning("%s is set: the forms act as if today were %s", TODAY_ENV, fixed)
    return fixed


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Settings from `environ` (default: the process environment); raises SettingsError."""
    env = os.environ if environ is None else environ
    catalogue_dir = env.get(CATALOGUE_DIR_ENV, "").strip()
    return Settings(
        gateway_url=env.get(GATEWAY_URL_ENV, "").strip().rstrip("/"),
        api_token=env.get(TOKEN_ENV, ""),
        sperrmuell_lead_days=_lead_days(env.get(LEAD_DAYS_ENV, "")),
        fixed_today=_fixed_today(env.get(TODAY_ENV, "")),
        catalogue_dir=Path(catalogue_dir) if catalogue_dir else None,
    )


_current: Settings | None = None


def settings() -> Settings:
    """The action server's settings, read from the environment on the first call."""
    global _current
    if _current is None:
        _current = load_settings()
    return _current


def use_settings(new: Settings | None) -> None:
    """Replaces the settings (tests); None reads the environment again on the next call."""
    global _current
    _current = new
