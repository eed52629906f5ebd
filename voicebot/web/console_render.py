"""The agent console's templates: the Jinja2 environment (autoescaped), its German filters,
and rendering a page with the session's agent name and CSRF token."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from aiohttp import web

from voicebot.handoff.record import intent_label, reason_label
from voicebot.store.ids import spell_id
from voicebot.web import agent_auth as auth
from voicebot.web import request_display as display
from voicebot.web.keys import GATEWAY

WEB_DIR = Path(__file__).resolve().parent
TEMPLATES = web.AppKey("agent_templates", jinja2.Environment)
STATUS_LABELS = {
    "open": "offen",
    "accepted": "angenommen",
    "closed": "abgeschlossen",
    "transfer_failed": "Weiterleitung fehlgeschlagen",
}
KIND_LABELS = {"transfer": "Weiterleitung", "callback": "Rückrufwunsch"}
SPEAKERS = {"caller": "Anrufer", "bot": "Bot"}


def environment(zone: ZoneInfo) -> jinja2.Environment:
    """The console's templates, with times shown in `zone` (German format)."""
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
        pretty_json=lambda v: json.dumps(v, ensure_ascii=False, indent=2, sort_keys=True),
        status_label=lambda s: STATUS_LABELS.get(s, s),
        kind_label=lambda k: KIND_LABELS.get(k, k),
        speaker_label=lambda s: SPEAKERS.get(s, s),
        intent_label=intent_label,
        reason_label=reason_label,
        spell_id=spell_id,
        request_kind_label=display.kind_label,
        request_status_label=display.request_status_label,
        mail_state_label=display.mail_state_label,
        readable_fields=display.readable_fields,
    )
    return env


def render(request: web.Request, name: str, status: int = 200, **context: Any) -> web.Response:
    """A console page; the agent, CSRF token and footer facts are added to the context."""
    gateway = request.app[GATEWAY]
    session = request.get(auth.SESSION)
    context.setdefault("agent", session.agent if session else None)
    context.setdefault("csrf_token", session.csrf_token if session else "")
    roles = auth.roles_of(gateway.settings.console, session.agent) if session else frozenset()
    context.setdefault("roles", roles)
    context.setdefault("retention_days", gateway.settings.transcript_retention_days)
    context.setdefault("service_hours", gateway.settings.handoff.service_hours)
    html = request.app[TEMPLATES].get_template(name).render(**context)
    response = web.Response(text=html, content_type="text/html", status=status)
    return auth.security_headers(response)
