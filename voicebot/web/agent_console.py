"""The agent console at /agent: login, live queue, detail view, accept and close (German).

Pages are rendered on the server (Jinja2, autoescaped; `console_render`); /agent/ws
(`console_live`) pushes the re-rendered queue whenever a handoff changes, so the page never
reloads. The stored requests ("Anliegen") are in `console_requests`. Authentication and CSRF
checks live in `voicebot.web.agent_auth`.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from voicebot.gateway import Gateway
from voicebot.handoff.service import HandoffService
from voicebot.store.handoffs import Handoff
from voicebot.store.ids import normalise_handoff_id
from voicebot.web import agent_auth as auth
from voicebot.web.console_live import live_channel
from voicebot.web.console_render import TEMPLATES, WEB_DIR, environment, render
from voicebot.web.console_requests import (
    add_request_views,
    find_request,
    request_list_message,
    requests_of_call,
)
from voicebot.web.keys import GATEWAY

log = logging.getLogger(__name__)


def _service(gateway: Gateway) -> HandoffService:
    if gateway.handoffs is None:
        raise web.HTTPServiceUnavailable(text="Der Übergabedienst startet noch.")
    return gateway.handoffs


async def _queue_context(gateway: Gateway) -> dict[str, Any]:
    return {
        "handoffs": await gateway.handoff_store.active(),
        "closed": await gateway.handoff_store.recent(("closed",), limit=10),
        "outbox": await gateway.handoff_store.outbox()
        if gateway.settings.handoff.webhook_url
        else [],
        "webhook_enabled": bool(gateway.settings.handoff.webhook_url),
    }


# ---- pages ---------------------------------------------------------------------------------
async def login_page(request: web.Request) -> web.Response:
    """GET /agent/login: the login form (a logged-in agent goes to the queue)."""
    if await auth.current_session(request) is not None:
        raise web.HTTPSeeOther("/agent")
    return _login_form(request)


def _login_form(request: web.Request, error: str | None = None, status: int = 200) -> web.Response:
    token = secrets.token_urlsafe(24)
    response = render(request, "login.html", status, error=error, login_csrf=token)
    response.set_cookie(
        auth.LOGIN_CSRF_COOKIE,
        token,
        path="/agent/login",
        httponly=True,
        samesite="Strict",
        secure=auth.cookie_secure(request.app[GATEWAY].settings),
    )
    return response


async def login(request: web.Request) -> web.Response:
    """POST /agent/login: checks the name and password, starts a session."""
    form = await request.post()
    if not auth.csrf_ok(
        request.cookies.get(auth.LOGIN_CSRF_COOKIE, ""), str(form.get(auth.CSRF_FIELD) or "")
    ):
        raise auth.forbidden()
    gateway = request.app[GATEWAY]
    name = str(form.get("name") or "").strip()
    password = str(form.get("password") or "")
    remote = request.remote or "?"
    if request.app[THROTTLE].blocked(name, remote):
        return _login_form(request, "Zu viele Fehlversuche. Bitte warten Sie zehn Minuten.", 429)
    users = auth.console_users(gateway.settings.console)
    if not await auth.check_login(users, name, password):
        request.app[THROTTLE].failed(name, remote)
        log.warning("agent console: failed login for %r from %s", name, remote)
        return _login_form(request, "Anmeldung fehlgeschlagen: Name oder Passwort ist falsch.", 401)
    request.app[THROTTLE].succeeded(name, remote)
    response = web.HTTPSeeOther("/agent")
    await auth.start_session(request, response, name)
    response.del_cookie(auth.LOGIN_CSRF_COOKIE, path="/agent/login")
    log.info("agent console: %s logged in from %s", name, remote)
    raise response


async def logout(request: web.Request) -> web.Response:
    """POST /agent/logout: ends the session."""
    response = web.HTTPSeeOther("/agent/login")
    await auth.end_session(request, response)
    raise response


async def queue_page(request: web.Request) -> web.Response:
    """GET /agent: the live queue of open handoffs."""
    context = await _queue_context(request.app[GATEWAY])
    return render(request, "queue.html", message=request.query.get("nicht_gefunden"), **context)


async def search(request: web.Request) -> web.Response:
    """GET /agent/search?id=K7M42X: opens a handoff (or stored request) by its id."""
    raw = request.query.get("id", "")
    handoff_id = normalise_handoff_id(raw)
    if handoff_id and await request.app[GATEWAY].handoff_store.get(handoff_id):
        raise web.HTTPSeeOther(f"/agent/handoffs/{handoff_id}")
    if handoff_id and await find_request(request.app[GATEWAY], handoff_id):
        raise web.HTTPSeeOther(f"/agent/requests/{handoff_id}")
    context = await _queue_context(request.app[GATEWAY])
    message = f"Kein Vorgang mit der Nummer „{raw.strip()}“ gefunden."
    return render(request, "queue.html", status=404, message=message, **context)


async def _load(request: web.Request) -> Handoff:
    handoff_id = normalise_handoff_id(request.match_info["handoff_id"]) or ""
    handoff = await request.app[GATEWAY].handoff_store.get(handoff_id)
    if handoff is None:
        raise web.HTTPNotFound(text="Kein solcher Vorgang.", content_type="text/plain")
    return handoff


async def _detail(
    request: web.Request, handoff: Handoff, status: int = 200, error: str | None = None
) -> web.Response:
    call_requests = await requests_of_call(request.app[GATEWAY], handoff.call_id)
    return render(
        request, "detail.html", status, handoff=handoff, error=error, call_requests=call_requests
    )


async def detail_page(request: web.Request) -> web.Response:
    """GET /agent/handoffs/{id}: transcript, topic, slots, reason, caller number, and the
    requests stored during the same call."""
    return await _detail(request, await _load(request))


async def accept(request: web.Request) -> web.Response:
    """POST /agent/handoffs/{id}/accept: the logged-in agent takes the handoff."""
    handoff = await _load(request)
    agent = request[auth.SESSION].agent
    result, current = await _service(request.app[GATEWAY]).accept(handoff.handoff_id, agent)
    if result != "ok" or current is None:
        current = current or handoff
        error = f"Dieser Vorgang wurde bereits von {current.agent or 'jemand anderem'} übernommen."
        if current.status == "closed":
            error = "Dieser Vorgang ist bereits abgeschlossen."
        return await _detail(request, current, 409, error)
    raise web.HTTPSeeOther(f"/agent/handoffs/{handoff.handoff_id}")


async def close(request: web.Request) -> web.Response:
    """POST /agent/handoffs/{id}/close: the accepting agent closes it with a note."""
    handoff = await _load(request)
    note = str((await request.post()).get("note") or "").strip()[:4000]
    agent = request[auth.SESSION].agent
    result, current = await _service(request.app[GATEWAY]).close(handoff.handoff_id, agent, note)
    if result != "ok":
        error = "Nur wer den Vorgang angenommen hat, kann ihn abschließen."
        return await _detail(request, current or handoff, 409, error)
    raise web.HTTPSeeOther(f"/agent/handoffs/{handoff.handoff_id}")


# ---- live queue ----------------------------------------------------------------------------
async def queue_message(request: web.Request) -> dict[str, Any]:
    """The live channel's message for the queue page: its rows and the CRM outbox."""
    context = await _queue_context(request.app[GATEWAY])
    env = request.app[TEMPLATES]
    return {
        "type": "queue",
        "ids": [h.handoff_id for h in context["handoffs"]],
        "rows_html": env.get_template("_rows.html").render(**context),
        "outbox_html": env.get_template("_outbox.html").render(**context),
        "outbox_count": len(context["outbox"]),
    }


THROTTLE = web.AppKey("agent_login_throttle", auth.LoginThrottle)


def add_agent_console(app: web.Application, zone: ZoneInfo) -> None:
    """Registers the console's routes, templates and static files on the app."""
    app[TEMPLATES] = environment(zone)
    app[THROTTLE] = auth.LoginThrottle()
    app.router.add_get("/agent", queue_page)
    app.router.add_get("/agent/login", login_page)
    app.router.add_post("/agent/login", login)
    app.router.add_post("/agent/logout", logout)
    app.router.add_get("/agent/search", search)
    views = {"queue": queue_message, "requests": request_list_message}
    app.router.add_get("/agent/ws", live_channel(views, default="queue"))
    app.router.add_get("/agent/handoffs/{handoff_id}", detail_page)
    app.router.add_post("/agent/handoffs/{handoff_id}/accept", accept)
    app.router.add_post("/agent/handoffs/{handoff_id}/close", close)
    add_request_views(app)
    app.router.add_static("/agent/static", WEB_DIR / "static")
