"""The stored requests ("Anliegen") in the agent console: the list (newest first, filtered by
kind and status, live over /agent/ws?view=requests), the detail with the collected data and
the e-mails, and "Als erledigt markieren" (session auth and CSRF as everywhere under /agent).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from aiohttp import web
from multidict import MultiMapping

from voicebot.gateway import Gateway
from voicebot.store.ids import normalise_handoff_id
from voicebot.store.request_mail_states import mail_states
from voicebot.store.requests import KIND_LABELS, KINDS, ServiceRequest
from voicebot.web import agent_auth as auth
from voicebot.web.console_render import TEMPLATES, render
from voicebot.web.keys import GATEWAY

LIST_LIMIT = 200
MAX_NOTE = 4000
STATUS_FILTERS = {"open": "offen", "done": "erledigt", "all": "alle"}


@dataclass(frozen=True)
class RequestFilter:
    """What the list shows: one kind or all, open, done or all."""

    kind: str | None = None
    status: str = "open"

    @property
    def stored_status(self) -> str | None:
        """The status the store filters by (None: any)."""
        return None if self.status == "all" else self.status


def parse_filter(query: MultiMapping[str], strict: bool = True) -> RequestFilter:
    """The filter of `?kind=&status=`; unknown values are a 400 (or ignored, not `strict`)."""
    kind = query.get("kind") or None
    status = query.get("status") or "open"
    if strict and (kind not in (None, *KINDS) or status not in STATUS_FILTERS):
        raise web.HTTPBadRequest(
            text="Unbekannter Filter: Art und Status bitte aus der Liste wählen.",
            content_type="text/plain",
        )
    return RequestFilter(
        kind if kind in KINDS else None, status if status in STATUS_FILTERS else "open"
    )


async def find_request(gateway: Gateway, raw_id: str) -> ServiceRequest | None:
    """A request by its id as written or read out ("k 7 m 4 2 x"), or None."""
    request_id = normalise_handoff_id(raw_id)
    return await gateway.requests.get(request_id) if request_id else None


async def requests_of_call(gateway: Gateway, call_id: str) -> list[ServiceRequest]:
    """The requests stored during one call, newest first."""
    return await gateway.requests.recent(call_id=call_id, limit=20)


async def _list_context(gateway: Gateway, chosen: RequestFilter) -> dict[str, Any]:
    found = await gateway.requests.recent(chosen.kind, chosen.stored_status, LIST_LIMIT)
    return {
        "requests": found,
        "mail_states": await mail_states(gateway.requests, [r.id for r in found]),
        "chosen": chosen,
        "kinds": KIND_LABELS,
        "status_filters": STATUS_FILTERS,
        "limit": LIST_LIMIT,
    }


async def list_page(request: web.Request) -> web.Response:
    """GET /agent/requests?kind=&status=open|done|all: the requests, newest first."""
    chosen = parse_filter(request.query)
    return render(request, "requests.html", **await _list_context(request.app[GATEWAY], chosen))


async def request_list_message(request: web.Request) -> dict[str, Any]:
    """The live channel's message for the list page (the filter of the WebSocket's URL)."""
    context = await _list_context(request.app[GATEWAY], parse_filter(request.query, False))
    rows = request.app[TEMPLATES].get_template("_request_rows.html").render(**context)
    ids = [r.id for r in context["requests"]]
    return {"type": "requests", "ids": ids, "rows_html": rows, "count": len(ids)}


async def _load(request: web.Request) -> ServiceRequest:
    found = await find_request(request.app[GATEWAY], request.match_info["request_id"])
    if found is None:
        raise web.HTTPNotFound(text="Kein solches Anliegen.", content_type="text/plain")
    return found


async def _detail(
    request: web.Request, item: ServiceRequest, status: int = 200, error: str | None = None
) -> web.Response:
    gateway = request.app[GATEWAY]
    return render(
        request,
        "request_detail.html",
        status,
        item=item,
        outbox=await gateway.requests.outbox(request_id=item.id, limit=100),
        handoffs=await gateway.handoff_store.for_call(item.call_id),
        error=error,
    )


async def detail_page(request: web.Request) -> web.Response:
    """GET /agent/requests/{id}: everything collected, the e-mails, the done action."""
    return await _detail(request, await _load(request))


async def mark_done(request: web.Request) -> web.Response:
    """POST /agent/requests/{id}/done (form: note, optional): done by the logged-in agent."""
    item = await _load(request)
    if item.status != "open":
        error = f"Dieses Anliegen wurde bereits von {item.done_by or 'jemand anderem'} erledigt."
        return await _detail(request, item, 409, error)
    note = str((await request.post()).get("note") or "").strip()[:MAX_NOTE] or None
    agent = request[auth.SESSION].agent
    gateway = request.app[GATEWAY]
    done = await gateway.requests.mark_done(item.id, datetime.now(timezone.utc), agent, note)
    if done is None:  # purged in between
        raise web.HTTPNotFound(text="Kein solches Anliegen.", content_type="text/plain")
    if done.done_by != agent:  # someone else was a moment faster
        error = f"Dieses Anliegen wurde bereits von {done.done_by or 'jemand anderem'} erledigt."
        return await _detail(request, done, 409, error)
    gateway.hub.publish({"type": "request_done", "request_id": item.id, "agent": agent})
    raise web.HTTPSeeOther(f"/agent/requests/{item.id}")


def add_request_views(app: web.Application) -> None:
    """Registers /agent/requests routes (the console's auth middleware protects them)."""
    app.router.add_get("/agent/requests", list_page)
    app.router.add_get("/agent/requests/{request_id}", detail_page)
    app.router.add_post("/agent/requests/{request_id}/done", mark_done)
