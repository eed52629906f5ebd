"""The stored requests in the agent console: session auth, CSRF on the done action, filters,
German labels and times, escaping of caller-provided text, 404, the live channel, and the
link between a handoff and the requests of its call.

The app is the real middleware and routes over a real SQLite database; only model loading and
Rasa are left out (they are not involved).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from voicebot.config import ConsoleSettings, Settings
from voicebot.gateway import Gateway
from voicebot.store.calls import CallRecord, utc_now
from voicebot.store.handoffs import Handoff
from voicebot.store.requests import ServiceRequest
from voicebot.web.agent_auth import agent_auth, hash_password
from voicebot.web.agent_console import add_agent_console
from voicebot.web.app import api_auth
from voicebot.web.keys import GATEWAY
from voicebot.web.request_display import readable_fields, readable_value
from voicebot.web.requests_api import add_requests_api

TOKEN = "test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
PASSWORD = "anna-passwort-1"
HOSTILE = '<script>alert("x")</script>'
APPOINTMENT = {
    "kind": "appointment",
    "call_id": "CA1",
    "data": {"service": "Personalausweis", "preferred_date": "2026-12-01", "flexible": True},
    "summary": "Termin: Personalausweis",
}
SPERRMUELL = {
    "kind": "sperrmuell",
    "call_id": "CA2",
    "caller": "+4921499",
    "data": {
        "postcode": "51373",
        "items": ["Sofa", "Kühlschrank"],
        "address": {"street": "Friedrich-Ebert-Platz", "house_number": "1"},
        "etage": 3,
    },
    "summary": "Sperrmüll: Sofa, Kühlschrank",
}
FORM = {
    "kind": "form_delivery",
    "call_id": "CA3",
    "data": {"form": "Wohngeld-Antrag", "delivery": "email"},
    "summary": "Formular: Wohngeld-Antrag",
    "email": {"to": "j.mueller@example.org", "subject": "Ihr Formular", "body": "Guten Tag"},
}
Client = TestClient[web.Request, web.Application]
Scenario = Callable[[Client, Gateway], Awaitable[None]]


def run_console(tmp_path: Path, scenario: Scenario) -> None:
    """Runs `scenario` against the console and the requests API on a fresh SQLite database."""
    console = ConsoleSettings(agents={"anna": hash_password(PASSWORD)})
    settings = Settings(data_dir=tmp_path, api_token=TOKEN, console=console)

    async def main() -> None:
        gateway = Gateway(settings)
        app = web.Application(middlewares=[api_auth, agent_auth])
        app[GATEWAY] = gateway
        add_requests_api(app)
        add_agent_console(app, ZoneInfo("Europe/Berlin"))
        await gateway.store.open()
        await gateway.store.start_call(CallRecord("CA1", "sip", "de", utc_now(), caller="+49214"))
        gateway.mailer.start()
        try:
            async with TestClient(TestServer(app)) as client:
                await scenario(client, gateway)
        finally:
            await gateway.mailer.stop()
            await gateway.store.close()

    asyncio.run(main())


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, "the page carries a CSRF token"
    return found.group(1)


async def log_in(client: Client) -> str:
    """Logs anna in; returns the session's CSRF token."""
    login_csrf = csrf_of(await (await client.get("/agent/login")).text())
    form = {"name": "anna", "password": PASSWORD, "csrf_token": login_csrf}
    resp = await client.post("/agent/login", data=form, allow_redirects=False)
    assert resp.status == 303
    return csrf_of(await (await client.get("/agent/requests")).text())


async def store(client: Client, body: dict[str, Any]) -> dict[str, Any]:
    resp = await client.post("/api/requests", json=body, headers=AUTH)
    assert resp.status == 201, await resp.text()
    stored: dict[str, Any] = await resp.json()
    return stored


async def page(client: Client, path: str, status: int = 200) -> str:
    resp = await client.get(path, allow_redirects=False)
    text = await resp.text()
    assert resp.status == status, (path, resp.status, text)
    return text


def row_ids(html: str) -> list[str]:
    return re.findall(r'data-request-id="([A-Z0-9]+)"', html)


def test_every_console_route_needs_a_session(tmp_path: Path) -> None:
    async def scenario(client: Client, _: Gateway) -> None:
        stored = await store(client, APPOINTMENT)
        for path in ("/agent/requests", f"/agent/requests/{stored['id']}"):
            resp = await client.get(path, allow_redirects=False)
            assert resp.status == 303 and resp.headers["Location"] == "/agent/login", path
        resp = await client.post(f"/agent/requests/{stored['id']}/done", data={"note": "x"})
        assert resp.status == 401
        resp = await client.get("/agent/ws?view=requests")
        assert resp.status == 401
        resp = await client.get("/api/requests", headers={"Authorization": "Bearer wrong"})
        assert resp.status == 401, "the console's session is no key to the API and back"

    run_console(tmp_path, scenario)


