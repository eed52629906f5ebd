"""Rasa client: one REST-webhook call per caller turn, with a deadline, and tracker reads."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import aiohttp

from voicebot.config import RasaSettings
from voicebot.errors import VoicebotError


class DialogueError(VoicebotError):
    """Rasa is down, slow past the deadline, or answered garbage."""


@dataclass(frozen=True)
class BotMessage:
    """One bot message: text to speak and/or a custom payload for the gateway."""

    text: str | None = None
    custom: dict[str, Any] = field(default_factory=dict)


# Rasa's own bookkeeping, not something the caller said: not shown to agents.
RASA_INTERNAL_SLOTS = frozenset({"session_started_metadata", "requested_slot"})


@dataclass(frozen=True)
class TrackerSummary:
    """What the gateway records from Rasa's tracker after a turn."""

    intent: str | None
    intent_confidence: float | None
    slots: dict[str, Any]


def parse_webhook_reply(payload: Any) -> list[BotMessage]:
    """Turns the REST channel's JSON list into bot messages; raises DialogueError on junk."""
    if not isinstance(payload, list):
        raise DialogueError(f"Rasa answered {type(payload).__name__}, expected a list")
    messages: list[BotMessage] = []
    for item in payload:
        if not isinstance(item, dict):
            raise DialogueError("Rasa answered a list item that is not an object")
        text = item.get("text")
        custom = item.get("custom")
        if text is not None and not isinstance(text, str):
            raise DialogueError("Rasa answered a non-string text")
        messages.append(
            BotMessage(
                text=text.strip() if text else None,
                custom=custom if isinstance(custom, dict) else {},
            )
        )
    return messages


def summarise_tracker(data: dict[str, Any]) -> TrackerSummary:
    """The latest intent and the slots the caller filled, from Rasa's tracker JSON. Slots that
    are unset or false and Rasa's own bookkeeping are left out: agents see what was said."""
    latest = data.get("latest_message") or {}
    intent = latest.get("intent") or {}
    slots = {
        k: v
        for k, v in (data.get("slots") or {}).items()
        if v is not None and v is not False and k not in RASA_INTERNAL_SLOTS
    }
    return TrackerSummary(intent.get("name"), intent.get("confidence"), slots)


def tracker_path(sender: str) -> str:
    """The tracker's path for a sender id, quoted: a `/`, `?` or `#` (legal in a SIP Call-ID)
    stays part of the id instead of changing the URL."""
    return f"/conversations/{quote(sender, safe='')}/tracker"


class RasaClient:
    """Talks to the Rasa server over HTTP; one instance per gateway."""

    def __init__(self, session: aiohttp.ClientSession, settings: RasaSettings) -> None:
        self._session = session
        self._settings = settings
        self._base = settings.url.rstrip("/")

    async def send(self, sender: str, text: str, metadata: dict[str, Any]) -> list[BotMessage]:
        """Sends one caller turn; raises DialogueError if Rasa fails or misses the deadline."""
        body = {"sender": sender, "message": text, "metadata": metadata}
        try:
            payload = await asyncio.wait_for(
                self._get_json("POST", "/webhooks/rest/webhook", json=body),
                self._settings.timeout_s,
            )
        except asyncio.TimeoutError as exc:
            raise DialogueError(f"Rasa did not answer within {self._settings.timeout_s} s") from exc
        except (aiohttp.ClientError, json.JSONDecodeError) as exc:
            raise DialogueError(f"Rasa at {self._base} is unreachable: {exc}") from exc
        return parse_webhook_reply(payload)

    async def tracker(self, sender: str) -> TrackerSummary:
        """Reads the latest intent and the slots of a conversation."""
        params = {"include_events": "NONE", **self._token()}
        try:
            data = await asyncio.wait_for(
                self._get_json("GET", tracker_path(sender), params=params),
                self._settings.timeout_s,
            )
        except asyncio.TimeoutError as exc:
            raise DialogueError("Rasa tracker request timed out") from exc
        except (aiohttp.ClientError, json.JSONDecodeError) as exc:
            raise DialogueError(f"Rasa tracker unreachable: {exc}") from exc
        return summarise_tracker(data)

    async def ready(self) -> bool:
        """Whether the Rasa server is up with a model loaded."""
        params = self._token()
        try:
            data = await asyncio.wait_for(self._get_json("GET", "/status", params=params), 3)
        except (asyncio.TimeoutError, aiohttp.ClientError, json.JSONDecodeError, DialogueError):
            return False
        return isinstance(data, dict) and bool(data.get("model_file") or data.get("model_id"))

    async def actions_ready(self) -> bool:
        """Whether the action server answers its health check."""
        url = self._settings.actions_url.rstrip("/") + "/health"

        async def probe() -> bool:
            async with self._session.get(url) as resp:
                return resp.status == 200

        try:
            return await asyncio.wait_for(probe(), 3)
        except (asyncio.TimeoutError, aiohttp.ClientError):
            return False

    def _token(self) -> dict[str, str]:
        """Rasa's auth token as the query parameter its API reads (Rasa 3.6 accepts no header
        for it, only `?token=` or a JWT); it travels on loopback only."""
        return {"token": self._settings.token} if self._settings.token else {}

    async def _get_json(self, method: str, path: str, **kwargs: Any) -> Any:
        """One request to Rasa; non-200 answers become DialogueError."""
        async with self._session.request(method, f"{self._base}{path}", **kwargs) as resp:
            if resp.status != 200:
                detail = (await resp.text())[:200]
                raise DialogueError(f"Rasa answered HTTP {resp.status} to {path}: {detail}")
            return await resp.json(content_type=None)
