"""A handoff call against the real stack, then the console's auth rules and the handoff API.

One call (greetings, then DTMF 0 = "a person, please") creates the handoff that these
tests share; each test leaves the others' preconditions intact or checks its own state.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import aiohttp
import pytest

from tests.support import AGENTS, FIXTURES, HOOK_SECRET, Stack, turns
from voicebot.caller import CallResult, load_caller_audio, place_call
from voicebot.handoff.signing import verify

pytestmark = pytest.mark.integration
T = TypeVar("T")
CALLER = "+4921477001"


def run(fn: Callable[[], Awaitable[T]]) -> T:
    return asyncio.run(fn())  # type: ignore[arg-type]


class Console:
    """An agent's browser session, at the HTTP level."""

    def __init__(self, stack: Stack) -> None:
        self.base = stack.http_url
        self.http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        self.csrf = ""

    async def __aenter__(self) -> Console:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.http.close()

    async def get(self, path: str) -> tuple[int, str, aiohttp.ClientResponse]:
        async with self.http.get(self.base + path, allow_redirects=False) as resp:
            text = await resp.text()
            found = re.search(r'name="csrf_token" value="([^"]+)"', text)
            if found:
                self.csrf = found.group(1)
            return resp.status, text, resp

    async def post(
        self, path: str, data: dict[str, str], csrf: str | None = None
    ) -> tuple[int, str, aiohttp.ClientResponse]:
        form = dict(data)
        if csrf is not None:
            form["csrf_token"] = csrf
        async with self.http.post(self.base + path, data=form, allow_redirects=False) as resp:
            return resp.status, await resp.text(), resp

    async def login(self, name: str, password: str) -> tuple[int, aiohttp.ClientResponse]:
        await self.get("/agent/login")
        status, _, resp = await self.post(
            "/agent/login", {"name": name, "password": password}, self.csrf
        )
        if status == 303:
            await self.get("/agent")  # picks up the session's CSRF token
        return status, resp


async def api(
    stack: Stack, method: str, path: str, body: dict[str, Any] | None = None
) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {stack.token}"}
    async with (
        aiohttp.ClientSession() as http,
        http.request(method, stack.http_url + path, json=body, headers=headers) as resp,
    ):
        return resp.status, await resp.json(content_type=None)


@pytest.fixture(scope="module")
def handoff_call(stack: Stack) -> tuple[CallResult, dict[str, Any]]:
    """One call that ends in a handoff, and that handoff as the API shows it."""
    # two greetings: the synthetic clips are sometimes missed by the VAD, one is enough
    audio = [load_caller_audio(FIXTURES / f) for f in ("hallo_guten_morgen.wav", "guten_abend.wav")]
    result = asyncio.run(
        place_call(
            stack.media_url,
            audio,
            api_token=stack.token,
            caller=CALLER,
            dtmf="0",
            answer_timeout=40,  # the last answer: "ich verbinde" plus the spelt id
            quiet_after_answer=4.0,  # a caller waits through the handover, not 1.2 s
        )
    )

    async def find() -> dict[str, Any]:
        for _ in range(50):
            status, handoffs = await api(stack, "GET", "/api/handoffs?limit=500")
            assert status == 200
            mine = [h for h in handoffs if h["call_id"] == result.call_sid]
            if mine:
                return (await api(stack, "GET", f"/api/handoffs/{mine[0]['handoff_id']}"))[1]
            await asyncio.sleep(0.2)
        raise AssertionError("the call did not create a handoff")

    return result, run(find)


