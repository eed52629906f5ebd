"""The requests API: bearer auth, strict validation naming the field, list/filter/get/done, and
an e-mail with no SMTP server configured (stored as not_configured, nothing sent).

The app is the real middleware and routes over a real SQLite database; only model loading and
Rasa are left out (they are not involved).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from voicebot.config import Settings
from voicebot.gateway import Gateway
from voicebot.store.calls import CallRecord, utc_now
from voicebot.web.app import api_auth
from voicebot.web.keys import GATEWAY
from voicebot.web.requests_api import add_requests_api

TOKEN = "test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
SPERRMUELL = {
    "kind": "sperrmuell",
    "call_id": "CA1",
    "data": {"postcode": "51373", "items": ["Sofa", "Kühlschrank"], "name": "Jürgen Müller"},
    "summary": "Sperrmüll: Sofa, Kühlschrank",
}
FORM = {
    "kind": "form_delivery",
    "call_id": "CA2",
    "data": {"form": "Wohngeld-Antrag", "delivery": "email"},
    "email": {
        "to": "juergen.mueller@example.org",
        "subject": "Ihr Formular: Wohngeld-Antrag",
        "body": "Guten Tag,\nanbei der Link zum Formular für Wohngeld.\nIhre Stadt Leverkusen",
    },
}
Scenario = Callable[[TestClient[web.Request, web.Application], Gateway], Awaitable[None]]


def run_api(tmp_path: Path, scenario: Scenario, settings: Settings | None = None) -> None:
    """Runs `scenario` against the requests API of a gateway on a fresh SQLite database."""
    settings = settings or Settings(data_dir=tmp_path, api_token=TOKEN)

    async def main() -> None:
        gateway = Gateway(settings)
        app = web.Application(middlewares=[api_auth])
        app[GATEWAY] = gateway
        add_requests_api(app)
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


def test_every_route_needs_the_bearer_token(tmp_path: Path) -> None:
    async def scenario(client: TestClient[web.Request, web.Application], _: Gateway) -> None:
        for method, path in [
            ("POST", "/api/requests"),
            ("GET", "/api/requests"),
            ("GET", "/api/requests/K7M42X"),
            ("POST", "/api/requests/K7M42X/done"),
            ("GET", "/api/outbox"),
        ]:
            for headers in ({}, {"Authorization": "Bearer wrong"}):
                resp = await client.request(method, path, json=SPERRMUELL, headers=headers)
                assert resp.status == 401, (method, path, headers)
        assert (await client.get("/api/requests", headers=AUTH)).status == 200

    run_api(tmp_path, scenario)


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ([1, 2], "body", "JSON object"),
        ({**SPERRMUELL, "kind": "hundesteuer"}, "kind", "appointment, sperrmuell, form_delivery"),
        ({k: v for k, v in SPERRMUELL.items() if k != "kind"}, "kind", "one of"),
        ({**SPERRMUELL, "call_id": ""}, "call_id", "non-empty"),
        ({**SPERRMUELL, "call_id": 17}, "call_id", "text"),
        ({**SPERRMUELL, "data": ["Sofa"]}, "data", "JSON object"),
        ({k: v for k, v in SPERRMUELL.items() if k != "data"}, "data", "JSON object"),
        ({**SPERRMUELL, "summary": 3}, "summary", "text"),
        ({**SPERRMUELL, "caller": "+49\r\n214"}, "caller", "single line"),
        ({**SPERRMUELL, "colour": "blue"}, "colour", "not a known field"),
        ({**SPERRMUELL, "email": "a@example.org"}, "email", "object"),
        ({**FORM, "email": {**FORM["email"], "to": "kein-at-zeichen"}}, "email.to", "address"),
        ({**FORM, "email": {**FORM["email"], "to": "a@b.de\r\nBcc: x@y.de"}}, "email.to", ""),
        ({**FORM, "email": {**FORM["email"], "subject": "a\r\nBcc: x@y.de"}}, "email.subject", ""),
        ({**FORM, "email": {**FORM["email"], "subject": ""}}, "email.subject", "non-empty"),
        ({**FORM, "email": {"to": "a@example.org", "subject": "S"}}, "email.body", "non-empty"),
        ({**FORM, "email": {**FORM["email"], "cc": "x@y.de"}}, "email.cc", "not a known"),
    ],
)
def test_a_bad_submission_gets_400_naming_the_field(
    tmp_path: Path, body: Any, field: str, words: str
) -> None:
    async def scenario(client: TestClient[web.Request, web.Application], gw: Gateway) -> None:
        resp = await client.post("/api/requests", json=body, headers=AUTH)
        assert resp.status == 400
        answer = await resp.json()
        assert answer["field"] == field and f"'{field}'" in answer["error"]
        assert words in answer["error"]
        assert await gw.requests.recent() == [], "nothing is stored"

    run_api(tmp_path, scenario)


def test_not_json_gets_400(tmp_path: Path) -> None:
    async def scenario(client: TestClient[web.Request, web.Application], _: Gateway) -> None:
        resp = await client.post("/api/requests", data=b"{kaputt", headers=AUTH)
        assert resp.status == 400 and (await resp.json())["field"] == "body"

    run_api(tmp_path, scenario)


def test_submit_list_filter_get_and_done(tmp_path: Path) -> None:
    async def scenario(client: TestClient[web.Request, web.Application], _: Gateway) -> None:
        resp = await client.post("/api/requests", json=SPERRMUELL, headers=AUTH)
        assert resp.status == 201
        first = await resp.json()
        assert first["kind"] == "sperrmuell" and first["status"] == "open"
        assert first["caller"] == "+49214", "taken from the call record"
        assert first["data"]["items"] == ["Sofa", "Kühlschrank"] and first["outbox"] == []
        assert first["id_spoken"].count(",") == 5 and first["kind_label"].startswith("Sperrmüll")
        appointment = {
            "kind": "appointment",
            "call_id": "CA3",
            "caller": "+4930123",
            "data": {"service": "Personalausweis", "date": "2026-12-01", "time": "09:30"},
        }
        resp = await client.post("/api/requests", json=appointment, headers=AUTH)
        second = await resp.json()
        assert resp.status == 201 and second["caller"] == "+4930123" and second["summary"] == ""

        listed = await (await client.get("/api/requests", headers=AUTH)).json()
        assert [r["id"] for r in listed] == [second["id"], first["id"]]
        only = await (await client.get("/api/requests?kind=sperrmuell", headers=AUTH)).json()
        assert [r["id"] for r in only] == [first["id"]]
        one = await (await client.get("/api/requests?limit=1", headers=AUTH)).json()
        assert len(one) == 1
        for query, field in [("kind=x", "kind"), ("status=closed", "status"), ("limit=a", "limit")]:
            resp = await client.get(f"/api/requests?{query}", headers=AUTH)
            assert resp.status == 400 and (await resp.json())["field"] == field
        resp = await client.get("/api/outbox?state=lost", headers=AUTH)
        assert resp.status == 400 and (await resp.json())["field"] == "state"

        typed = first["id"].lower()[:3] + " " + first["id"].lower()[3:]
        got = await (await client.get(f"/api/requests/{typed}", headers=AUTH)).json()
        assert got == first, "ids are read like handoff ids: case and spaces do not matter"
        assert (await client.get("/api/requests/ZZZZZZ", headers=AUTH)).status == 404
        assert (await client.post("/api/requests/ZZZZZZ/done", headers=AUTH)).status == 404

        resp = await client.post(f"/api/requests/{first['id']}/done", headers=AUTH)
        done = await resp.json()
        assert resp.status == 200 and done["status"] == "done" and done["done_at"]
        path = f"/api/requests/{second['id']}/done"
        resp = await client.post(path, json={"agent": 5}, headers=AUTH)
        assert resp.status == 400 and (await resp.json())["field"] == "agent"
        resp = await client.post(path, json={"agent": "anna", "note": "Termin 3.12."}, headers=AUTH)
        assert (await resp.json())["done_by"] == "anna"
        open_now = await (await client.get("/api/requests?status=open", headers=AUTH)).json()
        assert open_now == []
        done_now = await (await client.get("/api/requests?status=done", headers=AUTH)).json()
        assert len(done_now) == 2

    run_api(tmp_path, scenario)


def test_without_smtp_the_email_is_stored_not_configured_and_nothing_is_sent(
    tmp_path: Path,
) -> None:
    async def scenario(client: TestClient[web.Request, web.Application], gw: Gateway) -> None:
        assert not gw.mailer.enabled
        with mock.patch("smtplib.SMTP") as smtp:
            resp = await client.post("/api/requests", json=FORM, headers=AUTH)
            assert resp.status == 201
            stored = await resp.json()
            await asyncio.sleep(0.3)
            assert await gw.mailer.run_once() == 0
        assert not smtp.called, "no SMTP connection is even tried"
        (entry,) = stored["outbox"]
        assert entry["state"] == "not_configured" and entry["attempts"] == 0
        assert entry["recipient"] == FORM["email"]["to"] and entry["sent_at"] is None
        assert entry["body"].startswith("Guten Tag,\nanbei") and entry["request_id"] == stored["id"]
        listed = await (await client.get("/api/outbox?state=not_configured", headers=AUTH)).json()
        assert [e["id"] for e in listed] == [entry["id"]]
        assert await (await client.get("/api/outbox?state=pending", headers=AUTH)).json() == []
        got = await (await client.get(f"/api/requests/{stored['id']}", headers=AUTH)).json()
        assert got["outbox"][0]["state"] == "not_configured"

    run_api(tmp_path, scenario)


def test_openapi_describes_the_submission_and_the_states_the_code_uses() -> None:
    from tests.unit.test_handoff_openapi import load_spec
    from voicebot.store.requests import KINDS, OUTBOX_STATES, STATUSES
    from voicebot.web.request_submission import EMAIL_FIELDS, FIELDS

    schemas = load_spec()["components"]["schemas"]
    submission = schemas["RequestSubmission"]["properties"]
    assert tuple(submission) == FIELDS and tuple(submission["email"]["properties"]) == EMAIL_FIELDS
    assert tuple(submission["kind"]["enum"]) == KINDS
    assert tuple(schemas["ServiceRequest"]["properties"]["status"]["enum"]) == STATUSES
    assert tuple(schemas["OutboxEntry"]["properties"]["state"]["enum"]) == OUTBOX_STATES


def test_a_repeated_post_with_the_same_idempotency_key_stores_and_sends_nothing_new(
    tmp_path: Path,
) -> None:
    async def scenario(client: TestClient[web.Request, web.Application], gw: Gateway) -> None:
        keyed = {**AUTH, "Idempotency-Key": "CA2:form_delivery:3f9a"}
        first = await client.post("/api/requests", json=FORM, headers=keyed)
        again = await client.post("/api/requests", json=FORM, headers=keyed)
        other = await client.post(
            "/api/requests", json=FORM, headers={**AUTH, "Idempotency-Key": "other"}
        )
        unkeyed = await client.post("/api/requests", json=FORM, headers=AUTH)
        assert (first.status, again.status, other.status, unkeyed.status) == (201, 200, 201, 201)
        stored, repeated = await first.json(), await again.json()
        assert repeated["id"] == stored["id"] and repeated["outbox"] == stored["outbox"]
        assert (await other.json())["id"] != stored["id"]
        listed = await (await client.get("/api/requests", headers=AUTH)).json()
        assert len(listed) == 3
        outbox = await (await client.get("/api/outbox", headers=AUTH)).json()
        assert sorted(e["request_id"] for e in outbox) == sorted(r["id"] for r in listed)

    run_api(tmp_path, scenario)


@pytest.mark.parametrize("key", ["", "a b", "x" * 129, "ü"])
def test_a_malformed_idempotency_key_gets_400_and_stores_nothing(tmp_path: Path, key: str) -> None:
    async def scenario(client: TestClient[web.Request, web.Application], gw: Gateway) -> None:
        headers = {**AUTH, "Idempotency-Key": key}
        resp = await client.post("/api/requests", json=SPERRMUELL, headers=headers)
        assert resp.status == 400
        assert (await resp.json())["field"] == "Idempotency-Key"
        assert await (await client.get("/api/requests", headers=AUTH)).json() == []

    run_api(tmp_path, scenario)
