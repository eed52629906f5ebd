"""The API bearer token: VOICEBOT_API_TOKEN, or one generated once into <data_dir>/api-token.

A generated token lets `make run` followed by `voicebot call` read call records on a fresh
machine without a manual step, while the API still refuses every request without the token.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
from pathlib import Path

from voicebot.config import Settings

TOKEN_FILE = "api-token"


def token_file(settings: Settings) -> Path:
    """Where a generated token is kept (readable by its owner only)."""
    return settings.data_dir / TOKEN_FILE


def read_api_token(settings: Settings) -> str | None:
    """The configured token, else the generated one if it exists."""
    if settings.api_token:
        return settings.api_token
    path = token_file(settings)
    return path.read_text().strip() or None if path.is_file() else None


def with_api_token(settings: Settings) -> Settings:
    """Settings whose api_token is set, generating and storing one if needed."""
    token = read_api_token(settings)
    if token is None:
        path = token_file(settings)
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        token = secrets.token_urlsafe(24)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(token + "\n")
    return dataclasses.replace(settings, api_token=token)


RASA_TOKEN_FILE = "rasa-token"
ACTIONS_TOKEN_FILE = "actions-token"


def stored_secret(data_dir: Path, name: str) -> str:
    """The secret in <data_dir>/<name>, generated once (0600, in a 0700 folder) if absent."""
    path = data_dir / name
    if path.is_file():
        token = path.read_text().strip()
        if token:
            return token
        path.unlink()
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    token = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(token + "\n")
    return token


def with_internal_tokens(settings: Settings) -> Settings:
    """Settings whose Rasa token and action-server token are set (configured or generated)."""
    rasa = settings.rasa
    rasa = dataclasses.replace(
        rasa,
        token=rasa.token or stored_secret(settings.data_dir, RASA_TOKEN_FILE),
        actions_token=rasa.actions_token or stored_secret(settings.data_dir, ACTIONS_TOKEN_FILE),
    )
    return dataclasses.replace(settings, rasa=rasa)