def test_the_call_is_handed_over_with_its_id_a_transfer_hook_and_a_crm_ticket(
    stack: Stack, handoff_call: tuple[CallResult, dict[str, Any]]
) -> None:
    result, handoff = handoff_call
    handoff_id = handoff["handoff_id"]
    # the call side: the caller heard the id, then the stream ended cleanly for the transfer
    assert result.close_code == 1000 and result.close_reason == "handoff"
    assert result.record and result.record["end_reason"] == "handoff"
    last_bot = turns(result, "bot")[-1]["text"]
    assert "Vorgangsnummer" in last_bot and " ".join(handoff_id) in last_bot
    # the record: transcript with the caller's words and confidence, slots, summary, target
    caller_turns = [t for t in handoff["transcript"] if t["speaker"] == "caller"]
    assert [t["text"] for t in caller_turns] == [t["text"] for t in turns(result, "caller")]
    spoken = [t for t in caller_turns if not t["dtmf"]]
    assert spoken and spoken[0]["asr_confidence"] is not None and spoken[0]["at"]
    assert handoff["slots"]["dtmf_choice"] == "human"
    assert handoff["last_intent"] == "dtmf" and handoff["last_intent_confidence"] is not None
    assert handoff["caller"] == CALLER and handoff["reason"] == "caller_request"
    assert handoff["department"] == "buergerbuero" and handoff["kind"] == "transfer"
    assert handoff["target"] == "sip:buergerbuero@pbx.test" and handoff["summary"]
    # the platform's transfer hook got a signed request with the id and the target
    assert stack.hooks is not None
    hook = stack.hooks.wait_for(
        "/transfer", lambda r: json.loads(r.body)["handoff_id"] == handoff_id
    )
    body = json.loads(hook.body)
    assert body["target"] == "sip:buergerbuero@pbx.test" and body["call_id"] == result.call_sid
    assert verify(
        HOOK_SECRET,
        hook.headers["X-Voicebot-Timestamp"],
        hook.body,
        hook.headers["X-Voicebot-Signature"],
    )
    # the CRM got the handoff once, signed
    crm = stack.hooks.wait_for(
        "/crm", lambda r: json.loads(r.body)["handoff"]["handoff_id"] == handoff_id
    )
    assert verify(
        HOOK_SECRET,
        crm.headers["X-Voicebot-Timestamp"],
        crm.body,
        crm.headers["X-Voicebot-Signature"],
    )
    copies = [r for r in stack.hooks.received("/crm") if handoff_id.encode() in r.body]
    assert len(copies) == 1


def test_console_without_a_session_redirects_or_refuses(
    stack: Stack, handoff_call: tuple[CallResult, dict[str, Any]]
) -> None:
    handoff_id = handoff_call[1]["handoff_id"]

    async def scenario() -> None:
        async with Console(stack) as anonymous:
            for path in ("/agent", f"/agent/handoffs/{handoff_id}", "/agent/search?id=X"):
                status, _, resp = await anonymous.get(path)
                assert status == 303 and resp.headers["Location"] == "/agent/login", path
            status, _, _ = await anonymous.post(f"/agent/handoffs/{handoff_id}/accept", {})
            assert status == 401
            status, _, _ = await anonymous.get("/agent/ws")
            assert status == 401
            status, text, _ = await anonymous.get("/agent/login")
            assert status == 200 and "Anmeldung" in text and "30 Tagen" in text
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{stack.http_url}/api/handoffs") as resp:
                assert resp.status == 401
            async with http.get(f"{stack.http_url}/agent/static/console.css") as resp:
                assert resp.status == 200  # public, and served locally

    run(scenario)


def test_wrong_password_fails_and_the_right_one_sets_a_strict_cookie(stack: Stack) -> None:
    async def scenario() -> None:
        async with Console(stack) as console:
            status, resp = await console.login("anna", "falsch")
            assert status == 401 and "voicebot_agent" not in resp.cookies
            status, resp = await console.login("niemand", AGENTS["anna"])
            assert status == 401
            status, resp = await console.login("anna", AGENTS["anna"])
            assert status == 303 and resp.headers["Location"] == "/agent"
            cookie = resp.headers.getall("Set-Cookie")
            session = next(c for c in cookie if c.startswith("voicebot_agent="))
            assert "HttpOnly" in session and "SameSite=Strict" in session
            status, text, _ = await console.get("/agent")
            assert status == 200 and "Offene Übergaben" in text and "anna" in text
            assert "nach <strong>30 Tagen</strong>" in text  # the retention period is shown
            status, _, _ = await console.post("/agent/logout", {}, console.csrf)
            assert status == 303
            status, _, _ = await console.get("/agent")
            assert status == 303, "the session ended on the server"

    run(scenario)


