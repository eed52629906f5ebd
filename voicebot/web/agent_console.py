"""The agent console at /agent: login, live queue, detail view, accept and close (German).

Pages are rendered on the server (Jinja2, autoescaped); /agent/ws pushes the re-rendered queue
whenever a handoff changes, so the page never reloads. Authentication and CSRF checks live in
`voicebot.web.agent_auth`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from aiohttp import WSMsgType, web

from voicebot.handoff.ids import normalise_handoff_id
from voicebot.handoff.record import Handoff, intent_label, reason_label
from voicebot.handoff.service import HandoffService
from voicebot.web import agent_auth as auth
from voicebot.web.gateway import GATEWAY, Gateway

log = logging.getLogger(__name__)
WEB_DIR = Path(__file__).resolve().parent
TEMPLATES = web.AppKey("agent_templates", jinja2.Environment)
REFRESH_S = 15.0  # the queue is re-sent at least this often (other gateways' changes)
STATUS_LABELS = {
    "open": "offen",
    "accepted": "angenommen",
    "closed": "abgeschlossen",
    "transfer_failed": "Weiterleitung fehlgeschlagen",
}
KIND_LABELS = {"transfer": "Weiterleitung", "callback": "Rückrufwunsch"}
SPEAKERS = {"caller": "Anrufer", "bot": "Bot"}


def _environment(zone: ZoneInfo) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(WEB_DIR / "templates"),
        autoescape=True,
        auto_reload=False,
        undefined=jinja2.StrictUndefined,
    )

    def localtime(value: str | None, fmt: str = "%d.%m.%Y %H:%M:%S") -> str:
        if not value:
            return ""
        return datetime.fromisoformat(value).astimezone(zone).strftime(fmt)

    def slot_value(value: Any) -> str:
        return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)

    def percent(value: float | None) -> str:
        return "–" if value is None else f"{value * 100:.0f} %"

    env.filters.update(
        localtime=localtime,
        percent=percent,
        slot_value=slot_value,
        status_label=lambda s: STATUS_LABELS.get(s, s),
        kind_label=lambda k: KIND_LABELS.get(k, k),
        speaker_label=lambda s: SPEAKERS.get(s, s),
        intent_label=intent_label,
        reason_label=reason_label,
    )
    return env


def _render(request: web.Request, name: str, status: int = 200, **context: Any) -> web.Response:
    gateway = request.app[GATEWAY]
    session = request.get(auth.SESSION)
    context.setdefault("agent", session.agent if session else None)
    context.setdefault("csrf_token", session.csrf_token if session else "")
    context.setdefault("retention_days", gateway.settings.transcript_retention_days)
    context.setdefault("service_hours", gateway.settings.handoff.service_hours)
    html = request.app[TEMPLATES].get_template(name).render(**context)
    response = web.Response(text=html, content_type="text/html", status=status)
    return auth.security_headers(response)


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
    response = _render(request, "login.html", status, error=error, login_csrf=token)
    response.set_cookie(
        auth.LOGIN_CSRF_COOKIE,
        token,
        path="/agent/login",
        httponly=True,
        samesite="Strict",
        secure=request.app[GATEWAY].settings.console.secure_cookie,
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
    if not await auth.check_login(gateway.settings.console.agents, name, password):
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
    return _render(request, "queue.html", message=request.query.get("nicht_gefunden"), **context)


async def search(request: web.Request) -> web.Response:
    """GET /agent/search?id=K7M42X: opens a handoff by the id the phone or PBX shows."""
    raw = request.query.get("id", "")
    handoff_id = normalise_handoff_id(raw)
    if handoff_id and await request.app[GATEWAY].handoff_store.get(handoff_id):
        raise web.HTTPSeeOther(f"/agent/handoffs/{handoff_id}")
    context = await _queue_context(request.app[GATEWAY])
    message = f"Kein Vorgang mit der Nummer „{raw.strip()}“ gefunden."
    return _render(request, "queue.html", status=404, message=message, **context)


async def _load(request: web.Request) -> Handoff:
    handoff_id = normalise_handoff_id(request.match_info["handoff_id"]) or ""
    handoff = await request.app[GATEWAY].handoff_store.get(handoff_id)
    if handoff is None:
        raise web.HTTPNotFound(text="Kein solcher Vorgang.", content_type="text/plain")
    return handoff


async def detail_page(request: web.Request) -> web.Response:
    """GET /agent/handoffs/{id}: transcript, topic, slots, reason, caller number."""
    return _render(request, "detail.html", handoff=await _load(request), error=None)


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
        return _render(request, "detail.html", 409, handoff=current, error=error)
    raise web.HTTPSeeOther(f"/agent/handoffs/{handoff.handoff_id}")


async def close(request: web.Request) -> web.Response:
    """POST /agent/handoffs/{id}/close: the accepting agent closes it with a note."""
    handoff = await _load(request)
    note = str((await request.post()).get("note") or "").strip()[:4000]
    agent = request[auth.SESSION].agent
    result, current = await _service(request.app[GATEWAY]).close(handoff.handoff_id, agent, note)
    if result != "ok":
        error = "Nur wer den Vorgang angenommen hat, kann ihn abschließen."
        return _render(request, "detail.html", 409, handoff=current or handoff, error=error)
    raise web.HTTPSeeOther(f"/agent/handoffs/{handoff.handoff_id}")


# ---- live queue ----------------------------------------------------------------------------
async def _queue_message(request: web.Request) -> dict[str, Any]:
    gateway = request.app[GATEWAY]
    context = await _queue_context(gateway)
    env = request.app[TEMPLATES]
    return {
        "type": "queue",
        "ids": [h.handoff_id for h in context["handoffs"]],
        "rows_html": env.get_template("_rows.html").render(**context),
        "outbox_html": env.get_template("_outbox.html").render(**context),
        "outbox_count": len(context["outbox"]),
    }


async def live(request: web.Request) -> web.StreamResponse:
    """GET /agent/ws: pushes the queue on every change (and every REFRESH_S)."""
    origin = request.headers.get("Origin")
    if origin and origin.split("://", 1)[-1] != request.host:
        raise auth.forbidden("Fremder Ursprung.")
    ws = web.WebSocketResponse(heartbeat=30)
    await ws.prepare(request)
    gateway = request.app[GATEWAY]

    async def push() -> None:
        with gateway.hub.subscribe() as events:
            while not ws.closed:
                await ws.send_json(await _queue_message(request))
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(events.get(), timeout=REFRESH_S)
                await asyncio.sleep(0.1)  # one update for a burst of changes
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


THROTTLE = web.AppKey("agent_login_throttle", auth.LoginThrottle)


def add_agent_console(app: web.Application, zone: ZoneInfo) -> None:
    """Registers the console's routes, templates and static files on the app."""
    app[TEMPLATES] = _environment(zone)
    app[THROTTLE] = auth.LoginThrottle()
    app.router.add_get("/agent", queue_page)
    app.router.add_get("/agent/login", login_page)
    app.router.add_post("/agent/login", login)
    app.router.add_post("/agent/logout", logout)
    app.router.add_get("/agent/search", search)
    app.router.add_get("/agent/ws", live)
    app.router.add_get("/agent/handoffs/{handoff_id}", detail_page)
    app.router.add_post("/agent/handoffs/{handoff_id}/accept", accept)
    app.router.add_post("/agent/handoffs/{handoff_id}/close", close)
    app.router.add_static("/agent/static", WEB_DIR / "static")
