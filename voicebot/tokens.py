"""The API and media tokens: configured, or generated once into <data_dir>/api-token, media-token.

A generated token lets `make run` followed by `voicebot call` read call records on a fresh
machine without a manual step, while the API still refuses every request without the token.
"""

from __future__ import annotations

import dataclasses
import hmac
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


# ---- the media WebSocket token (issue 12, finding 2) --------------------------------------
MEDIA_TOKEN_FILE = "media-token"


def same_secret(given: str | bytes | None, expected: str | bytes | None) -> bool:
    """Constant-time comparison of two secrets as bytes: never raises, whatever `given` holds
    (non-ASCII, a lone surrogate); False when either is missing or empty."""
    if not given or not expected:
        return False
    if isinstance(given, str):
        given = given.encode("utf-8", "surrogatepass")
    if isinstance(expected, str):
        expected = expected.encode("utf-8", "surrogatepass")
    return hmac.compare_digest(given, expected)


def media_token_file(settings: Settings) -> Path:
    """Where a generated media token is kept (readable by its owner only)."""
    return settings.data_dir / MEDIA_TOKEN_FILE


def read_media_token(settings: Settings) -> str | None:
    """VOICEBOT_MEDIA_TOKEN, else the generated one if it exists."""
    if settings.media.token:
        return settings.media.token
    path = media_token_file(settings)
    return path.read_text().strip() or None if path.is_file() else None


def with_media_token(settings: Settings) -> Settings:
    """Settings whose media token is set, generating and storing one (mode 0600) if needed."""
    token = settings.media.token or stored_secret(settings.data_dir, MEDIA_TOKEN_FILE)
    return dataclasses.replace(settings, media=dataclasses.replace(settings.media, token=token))