def test_csrf_token_is_enforced_on_every_form(
    stack: Stack, handoff_call: tuple[CallResult, dict[str, Any]]
) -> None:
    handoff_id = handoff_call[1]["handoff_id"]

    async def scenario() -> None:
        async with Console(stack) as console:
            await console.get("/agent/login")
            status, _, _ = await console.post(
                "/agent/login", {"name": "ben", "password": AGENTS["ben"]}, "forged"
            )
            assert status == 403, "login form without its CSRF token"
            assert (await console.login("ben", AGENTS["ben"]))[0] == 303
            before = (await api(stack, "GET", f"/api/handoffs/{handoff_id}"))[1]
            for csrf in (None, "", "wrong-token"):
                for action in ("accept", "close"):
                    path = f"/agent/handoffs/{handoff_id}/{action}"
                    status, _, _ = await console.post(path, {"note": "x"}, csrf)
                    assert status == 403, (action, csrf)
            status, _, _ = await console.post("/agent/logout", {})
            assert status == 403
            after = (await api(stack, "GET", f"/api/handoffs/{handoff_id}"))[1]
            assert (after["status"], after["agent"]) == (before["status"], before["agent"])

    run(scenario)


def test_one_agent_cannot_close_another_agents_handoff(
    stack: Stack, handoff_call: tuple[CallResult, dict[str, Any]]
) -> None:
    handoff_id = handoff_call[1]["handoff_id"]

    async def scenario() -> None:
        async with Console(stack) as anna, Console(stack) as ben:
            await anna.login("anna", AGENTS["anna"])
            await ben.login("ben", AGENTS["ben"])
            # search by the id as the caller reads it out, in lower case with spaces
            status, _, resp = await anna.get(f"/agent/search?id={' '.join(handoff_id.lower())}")
            assert status == 303 and resp.headers["Location"] == f"/agent/handoffs/{handoff_id}"
            status, _, _ = await anna.get("/agent/search?id=ZZZZZZ")
            assert status == 404
            await anna.get(f"/agent/handoffs/{handoff_id}")
            status, _, _ = await anna.post(f"/agent/handoffs/{handoff_id}/accept", {}, anna.csrf)
            assert status == 303
            await ben.get(f"/agent/handoffs/{handoff_id}")
            status, text, _ = await ben.post(f"/agent/handoffs/{handoff_id}/accept", {}, ben.csrf)
            assert status == 409 and "anna" in text
            status, text, _ = await ben.post(
                f"/agent/handoffs/{handoff_id}/close", {"note": "fremd"}, ben.csrf
            )
            assert status == 409
            status, body = await api(
                stack, "POST", f"/api/handoffs/{handoff_id}/close", {"agent": "ben", "note": "x"}
            )
            assert status == 409 and "anna" in body["error"]
            current = (await api(stack, "GET", f"/api/handoffs/{handoff_id}"))[1]
            assert current["status"] == "accepted" and current["agent"] == "anna"
            status, _, _ = await anna.post(
                f"/agent/handoffs/{handoff_id}/close", {"note": "Rückruf erledigt"}, anna.csrf
            )
            assert status == 303
            status, text, _ = await anna.get(f"/agent/handoffs/{handoff_id}")
            assert "Rückruf erledigt" in text and "abgeschlossen" in text

    run(scenario)
    status, body = run(lambda: api(stack, "GET", f"/api/handoffs/{handoff_id}"))
    assert status == 200 and body["status"] == "closed" and body["note"] == "Rückruf erledigt"


def test_handoff_api_validates_and_filters(stack: Stack) -> None:
    async def scenario() -> None:
        status, _ = await api(stack, "GET", "/api/handoffs/ZZZZZZ")
        assert status == 404
        status, _ = await api(stack, "GET", "/api/handoffs?status=bogus")
        assert status == 400
        status, items = await api(stack, "GET", "/api/handoffs?status=open,accepted&limit=5")
        assert status == 200 and all(h["status"] in ("open", "accepted") for h in items)
        assert all("transcript" not in h for h in items)
        status, _ = await api(stack, "POST", "/api/handoffs/ZZZZZZ/accept", {"agent": "anna"})
        assert status == 404

    run(scenario)
