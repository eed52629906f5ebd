"""Where Rasa keeps its conversations and locks, from the gateway's configuration.

The embedded default (`rasa_project/endpoints.yml`): trackers in SQLite under the data
directory, locks in memory (right for one Rasa server). For several Rasa servers behind the
gateways (README "Operations"), `[rasa] tracker_store_url` puts the trackers in PostgreSQL
(Rasa's SQL tracker store) and `[rasa] lock_store_url` the conversation locks in Redis, so
turn 2 of a call may be served by another Rasa server than turn 1.

`voicebot stack` then writes an endpoints file of its own into the (private) data directory:
the project's, with `tracker_store` / `lock_store` replaced. Passwords never go into that file:
it names `${VOICEBOT_RASA_TRACKER_PASSWORD}` / `${VOICEBOT_RASA_LOCK_PASSWORD}`, which Rasa
substitutes from the environment the stack gives it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import yaml

from voicebot.config import RasaSettings
from voicebot.errors import ConfigError

ENDPOINTS_FILE = "rasa-endpoints.yml"
TRACKER_PASSWORD = "VOICEBOT_RASA_TRACKER_PASSWORD"
LOCK_PASSWORD = "VOICEBOT_RASA_LOCK_PASSWORD"


def tracker_store(url: str) -> tuple[dict[str, Any], str | None]:
    """Rasa's `tracker_store` for `postgresql://user:pw@host:port/db?host=/socket/dir`, and
    the password (or None)."""
    parts = urlsplit(url)
    if parts.scheme not in ("postgresql", "postgres"):
        raise ConfigError(
            f"[rasa] tracker_store_url must be postgresql://user@host:port/db, not {parts.scheme!r}"
            " (VOICEBOT_RASA_TRACKER_STORE_URL)"
        )
    db = unquote(parts.path.lstrip("/"))
    if not db:
        raise ConfigError("[rasa] tracker_store_url names no database (postgresql://.../db)")
    store: dict[str, Any] = {"type": "SQL", "dialect": "postgresql", "db": db}
    if parts.hostname:
        store["url"] = parts.hostname
    if parts.port:
        store["port"] = parts.port
    if parts.username:
        store["username"] = unquote(parts.username)
    query = dict(parse_qsl(parts.query))
    if query:
        store["query"] = query  # e.g. host=/run/postgresql (a unix socket)
    password = unquote(parts.password) if parts.password else None
    if password:
        store["password"] = "${" + TRACKER_PASSWORD + "}"
    return store, password


def lock_store(url: str) -> tuple[dict[str, Any], str | None]:
    """Rasa's `lock_store` for `redis://:pw@host:port/db`, and the password (or None)."""
    parts = urlsplit(url)
    if parts.scheme != "redis" or not parts.hostname:
        raise ConfigError(
            "[rasa] lock_store_url must be redis://host:port/db (Rasa connects by host and port; "
            "VOICEBOT_RASA_LOCK_STORE_URL)"
        )
    path = parts.path.strip("/") or "0"
    if not path.isdigit():
        raise ConfigError(f"[rasa] lock_store_url: the Redis database must be a number: {path!r}")
    store: dict[str, Any] = {
        "type": "redis",
        "url": parts.hostname,
        "port": parts.port or 6379,
        "db": int(path),
        "key_prefix": "voicebot",
    }
    password = unquote(parts.password) if parts.password else None
    if password:
        store["password"] = "${" + LOCK_PASSWORD + "}"
    return store, password


def endpoints(project_endpoints: str, rasa: RasaSettings) -> tuple[str, dict[str, str]]:
    """The endpoints file for the configured stores (the project's, stores replaced) and the
    environment variables Rasa then needs (passwords)."""
    config = yaml.safe_load(project_endpoints) or {}
    env: dict[str, str] = {}
    if rasa.tracker_store_url:
        config["tracker_store"], password = tracker_store(rasa.tracker_store_url)
        if password:
            env[TRACKER_PASSWORD] = password
    if rasa.lock_store_url:
        config["lock_store"], password = lock_store(rasa.lock_store_url)
        if password:
            env[LOCK_PASSWORD] = password
    header = "# written by `voicebot stack` from [rasa] tracker_store_url / lock_store_url\n"
    return header + yaml.safe_dump(config, sort_keys=False, allow_unicode=True), env


def write_endpoints(rasa: RasaSettings, data_dir: Path) -> tuple[str, dict[str, str]]:
    """The `--endpoints` argument for Rasa and the extra environment: the project's file when
    no store is configured, else one written into the data directory (owner only)."""
    if not (rasa.tracker_store_url or rasa.lock_store_url):
        return "endpoints.yml", {}
    text, env = endpoints((rasa.project_dir / "endpoints.yml").read_text(), rasa)
    path = data_dir / ENDPOINTS_FILE
    path.write_text(text)
    path.chmod(0o600)
    return str(path.resolve()), env
