"""Stores a completed request in the gateway: POST /api/requests.

The appointment request, the Sperrmüll pre-check and the form delivery end here. The gateway
keeps the request for staff (GET /api/requests, the agent console) and sends its e-mail, if
any, through its outbox.

`voicebot stack` gives the action server the gateway's address and API token:
    VOICEBOT_GATEWAY_URL   e.g. http://127.0.0.1:8080
    VOICEBOT_API_TOKEN     the bearer token of the gateway's API

The request carries an `Idempotency-Key` derived from the call, the kind and the data. Rasa
may run an action twice (a retried webhook, a restarted action server); the gateway then
answers with the request it already stored instead of storing it again.

A failure raises `RequestNotSaved` with the reason for the log; the action then says
`utter_request_not_saved`, which hands the call over with the collected slots, so a caller's
answers are never lost.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
from dataclasses import dataclass
from typing import Any

import aiohttp
from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from .handoff import gateway_metadata

log = logging.getLogger(__name__)

GATEWAY_URL_ENV = "VOICEBOT_GATEWAY_URL"
TOKEN_ENV = "VOICEBOT_API_TOKEN"
TIMEOUT_S = 5.0
KINDS = ("appointment", "sperrmuell", "form_delivery")
REFERENCE_SLOT = "request_reference"


class RequestNotSaved(Exception):
    """The gateway is not configured, unreachable, or refused the request."""


@dataclass(frozen=True)
class SavedRequest:
    """What the gateway answered: the request id and how to say it on the phone."""

    id: str
    id_spoken: str
    email_state: str | None


@dataclass(frozen=True)
class EmailDraft:
    """An e-mail the gateway sends for the request (through SMTP, when one is configured)."""

    to: str
    subject: str
    body: str


def idempotency_key(call_id: str, kind: str, data: dict[str, Any]) -> str:
    """The same call, kind and data give the same key; anything else a different one."""
    canonical = json.dumps([call_id, kind, data], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()[:40]


def request_body(
    kind: str,
    tracker: Tracker,
    data: dict[str, Any],
    summary: str,
    email: EmailDraft | None = None,
) -> dict[str, Any]:
    """The JSON body of POST /api/requests for this call."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    body: dict[str, Any] = {
        "kind": kind,
        "call_id": tracker.sender_id,
        "data": data,
        "summary": summary,
    }
    caller = gateway_metadata(tracker).get("caller")
    if isinstance(caller, str) and caller.strip():
        body["caller"] = caller.strip()[:64]
    if email is not None:
        body["email"] = {"to": email.to, "subject": email.subject, "body": email.body}
    return body


async def submit_request(
    kind: str,
    tracker: Tracker,
    data: dict[str, Any],
    summary: str,
    email: EmailDraft | None = None,
    timeout_s: float = TIMEOUT_S,
) -> SavedRequest:
    """Stores the request in the gateway; raises RequestNotSaved when that fails."""
    base = os.environ.get(GATEWAY_URL_ENV, "").rstrip("/")
    if not base:
        raise RequestNotSaved(f"{GATEWAY_URL_ENV} is not set; the action server cannot store")
    body = request_body(kind, tracker, data, summary, email)
    headers = {"Idempotency-Key": idempotency_key(tracker.sender_id, kind, data)}
    token = os.environ.get(TOKEN_ENV, "")
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        limit = aiohttp.ClientTimeout(total=timeout_s)
        async with (
            aiohttp.ClientSession(timeout=limit) as http,
            http.post(f"{base}/api/requests", json=body, headers=headers) as resp,
        ):
            answer = await resp.json(content_type=None)
            if resp.status not in (200, 201):
                raise RequestNotSaved(f"gateway answered {resp.status}: {answer}")
    except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
        raise RequestNotSaved(f"gateway at {base} not reachable: {exc!r}") from exc
    try:
        outbox = answer.get("outbox") or []
        state = outbox[0].get("state") if outbox else None
        return SavedRequest(str(answer["id"]), str(answer["id_spoken"]), state)
    except (AttributeError, KeyError, IndexError, TypeError) as exc:
        raise RequestNotSaved(f"unexpected answer from the gateway: {answer!r}") from exc


async def store_and_confirm(
    dispatcher: CollectingDispatcher,
    kind: str,
    tracker: Tracker,
    data: dict[str, Any],
    summary: str,
    email: EmailDraft | None = None,
) -> tuple[SavedRequest | None, list[EventType]]:
    """Submits the request and tells the caller: the reference number, or (on failure) the
    apology with the handoff. Returns the saved request (None on failure) and slot events."""
    try:
        saved = await submit_request(kind, tracker, data, summary, email)
    except RequestNotSaved as exc:
        log.error("call %s: %s request not saved: %s", tracker.sender_id, kind, exc)
        dispatcher.utter_message(response="utter_request_not_saved")
        return None, []
    dispatcher.utter_message(response="utter_request_saved", reference=saved.id_spoken)
    return saved, [SlotSet(REFERENCE_SLOT, saved.id)]
