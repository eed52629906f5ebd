"""One error hierarchy for the gateway; protocol errors carry the status to answer with."""

from __future__ import annotations


class VoicebotError(Exception):
    """Base of every error the gateway raises on purpose."""


class ProtocolError(VoicebotError):
    """A peer sent something malformed; `status` is the SIP status or WebSocket close code."""

    def __init__(self, reason: str, status: int = 400) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


class ConfigError(VoicebotError):
    """The configuration is invalid; the message says which setting and what to do."""


class ModelError(VoicebotError):
    """A model is missing or corrupt; the message says how to get a good one."""
