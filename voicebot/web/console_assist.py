"""Agent assist: from a handoff's page, look up the service catalogue and colleagues' notes.

GET /agent/assist?q=...&vorgang=ID (any console role) shows
- the catalogue services that match (fuzzy, `catalogue_search`) with the facts to read out:
  documents, fee, processing time, office, address, opening hours, phone, form;
- closed handoffs whose note, topic or summary contains every word of the query (newest
  first), with the note: what a colleague answered before.
The catalogue is read from its YAML files (`$VOICEBOT_CATALOGUE_DIR`, else
`<rasa.project_dir>/catalogue`, as the action server does) in a thread, and read again
when a file changes; the gateway never imports the Rasa project's code.
"""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path
from typing import Any

import yaml
from aiohttp import web

from voicebot.store.db import Conn
from voicebot.store.ids import normalise_handoff_id
from voicebot.web import catalogue_search as cs
from voicebot.web.console_render import render
from voicebot.web.keys import GATEWAY

log = logging.getLogger(__name__)
MAX_NOTES = 10
MAX_QUERY = 100


class Catalogue:
    """The parsed catalogue entries, re-read when a YAML file changes."""

    def __init__(self) -> None:
        self._stamp: tuple[tuple[str, float], ...] | None = None
        self._entries: list[cs.Entry] = []
        self._lock = asyncio.Lock()

    async def entries(self, directory: Path) -> list[cs.Entry]:
        """The entries of the catalogue in `directory` (read in a thread when changed)."""
        async with self._lock:
            stamp, found = await asyncio.to_thread(self._load, directory, self._stamp)
            if found is not None:
                self._stamp, self._entries = stamp, found
            return self._entries

    @staticmethod
    def _load(
        directory: Path, known: tuple[tuple[str, float], ...] | None
    ) -> tuple[tuple[tuple[str, float], ...], list[cs.Entry] | None]:
        files = sorted(directory.glob("*.yml"))
        stamp = tuple((str(p), p.stat().st_mtime) for p in files)
        if stamp == known:
            return stamp, None
        documents = []
        for path in files:
            try:
                documents.append(yaml.safe_load(path.read_text(encoding="utf-8")))
            except (OSError, yaml.YAMLError) as exc:
                log.warning("agent assist: skipping catalogue file %s: %s", path, exc)
        return stamp, cs.entries(documents)


CATALOGUE = web.AppKey("assist_catalogue", Catalogue)


def catalogue_dir(project_dir: Path) -> Path:
    """Where the catalogue lives, as the action server finds it."""
    configured = os.environ.get("VOICEBOT_CATALOGUE_DIR", "").strip()
    return Path(configured) if configured else project_dir / "catalogue"


def search_notes(conn: Conn, query: str) -> list[dict[str, Any]]:
    """Closed handoffs whose note, topic or summary holds every word (case-insensitive)."""
    words = [w.replace("%", "").replace("_", "") for w in query.lower().split()][:6]
    words = [w for w in words if w]
    if not words:
        return []
    text = "LOWER(COALESCE(note, '') || ' ' || topic || ' ' || summary)"
    where = " AND ".join(f"{text} LIKE ?" for _ in words)
    return conn.query(
        "SELECT handoff_id, closed_at, topic, note, agent FROM handoffs WHERE status = 'closed' "
        f"AND note IS NOT NULL AND note <> '' AND {where} ORDER BY closed_at DESC LIMIT ?",
        (*(f"%{w}%" for w in words), MAX_NOTES),
    )


async def assist_page(request: web.Request) -> web.Response:
    """GET /agent/assist?q=&vorgang=: catalogue facts and colleagues' notes for a query."""
    gateway = request.app[GATEWAY]
    query = request.query.get("q", "").strip()[:MAX_QUERY]
    handoff_id = normalise_handoff_id(request.query.get("vorgang", "")) or ""
    services: list[cs.Entry] = []
    notes: list[dict[str, Any]] = []
    if query:
        directory = catalogue_dir(gateway.settings.rasa.project_dir)
        try:
            services = cs.search(await request.app[CATALOGUE].entries(directory), query)
        except OSError as exc:
            log.warning("agent assist: catalogue %s not readable: %s", directory, exc)
        notes = await gateway.db.run(lambda c: search_notes(c, query))
    return render(
        request, "assist.html", query=query, handoff_id=handoff_id, services=services, notes=notes
    )


def add_assist(app: web.Application) -> None:
    """Registers the assist page."""
    app[CATALOGUE] = Catalogue()
    app.router.add_get("/agent/assist", assist_page)
