"""Refuses placeholder and short secrets at start, before anything listens.

A token copied from the README (`change-me`) or a short guessable one would protect nothing,
so `voicebot serve` and `voicebot stack` stop with a message naming the setting instead.
"""

from __future__ import annotations

from voicebot.config import Settings
from voicebot.errors import ConfigError

MIN_TOKEN_CHARS = 24  # bearer tokens: the API, the media streams, Rasa, the action server
MIN_HMAC_SECRET_CHARS = 16  # HMAC keys shared with the CRM and the telephony platform
# (Twilio's auth token, which keys X-Twilio-Signature, is one too: 32 characters from Twilio)
PLACEHOLDERS = frozenset(
    {"change-me", "changeme", "secret", "password", "token", "voicebot-local-rasa-token"}
)


def _problem(value: str, minimum: int) -> str | None:
    """Why a secret is unusable, or None."""
    lowered = value.strip().lower()
    if lowered in PLACEHOLDERS or "change-me" in lowered or "changeme" in lowered:
        return "is a placeholder"
    if len(value) < minimum:
        return f"is shorter than {minimum} characters"
    return None


def secret_problems(settings: Settings) -> list[str]:
    """One line per unusable secret, naming its environment variable."""
    handoff = settings.handoff
    checks = [
        ("VOICEBOT_API_TOKEN", settings.api_token, MIN_TOKEN_CHARS),
        ("VOICEBOT_MEDIA_TOKEN", settings.media.token, MIN_TOKEN_CHARS),
        (
            "VOICEBOT_MEDIA_TWILIO_AUTH_TOKEN",
            settings.media.twilio_auth_token,
            MIN_HMAC_SECRET_CHARS,
        ),
        ("VOICEBOT_RASA_TOKEN", settings.rasa.token, MIN_TOKEN_CHARS),
        ("VOICEBOT_RASA_ACTIONS_TOKEN", settings.rasa.actions_token, MIN_TOKEN_CHARS),
        ("VOICEBOT_HANDOFF_WEBHOOK_SECRET", handoff.webhook_secret, MIN_HMAC_SECRET_CHARS),
        (
            "VOICEBOT_HANDOFF_TRANSFER_HOOK_SECRET",
            handoff.transfer_hook_secret,
            MIN_HMAC_SECRET_CHARS,
        ),
    ]
    problems = []
    for name, value, minimum in checks:
        why = _problem(value, minimum) if value else None
        if why:
            problems.append(f"{name} {why}")
    if handoff.transfer_hook_url and not handoff.transfer_hook_secret:
        problems.append(
            "VOICEBOT_HANDOFF_TRANSFER_HOOK_SECRET is not set but the transfer hook is "
            "(the CRM's webhook secret is no longer reused for it)"
        )
    return problems


def check_secrets(settings: Settings) -> None:
    """Raises ConfigError listing every placeholder, short or missing secret."""
    problems = secret_problems(settings)
    if problems:
        raise ConfigError(
            "refusing to start: "
            + "; ".join(problems)
            + ". Use a random value, e.g. `python -c 'import secrets; "
            "print(secrets.token_urlsafe(32))'`, or unset a token to have one generated."
        )
