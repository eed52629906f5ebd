"""/agent/ws: the console's live channel. The server re-renders the open page's rows on every
change the hub announces (handoffs, requests) and at least every REFRESH_S (changes made by
other gateways on the same database), so the page never reloads.

`?view=queue` (the default) sends the handoff queue, `?view=requests&kind=&status=` the
requests list; each view is an async function that builds the message.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import WSMsgType, web

from voicebot.web import agent_auth as auth
from voicebot.web.keys import GATEWAY

REFRESH_S = 15.0  # the view is re-sent at least this often
BURST_S = 0.1  # one update for a burst of changes
LiveView = Callable[[web.Request], Awaitable[dict[str, Any]]]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def live_channel(views: Mapping[str, LiveView], default: str) -> Handler:
    """The /agent/ws handler serving the given views."""

    async def live(request: web.Request) -> web.StreamResponse:
        origin = request.headers.get("Origin")
        if origin and origin.split("://", 1)[-1] != request.host:
            raise auth.forbidden("Fremder Ursprung.")
        view = views.get(request.query.get("view") or default)
        if view is None:
            raise web.HTTPBadRequest(text="Unbekannte Ansicht.", content_type="text/plain")
        ws = web.WebSocketResponse(heartbeat=30)
        await ws.prepare(request)
        hub = request.app[GATEWAY].hub

        async def push() -> None:
            with hub.subscribe() as events:
                while not ws.closed:
                    await ws.send_json(await view(request))
                    with contextlib.suppress(asyncio.TimeoutError):
                        await asyncio.wait_for(events.get(), timeout=REFRESH_S)
                    await asyncio.sleep(BURST_S)
                    while not events.empty():
                        events.get_nowait()

        pusher = asyncio.create_task(push())
        try:
            async for msg in ws:
                if msg.type in (WSMsgType.ERROR, WSMsgType.CLOSE):
                    break
        finally:
            pusher.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                await pusher
        return ws

    return live