def test_list_is_newest_first_filtered_in_german_with_the_mail_state(tmp_path: Path) -> None:
    async def scenario(client: Client, gateway: Gateway) -> None:
        await log_in(client)
        first, second, third = [await store(client, b) for b in (APPOINTMENT, SPERRMUELL, FORM)]
        html = await page(client, "/agent/requests")
        assert row_ids(html) == [third["id"], second["id"], first["id"]]
        assert "Terminanfrage" in html and "Sperrmüll-Anmeldung (Vorprüfung)" in html
        assert "Formularversand" in html and "Sperrmüll: Sofa, Kühlschrank" in html
        assert "nicht versandt: kein Mailserver eingerichtet" in html
        assert first["id_spoken"] in html and "+4921499" in html
        assert ">+49214</td>" in html, "the caller number of the recorded call"
        kind = await page(client, "/agent/requests?kind=sperrmuell")
        assert row_ids(kind) == [second["id"]]
        await gateway.requests.mark_done(second["id"], datetime.now(timezone.utc), "ben")
        assert second["id"] not in row_ids(await page(client, "/agent/requests?status=open"))
        assert row_ids(await page(client, "/agent/requests?status=done")) == [second["id"]]
        assert len(row_ids(await page(client, "/agent/requests?status=all"))) == 3
        await page(client, "/agent/requests?kind=bogus", 400)
        await page(client, "/agent/requests?status=bogus", 400)
        # times in Europe/Berlin, German format: 10:00 UTC in July is 12:00 in Leverkusen
        summer = ServiceRequest("", "appointment", "CA9", "2026-07-01T10:00:00+00:00")
        await gateway.requests.insert(summer)
        assert "01.07.2026 12:00" in await page(client, "/agent/requests?kind=appointment")

    run_console(tmp_path, scenario)


def test_detail_shows_readable_data_the_mails_and_a_404(tmp_path: Path) -> None:
    async def scenario(client: Client, _: Gateway) -> None:
        await log_in(client)
        sperrmuell, form = await store(client, SPERRMUELL), await store(client, FORM)
        html = await page(client, f"/agent/requests/{sperrmuell['id']}")
        assert "<th>Postleitzahl</th><td>51373</td>" in html
        assert "<th>Gegenstände</th><td>Sofa, Kühlschrank</td>" in html
        assert "<th>Adresse › Straße</th><td>Friedrich-Ebert-Platz</td>" in html
        assert "<th>etage</th><td>3</td>" in html, "an unknown field keeps its name"
        assert sperrmuell["id_spoken"] in html and "Als erledigt markieren" in html
        assert "keine E-Mail" in html
        html = await page(client, f"/agent/requests/{form['id']}")
        assert "j.mueller@example.org" in html and "Ihr Formular" in html
        assert "nicht versandt: kein Mailserver eingerichtet" in html
        assert "<th>Zustellweg</th><td>E-Mail</td>" in html
        # the id as the caller reads it out also opens it, and so does the search box
        spaced = " ".join(form["id"].lower())
        assert form["id"] in await page(client, f"/agent/requests/{spaced}")
        resp = await client.get(f"/agent/search?id={spaced}", allow_redirects=False)
        assert resp.headers["Location"] == f"/agent/requests/{form['id']}"
        assert "Kein solches Anliegen" in await page(client, "/agent/requests/ZZZZZZ", 404)

    run_console(tmp_path, scenario)


def test_caller_provided_text_is_escaped_everywhere(tmp_path: Path) -> None:
    async def scenario(client: Client, _: Gateway) -> None:
        await log_in(client)
        body = {
            "kind": "appointment",
            "call_id": "CA1",
            "caller": '"><img src=x onerror=alert(1)>',
            "data": {HOSTILE: HOSTILE, "nested": {"x": [HOSTILE]}},
            "summary": HOSTILE,
        }
        stored = await store(client, body)
        async with client.ws_connect("/agent/ws?view=requests") as ws:
            live = (await ws.receive_json(timeout=5))["rows_html"]
        for html in (
            await page(client, "/agent/requests"),
            await page(client, f"/agent/requests/{stored['id']}"),
            live,
        ):
            assert "<script>" not in html and "<img" not in html
            assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html

    run_console(tmp_path, scenario)


