"""The handoff API under /api/handoffs (bearer token, like /api/calls), for CRMs and tools.

An accept or close names the acting agent in the JSON body; the same rules as in the console
apply: a handoff can be accepted once, and only the accepting agent can close it (else 409).
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from voicebot.handoff.record import handoff_brief, handoff_to_json
from voicebot.store.handoffs import STATUSES, Handoff
from voicebot.store.ids import normalise_handoff_id
from voicebot.web.keys import GATEWAY

MAX_AGENT = 64
MAX_NOTE = 4000


def _error(cls: type[web.HTTPException], message: str) -> web.HTTPException:
    return cls(text=json.dumps({"error": message}), content_type="application/json")


async def _handoff(request: web.Request) -> Handoff:
    handoff_id = normalise_handoff_id(request.match_info["handoff_id"]) or ""
    handoff = await request.app[GATEWAY].handoff_store.get(handoff_id)
    if handoff is None:
        raise _error(web.HTTPNotFound, "no such handoff")
    return handoff


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise _error(web.HTTPBadRequest, "the body must be a JSON object") from exc
    if not isinstance(body, dict):
        raise _error(web.HTTPBadRequest, "the body must be a JSON object")
    agent = body.get("agent")
    if not isinstance(agent, str) or not agent.strip() or len(agent) > MAX_AGENT:
        raise _error(web.HTTPBadRequest, f"'agent' must be a name of 1-{MAX_AGENT} characters")
    return body


async def list_handoffs(request: web.Request) -> web.Response:
    """GET /api/handoffs?status=open,accepted&limit=N: newest first, without transcripts."""
    statuses = tuple(s for s in request.query.get("status", "").split(",") if s)
    unknown = [s for s in statuses if s not in STATUSES]
    if unknown:
        raise _error(web.HTTPBadRequest, f"unknown status {unknown[0]!r}; one of {STATUSES}")
    try:
        limit = min(500, max(1, int(request.query.get("limit", "50"))))
    except ValueError as exc:
        raise _error(web.HTTPBadRequest, "limit must be an integer") from exc
    handoffs = await request.app[GATEWAY].handoff_store.recent(statuses, limit)
    return web.json_response([handoff_brief(h) for h in handoffs])


async def get_handoff(request: web.Request) -> web.Response:
    """GET /api/handoffs/{handoff_id}: one handoff with transcript and slots."""
    return web.json_response(handoff_to_json(await _handoff(request)))


async def accept_handoff(request: web.Request) -> web.Response:
    """POST /api/handoffs/{handoff_id}/accept {"agent": ...}."""
    handoff = await _handoff(request)
    body = await _body(request)
    service = request.app[GATEWAY].handoffs
    if service is None:
        raise _error(web.HTTPServiceUnavailable, "the handoff service is starting")
    result, current = await service.accept(handoff.handoff_id, body["agent"].strip())
    if result != "ok" or current is None:
        raise _error(web.HTTPConflict, f"the handoff is {handoff_state(current or handoff)}")
    return web.json_response(handoff_to_json(current))


async def close_handoff(request: web.Request) -> web.Response:
    """POST /api/handoffs/{handoff_id}/close {"agent": ..., "note": ...}."""
    handoff = await _handoff(request)
    body = await _body(request)
    note = body.get("note") or ""
    if not isinstance(note, str) or len(note) > MAX_NOTE:
        raise _error(web.HTTPBadRequest, f"'note' must be a text of at most {MAX_NOTE} characters")
    service = request.app[GATEWAY].handoffs
    if service is None:
        raise _error(web.HTTPServiceUnavailable, "the handoff service is starting")
    result, current = await service.close(handoff.handoff_id, body["agent"].strip(), note.strip())
    if result != "ok" or current is None:
        raise _error(
            web.HTTPConflict,
            f"only the agent who accepted it can close it; the handoff is "
            f"{handoff_state(current or handoff)}",
        )
    return web.json_response(handoff_to_json(current))


def handoff_state(handoff: Handoff) -> str:
    """The status in words, with the agent, for error messages."""
    return f"{handoff.status} by {handoff.agent}" if handoff.agent else handoff.status


def add_handoff_api(app: web.Application) -> None:
    """Registers /api/handoffs routes (the app's bearer middleware protects them)."""
    app.router.add_get("/api/handoffs", list_handoffs)
    app.router.add_get("/api/handoffs/{handoff_id}", get_handoff)
    app.router.add_post("/api/handoffs/{handoff_id}/accept", accept_handoff)
    app.router.add_post("/api/handoffs/{handoff_id}/close", close_handoff)
