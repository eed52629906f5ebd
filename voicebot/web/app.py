"""aiohttp application factory: health, call-record and handoff API, media, agent console."""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from voicebot.config import Settings
from voicebot.gateway import Gateway
from voicebot.handoff.hours import ServiceHours
from voicebot.store.calls import call_to_json
from voicebot.transports.sip.server import attach_sip
from voicebot.transports.twilio_ws import twilio_stream_handler
from voicebot.web.agent_api import add_handoff_api
from voicebot.web.agent_auth import agent_auth
from voicebot.web.agent_console import add_agent_console
from voicebot.web.analytics_api import add_analytics_api
from voicebot.web.console_analytics import add_analytics
from voicebot.web.console_assist import add_assist
from voicebot.web.console_training import add_training
from voicebot.web.keys import GATEWAY
from voicebot.web.lookup_api import add_lookup_api
from voicebot.web.metrics_api import add_metrics_route
from voicebot.web.phone import add_phone
from voicebot.web.requests_api import add_requests_api

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _same(given: str, expected: str) -> bool:
    """Constant-time comparison that never raises (non-ASCII input included)."""
    return hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode("utf-8"))


@web.middleware
async def api_auth(request: web.Request, handler: Handler) -> web.StreamResponse:
    """/api/* needs `Authorization: Bearer $VOICEBOT_API_TOKEN`; without a token set, 401."""
    if request.path.startswith("/api/"):
        settings = request.app[GATEWAY].settings
        header = request.headers.get("Authorization", "")
        given = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else ""
        tokens = [settings.api_token]
        if request.method == "POST" and request.path in ("/api/requests", "/api/lookup"):
            tokens.append(settings.rasa.actions_token)  # the action server: store, look up
        if not given or not any(t and _same(given, t) for t in tokens):
            raise web.HTTPUnauthorized(
                text='{"error": "missing or wrong bearer token"}',
                content_type="application/json",
                headers={"WWW-Authenticate": 'Bearer realm="voicebot"'},
            )
    return await handler(request)


async def health(request: web.Request) -> web.Response:
    """GET /health: 200 when models are loaded and Rasa answers, else 503; details in JSON."""
    healthy, body = await request.app[GATEWAY].health()
    return web.json_response(body, status=200 if healthy else 503)


async def get_call(request: web.Request) -> web.Response:
    """GET /api/calls/{call_id}: the call record with every turn; the id is the gateway's call
    id or the platform's (callSid, SIP Call-ID: then its latest call)."""
    call = await request.app[GATEWAY].store.find_call(request.match_info["call_id"])
    if call is None:
        raise web.HTTPNotFound(text='{"error": "no such call"}', content_type="application/json")
    return web.json_response(call_to_json(call))


async def list_calls(request: web.Request) -> web.Response:
    """GET /api/calls: the latest calls, newest first."""
    try:
        limit = min(500, max(1, int(request.query.get("limit", "50"))))
    except ValueError as exc:
        raise web.HTTPBadRequest(text="limit must be an integer") from exc
    return web.json_response(await request.app[GATEWAY].store.list_calls(limit))


def create_app(settings: Settings) -> web.Application:
    """Builds the gateway application; models load after start-up, /health tells when ready."""
    hours = ServiceHours.parse(settings.handoff.service_hours, settings.handoff.timezone)
    app = web.Application(middlewares=[api_auth, agent_auth])
    gateway = Gateway(settings)
    app[GATEWAY] = gateway

    async def on_startup(_: web.Application) -> None:
        await gateway.startup()

    async def on_cleanup(_: web.Application) -> None:
        await gateway.shutdown()

    app.on_startup.append(on_startup)
    app.on_cleanup.append(on_cleanup)
    app.router.add_get("/health", health)
    add_metrics_route(app)  # GET /metrics (Prometheus), its own bearer token
    app.router.add_get("/api/calls", list_calls)
    app.router.add_get("/api/calls/{call_id}", get_call)
    app.router.add_get("/media/twilio", twilio_stream_handler(gateway.calls, settings))
    add_handoff_api(app)
    add_requests_api(app)
    add_lookup_api(app)
    add_agent_console(app, hours.zone)
    add_analytics(app)  # after the console (its templates) and the gateway's startup
    add_analytics_api(app)
    add_assist(app)
    add_training(app)
    add_phone(app)
    attach_sip(app, settings.sip, gateway.calls)
    return app
