"""Agent assist: the fuzzy catalogue search over the real catalogue files, and the assist page
with colleagues' notes behind the console login (real middleware, routes and SQLite)."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from tests.support import ROOT
from voicebot.config import ConsoleSettings, RasaSettings, Settings
from voicebot.gateway import Gateway
from voicebot.store.handoffs import Handoff
from voicebot.web import catalogue_search as cs
from voicebot.web.agent_auth import agent_auth, hash_password
from voicebot.web.agent_console import add_agent_console
from voicebot.web.app import api_auth
from voicebot.web.console_assist import add_assist
from voicebot.web.keys import GATEWAY

CATALOGUE = ROOT / "rasa_project" / "catalogue"
PASSWORD = "anna-passwort-1"


def catalogue() -> list[cs.Entry]:
    files = sorted(CATALOGUE.glob("*.yml"))
    return cs.entries([yaml.safe_load(p.read_text(encoding="utf-8")) for p in files])


@pytest.mark.parametrize(
    ("query", "first"),
    [
        ("Perso", "personalausweis"),
        ("PERSONALAUSWEIS", "personalausweis"),
        ("reisepas", "reisepass"),  # a letter missing
        ("Reisepässe", "reisepass"),
        ("sperrmuell", "sperrmuell"),
        ("Ausweis verloren", "ausweis_verlust"),
    ],
)
def test_fuzzy_case_insensitive_search(query: str, first: str) -> None:
    found = cs.search(catalogue(), query)
    assert found and found[0].service_id == first


def test_the_facts_to_read_out() -> None:
    (perso,) = [e for e in catalogue() if e.service_id == "personalausweis"]
    assert perso.fee == "37,00 €; Unter 24 Jahren: 22,80 €"
    assert "ein aktuelles biometrisches Passfoto" in perso.documents
    assert perso.office == "Bürgerbüro" and "51373 Leverkusen" in perso.address
    assert perso.hours[0] == "Mo-Mi: 08:00-16:00"
    assert cs.search(catalogue(), "xyzzy") == [] and cs.search(catalogue(), "a") == []
    assert cs.fee_text({"free": True}) == "kostenlos"
    assert cs.fee_text({"min_cents": 1000, "max_cents": 5000, "period": "year"}) == (
        "10,00 € bis 50,00 € pro Jahr"
    )


def handoff(handoff_id: str, status: str, note: str | None, topic: str) -> Handoff:
    at = "2026-11-20T09:00:00.000+00:00"
    return Handoff(
        handoff_id, f"CA{handoff_id}", "transfer", status, at, at, "de", "caller_request",
        "buergerbuero", topic, f"{topic}: Frage", closed_at=at if status == "closed" else None,
        note=note, agent="ben",
    )  # fmt: skip


def test_assist_page_finds_the_catalogue_and_notes(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path,
        console=ConsoleSettings(agents={"anna": hash_password(PASSWORD)}),
        rasa=RasaSettings(project_dir=ROOT / "rasa_project"),
    )

    async def main() -> None:
        gateway = Gateway(settings)
        app = web.Application(middlewares=[api_auth, agent_auth])
        app[GATEWAY] = gateway
        add_agent_console(app, ZoneInfo("Europe/Berlin"))
        add_assist(app)
        await gateway.store.open()
        for h in (
            handoff("K7M42X", "open", None, "Reisepass"),
            handoff("B3C4D5", "closed", "Reisepass im Expressverfahren: 3 Tage", "Reisepass"),
            handoff("F6G7H8", "closed", "Sperrmüll-Termin genannt", "Sperrmüll"),
        ):
            assert await gateway.handoff_store.insert(h)
        try:
            async with TestClient(TestServer(app)) as client:
                resp = await client.get("/agent/assist?q=Reisepass", allow_redirects=False)
                assert resp.status == 303, "only logged-in users"
                page = await (await client.get("/agent/login")).text()
                token = re.search(r'name="csrf_token" value="([^"]+)"', page)
                assert token
                form = {"name": "anna", "password": PASSWORD, "csrf_token": token.group(1)}
                await client.post("/agent/login", data=form)
                detail = await (await client.get("/agent/handoffs/K7M42X")).text()
                assert 'action="/agent/assist"' in detail and 'value="K7M42X"' in detail
                html = await (await client.get("/agent/assist?q=reisepass&vorgang=K7M42X")).text()
                assert 'data-service="reisepass"' in html and "Unterlagen" in html
                assert 'href="/agent/handoffs/K7M42X"' in html
                assert 'data-handoff-id="B3C4D5"' in html and "Expressverfahren" in html
                assert "F6G7H8" not in html, "the notes must hold every word"
                nothing = await (await client.get("/agent/assist?q=xyzzy")).text()
                assert 'id="no-services"' in nothing and 'id="no-notes"' in nothing
        finally:
            await gateway.store.close()

    asyncio.run(main())