def test_mark_done_needs_the_csrf_token_and_records_the_agent(tmp_path: Path) -> None:
    async def scenario(client: Client, gateway: Gateway) -> None:
        csrf = await log_in(client)
        stored = await store(client, APPOINTMENT)
        path = f"/agent/requests/{stored['id']}/done"
        for forged in ({}, {"csrf_token": ""}, {"csrf_token": "wrong"}):
            resp = await client.post(path, data={"note": "x", **forged}, allow_redirects=False)
            assert resp.status == 403, forged
        assert (await gateway.requests.get(stored["id"]) or stored).status == "open"
        with gateway.hub.subscribe() as events:
            form = {"note": "Termin <b>bestätigt</b>", "csrf_token": csrf}
            resp = await client.post(path, data=form, allow_redirects=False)
            assert resp.status == 303
            assert resp.headers["Location"] == f"/agent/requests/{stored['id']}"
            assert events.get_nowait()["type"] == "request_done"
        done = await gateway.requests.get(stored["id"])
        assert done and (done.status, done.done_by) == ("done", "anna")
        assert done.note == "Termin <b>bestätigt</b>"
        html = await page(client, f"/agent/requests/{stored['id']}")
        assert "Erledigt von" in html and "Termin &lt;b&gt;bestätigt&lt;/b&gt;" in html
        assert "Als erledigt markieren" not in html
        assert stored["id"] not in row_ids(await page(client, "/agent/requests"))
        resp = await client.post(path, data={"csrf_token": csrf}, allow_redirects=False)
        assert resp.status == 409 and "bereits von anna erledigt" in await resp.text()
        resp = await client.post("/agent/requests/ZZZZZZ/done", data={"csrf_token": csrf})
        assert resp.status == 404

    run_console(tmp_path, scenario)


def test_live_channel_sends_a_new_request_without_reload(tmp_path: Path) -> None:
    async def scenario(client: Client, _: Gateway) -> None:
        await log_in(client)
        first = await store(client, APPOINTMENT)
        async with client.ws_connect("/agent/ws?view=requests&kind=appointment") as ws:
            message = await ws.receive_json(timeout=5)
            assert message["type"] == "requests" and message["ids"] == [first["id"]]
            await store(client, SPERRMUELL)  # another kind: filtered out
            second = await store(client, APPOINTMENT | {"call_id": "CA7"})
            message = await ws.receive_json(timeout=5)
            assert message["ids"] == [second["id"], first["id"]], message["ids"]
            assert second["id_spoken"] in message["rows_html"]
        async with client.ws_connect("/agent/ws") as ws:
            assert (await ws.receive_json(timeout=5))["type"] == "queue", "the default view"

    run_console(tmp_path, scenario)


def test_handoff_detail_links_the_requests_of_its_call(tmp_path: Path) -> None:
    async def scenario(client: Client, gateway: Gateway) -> None:
        await log_in(client)
        mine, other = await store(client, APPOINTMENT), await store(client, SPERRMUELL)
        now = "2026-11-24T10:00:00+00:00"
        handoff = Handoff(
            "K7M42X", "CA1", "transfer", "open", now, now, "de", "caller_request",
            "buergerbuero", "Termin", "Termin: Personalausweis",
        )  # fmt: skip
        await gateway.handoff_store.insert(handoff)
        html = await page(client, "/agent/handoffs/K7M42X")
        assert f'href="/agent/requests/{mine["id"]}"' in html
        assert other["id"] not in html and "Terminanfrage" in html
        html = await page(client, f"/agent/requests/{mine['id']}")
        assert 'href="/agent/handoffs/K7M42X"' in html

    run_console(tmp_path, scenario)


def test_collected_data_reads_like_a_form() -> None:
    rows = readable_fields(
        {
            "consent": False,
            "date": "2026-12-01",
            "zahl": 1.5,
            "empty": None,
            "kids": [{"name": "A"}],
        }
    )
    assert rows == [
        ("Einwilligung", "Nein"),
        ("Datum", "01.12.2026"),
        ("zahl", "1,5"),
        ("empty", "–"),
        ("kids 1 › Name", "A"),
    ]
    assert readable_value("2026-13-45") == "2026-13-45"
    assert readable_value([]) == "–"


def test_a_refused_accept_still_shows_the_requests_of_the_call(tmp_path: Path) -> None:
    class TakenService:
        """Stands in for the handoff service: ben was faster."""

        def __init__(self, handoff: Handoff) -> None:
            self.handoff = handoff

        async def accept(self, handoff_id: str, agent: str) -> tuple[str, Handoff]:
            self.handoff.status, self.handoff.agent = "accepted", "ben"
            return "taken", self.handoff

    async def scenario(client: Client, gateway: Gateway) -> None:
        csrf = await log_in(client)
        mine = await store(client, APPOINTMENT)
        now = "2026-11-24T10:00:00+00:00"
        handoff = Handoff(
            "K7M42X", "CA1", "transfer", "open", now, now, "de", "caller_request",
            "buergerbuero", "Termin", "Termin: Personalausweis",
        )  # fmt: skip
        await gateway.handoff_store.insert(handoff)
        gateway.handoffs = TakenService(handoff)  # type: ignore[assignment]
        resp = await client.post("/agent/handoffs/K7M42X/accept", data={"csrf_token": csrf})
        html = await resp.text()
        assert resp.status == 409 and "bereits von ben übernommen" in html
        assert f'href="/agent/requests/{mine["id"]}"' in html

    run_console(tmp_path, scenario)
