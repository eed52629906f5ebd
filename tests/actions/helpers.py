"""Shared helpers of the action tests: a tracker as rasa_sdk builds it, running an action,
what the bot said, settings for a test, and a stand-in gateway for POST /api/requests.

A plain module (the action tests run with --noconftest): import what you need.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from actions.settings import Settings, settings, use_settings
from aiohttp import web
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

NOISE = {"response", "text", "buttons", "elements", "custom", "template", "image", "attachment"}


def make_tracker(
    text: str = "",
    intent: str | None = None,
    *,
    sender: str = "call-1",
    entities: list[dict[str, Any]] | None = None,
    metadata: dict[str, Any] | None = None,
    caller: str | None = None,
    ranking: list[dict[str, Any]] | None = None,
    confidence: float = 1.0,
    history: list[dict[str, Any]] | None = None,
    events: list[dict[str, Any]] | None = None,
    loop: str | None = None,
    **slots: Any,
) -> Tracker:
    """The tracker of a call whose latest message is `text` (with intent, entities and the
    gateway's metadata). The events are `history` then the user event, unless `events`
    gives them all."""
    meta = dict(metadata or {})
    if caller:
        meta["caller"] = caller
    message: dict[str, Any] = {
        "text": text,
        "intent": {"name": intent, "confidence": confidence} if intent else {},
        "entities": entities or [],
        "metadata": meta,
    }
    if ranking is not None:
        message["intent_ranking"] = ranking
    user = {"event": "user", "text": text, "parse_data": message, "metadata": meta}
    log = events if events is not None else [*(history or []), user]
    active = {"name": loop} if loop else {}
    return Tracker(sender, dict(slots), message, log, False, None, active, "action_listen")


def run_action(
    action: Any, tracker: Tracker, domain: dict[str, Any] | None = None
) -> tuple[list[dict[str, Any]], list[Any]]:
    """Runs the action as the SDK does: (what the bot said, the events it returned)."""
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, domain or {}))
    return dispatcher.messages, events


def responses(messages: list[dict[str, Any]]) -> list[str]:
    """The response names of what the bot said."""
    return [m["response"] for m in messages]


def with_variables(messages: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """Each response with the variables it was said with."""
    return [(m["response"], {k: v for k, v in m.items() if k not in NOISE}) for m in messages]


@contextmanager
def configured(**fields: Any) -> Iterator[Settings]:
    """The action server's settings for a test: the defaults (not this machine's
    environment) with `fields`; the environment is read again afterwards."""
    chosen = Settings(**fields)
    use_settings(chosen)
    try:
        yield chosen
    finally:
        use_settings(None)


def configure(**fields: Any) -> None:
    """Changes fields of the current settings (inside `configured`)."""
    use_settings(replace(settings(), **fields))


def free_port() -> int:
    """A TCP port nobody listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def with_gateway(
    status: int, answer: Any, scenario: Callable[[str], Awaitable[None]]
) -> list[tuple[dict[str, str], Any]]:
    """Runs `scenario(url)` while a stand-in gateway answers POST /api/requests with
    `status` and `answer`; returns the (headers, body) of each request it got."""
    seen: list[tuple[dict[str, str], Any]] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append((dict(request.headers), await request.json()))
        return web.json_response(answer, status=status)

    app = web.Application()
    app.router.add_post("/api/requests", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        await scenario(f"http://127.0.0.1:{port}")
    finally:
        await runner.cleanup()
    return seen
