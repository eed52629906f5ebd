"""Stores a completed request in the gateway: POST /api/requests.

The appointment request, the Sperrmüll pre-check and the form delivery end here. The gateway
keeps the request for staff (GET /api/requests, the agent console) and sends its e-mail, if
any, through its outbox.

`voicebot stack` gives the action server the gateway's address and the action server's own
token (VOICEBOT_GATEWAY_URL, VOICEBOT_API_TOKEN; see settings.py), which the gateway accepts
for storing requests and for nothing else. The kinds are in kinds.py.

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
from dataclasses import dataclass
from typing import Any

import aiohttp
from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from .handoff import gateway_metadata
from .kinds import RequestKind, request_kind
from .settings import GATEWAY_URL_ENV, Settings, settings

log = logging.getLogger(__name__)

REFERENCE_SLOT = "request_reference"
CASE_REFERENCE_SLOT = "case_reference_noted"  # a confirmed Aktenzeichen/Kassenzeichen


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


def _kind(kind: RequestKind | str) -> RequestKind:
    """A registered kind (a name is looked up; ValueError for an unknown one)."""
    return kind if isinstance(kind, RequestKind) else request_kind(kind)


def idempotency_key(call_id: str, kind: RequestKind | str, data: dict[str, Any]) -> str:
    """The same call, kind and data give the same key; anything else a different one."""
    name = kind.name if isinstance(kind, RequestKind) else kind
    canonical = json.dumps([call_id, name, data], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()[:40]


def request_body(
    kind: RequestKind | str,
    tracker: Tracker,
    data: dict[str, Any],
    summary: str,
    email: EmailDraft | None = None,
) -> dict[str, Any]:
    """The JSON body of POST /api/requests for this call."""
    body: dict[str, Any] = {
        "kind": _kind(kind).name,
        "call_id": tracker.sender_id,
        "data": data,
        "summary": summary,
    }
    caller = gateway_metadata(tracker).get("caller")
    if isinstance(caller, str) and caller.strip():
        body["caller"] = caller.strip()[:64]
    reference = tracker.get_slot(CASE_REFERENCE_SLOT)  # confirmed (actions/case_reference.py)
    if isinstance(reference, str) and reference not in ("", "-"):
        body["data"] = {**data, "case_reference": reference}
    if email is not None:
        body["email"] = {"to": email.to, "subject": email.subject, "body": email.body}
    return body


async def submit_request(
    kind: RequestKind | str,
    tracker: Tracker,
    data: dict[str, Any],
    summary: str,
    email: EmailDraft | None = None,
    config: Settings | None = None,
) -> SavedRequest:
    """Stores the request in the gateway; raises RequestNotSaved when that fails."""
    config = config or settings()
    base = config.gateway_url.rstrip("/")
    if not base:
        raise RequestNotSaved(f"{GATEWAY_URL_ENV} is not set; the action server cannot store")
    body = request_body(kind, tracker, data, summary, email)
    headers = {"Idempotency-Key": idempotency_key(tracker.sender_id, kind, data)}
    if config.api_token:
        headers["Authorization"] = f"Bearer {config.api_token}"
    try:
        limit = aiohttp.ClientTimeout(total=config.request_timeout_s)
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
    kind: RequestKind,
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
        log.error("call %s: %s request not saved: %s", tracker.sender_id, kind.name, exc)
        dispatcher.utter_message(response="utter_request_not_saved")
        return None, []
    dispatcher.utter_message(response="utter_request_saved", reference=saved.id_spoken)
    return saved, [SlotSet(REFERENCE_SLOT, saved.id)]
