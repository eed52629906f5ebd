"""The requests API under /api/requests and /api/outbox (bearer token, like /api/calls).

The action server submits completed requests (appointment, Sperrmüll pre-check, form delivery)
with an optional e-mail; staff list them, read one with its e-mails, and mark it done.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from typing import Any

from aiohttp import web

from voicebot.store.calls import iso
from voicebot.store.ids import normalise_handoff_id
from voicebot.store.requests import (
    KINDS,
    OUTBOX_STATES,
    STATUSES,
    ServiceRequest,
    outbox_to_json,
    request_to_json,
)
from voicebot.web.keys import GATEWAY
from voicebot.web.request_submission import FieldError, parse_submission

MAX_AGENT = 64
# Optional header of POST /api/requests: a repeated POST with the same key stores nothing new.
IDEMPOTENCY_KEY = re.compile(r"[A-Za-z0-9_.:-]{1,128}")
MAX_NOTE = 4000


def _error(cls: type[web.HTTPException], message: str, **extra: str) -> web.HTTPException:
    return cls(text=json.dumps({"error": message, **extra}), content_type="application/json")


def _choice(request: web.Request, name: str, allowed: tuple[str, ...]) -> str | None:
    value = request.query.get(name) or None
    if value is not None and value not in allowed:
        raise _error(
            web.HTTPBadRequest, f"'{name}' must be one of {', '.join(allowed)}", field=name
        )
    return value


def _limit(request: web.Request) -> int:
    try:
        return min(500, max(1, int(request.query.get("limit", "50"))))
    except ValueError as exc:
        raise _error(web.HTTPBadRequest, "'limit' must be an integer", field="limit") from exc


async def _json_body(request: web.Request, optional: bool = False) -> Any:
    if optional and not await request.read():
        return {}
    try:
        return await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise _error(web.HTTPBadRequest, "the body must be a JSON object", field="body") from exc


async def _request(request: web.Request) -> ServiceRequest:
    request_id = normalise_handoff_id(request.match_info["request_id"]) or ""
    found = await request.app[GATEWAY].requests.get(request_id)
    if found is None:
        raise _error(web.HTTPNotFound, "no such request")
    return found


async def _with_outbox(request: web.Request, found: ServiceRequest) -> dict[str, Any]:
    entries = await request.app[GATEWAY].requests.outbox(request_id=found.id, limit=100)
    return {**request_to_json(found), "outbox": [outbox_to_json(e) for e in entries]}


async def submit_request(request: web.Request) -> web.Response:
    """POST /api/requests: stores a completed request (and queues its e-mail); 201.

    With an Idempotency-Key header that was used before, nothing is stored or sent again: the
    answer is the earlier request, with 200."""
    try:
        submission = parse_submission(await _json_body(request))
    except FieldError as exc:
        raise _error(web.HTTPBadRequest, str(exc), field=exc.field) from exc
    key = request.headers.get("Idempotency-Key")
    if key is not None and not IDEMPOTENCY_KEY.fullmatch(key):
        raise _error(
            web.HTTPBadRequest,
            "Idempotency-Key must be 1 to 128 characters: letters, digits, '-', '_', ':', '.'",
            field="Idempotency-Key",
        )
    gateway = request.app[GATEWAY]
    stored, created = await gateway.requests.insert_once(
        ServiceRequest(
            id="",
            kind=submission.kind,
            call_id=submission.call_id,
            created_at=iso(datetime.now(timezone.utc)),
            caller=submission.caller,
            data=submission.data,
            summary=submission.summary,
        ),
        submission.email,
        gateway.mailer.new_entry_state,
        key,
    )
    if created:
        gateway.hub.publish({"type": "request_stored", "request_id": stored.id})
        if submission.email is not None:
            gateway.mailer.wake()
    return web.json_response(await _with_outbox(request, stored), status=201 if created else 200)


async def list_requests(request: web.Request) -> web.Response:
    """GET /api/requests?kind=&status=&limit=: newest first."""
    kind = _choice(request, "kind", KINDS)
    status = _choice(request, "status", STATUSES)
    found = await request.app[GATEWAY].requests.recent(kind, status, _limit(request))
    return web.json_response([request_to_json(r) for r in found])


async def get_request(request: web.Request) -> web.Response:
    """GET /api/requests/{request_id}: one request with its outbox entries."""
    return web.json_response(await _with_outbox(request, await _request(request)))


async def request_done(request: web.Request) -> web.Response:
    """POST /api/requests/{request_id}/done, optionally {"agent": ..., "note": ...}."""
    found = await _request(request)
    body = await _json_body(request, optional=True)
    if not isinstance(body, dict):
        raise _error(web.HTTPBadRequest, "the body must be a JSON object", field="body")
    agent, note = body.get("agent"), body.get("note")
    if agent is not None and (not isinstance(agent, str) or not 0 < len(agent) <= MAX_AGENT):
        raise _error(
            web.HTTPBadRequest, f"'agent' must be a name of 1-{MAX_AGENT} characters", field="agent"
        )
    if note is not None and (not isinstance(note, str) or len(note) > MAX_NOTE):
        raise _error(
            web.HTTPBadRequest,
            f"'note' must be a text of at most {MAX_NOTE} characters",
            field="note",
        )
    done = await request.app[GATEWAY].requests.mark_done(
        found.id, datetime.now(timezone.utc), agent and agent.strip(), note and note.strip()
    )
    if done is None:  # purged in between
        raise _error(web.HTTPNotFound, "no such request")
    if found.status == "open":
        request.app[GATEWAY].hub.publish({"type": "request_done", "request_id": found.id})
    return web.json_response(await _with_outbox(request, done))


async def list_outbox(request: web.Request) -> web.Response:
    """GET /api/outbox?state=&limit=: outgoing e-mails, oldest first."""
    state = _choice(request, "state", OUTBOX_STATES)
    entries = await request.app[GATEWAY].requests.outbox(state=state, limit=_limit(request))
    return web.json_response([outbox_to_json(e) for e in entries])


def add_requests_api(app: web.Application) -> None:
    """Registers /api/requests and /api/outbox (the app's bearer middleware protects them)."""
    app.router.add_post("/api/requests", submit_request)
    app.router.add_get("/api/requests", list_requests)
    app.router.add_get("/api/requests/{request_id}", get_request)
    app.router.add_post("/api/requests/{request_id}/done", request_done)
    app.router.add_get("/api/outbox", list_outbox)
