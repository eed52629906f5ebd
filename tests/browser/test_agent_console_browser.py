"""An agent in a real browser (headless Chromium from Debian) takes a handoff from a live call.

The agent logs in, a test call asks for a person (DTMF 0 after greeting the bot), the handoff
appears in the open queue without a reload, the agent opens it, sees the caller's words and the
collected slots, accepts and closes it. A stored request (POST /api/requests) appears in the
console's "Anliegen" list without a reload; the agent reads its data and marks it done.
Screenshots at 1366x768 go to test-artifacts/.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.console_server import ConsoleServer
from tests.browser.webdriver import CHROMEDRIVER, CHROMIUM, Browser
from tests.support import AGENTS, ARTIFACTS, FIXTURES, Stack
from voicebot.caller import CallResult, load_caller_audio, place_call

pytestmark = pytest.mark.integration
CALLER = "+4921477042"
WIDTH, HEIGHT = 1366, 768
# Two short greetings before DTMF 0: the synthetic clips are sometimes missed by the VAD,
# and the caller's words must reach the transcript in any case.
GREETINGS = ["hallo_guten_morgen.wav"]
ASK_FOR_A_PERSON = "mitarbeiter_bitte.wav"  # Whisper hears it in every VAD window phase


@pytest.fixture
def browser() -> Iterator[Browser]:
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        pytest.skip(
            f"{', '.join(missing)} missing: install the Debian packages chromium and "
            "chromium-driver (scripts/bootstrap.sh does when run as root)"
        )
    session = Browser(WIDTH, HEIGHT)
    try:
        yield session
    finally:
        session.quit()


def fits_the_screen(browser: Browser) -> bool:
    """No horizontal scrolling at 1366 px."""
    width = browser.run("return document.documentElement.scrollWidth")
    return bool(width <= WIDTH)


def api_get(stack: Stack, path: str) -> Any:
    request = urllib.request.Request(stack.http_url + path)
    request.add_header("Authorization", f"Bearer {stack.token}")
    with urllib.request.urlopen(request, timeout=10) as resp:
        return json.loads(resp.read())


def test_agent_takes_a_live_handoff_in_the_browser(stack: Stack, browser: Browser) -> None:
    # log in
    browser.get(stack.http_url + "/agent")
    assert browser.url.endswith("/agent/login"), "without a session the console asks to log in"
    browser.type("#name", "anna")
    browser.type("#password", AGENTS["anna"])
    browser.click("#login-submit")
    browser.wait(lambda: browser.url.endswith("/agent"), message="the queue after login")
    browser.wait(lambda: browser.text("#live-status") == "live", message="the live connection")
    assert "30 Tagen" in browser.text("#retention")
    browser.run("window.voicebotSamePage = true;")  # survives only if the page never reloads

    # a caller greets the bot and asks for a person, by voice
    calls: dict[str, CallResult] = {}

    def call() -> None:
        audio = [load_caller_audio(FIXTURES / name) for name in (*GREETINGS, ASK_FOR_A_PERSON)]
        calls["result"] = asyncio.run(
            place_call(
                stack.media_url,
                audio,
                api_token=stack.token,
                caller=CALLER,
                answer_timeout=40,  # the last answer: "ich verbinde" plus the spelt id
                quiet_after_answer=4.0,  # a caller waits through the handover, not 1.2 s
            )
        )

    caller = threading.Thread(target=call, name="test-call")
    caller.start()
    find_row = (
        "var caller = arguments[0];"
        "return Array.from(document.querySelectorAll('#queue-rows tr[data-handoff-id]'))"
        ".filter(function (r) { return r.textContent.indexOf(caller) >= 0; })"
        ".map(function (r) { return r.dataset.handoffId; })[0] || null;"
    )
    handoff_id = browser.wait(lambda: browser.run(find_row, CALLER), 120, "the handoff row")
    assert browser.run("return window.voicebotSamePage === true"), "the row came without reload"
    caller.join(120)
    assert not caller.is_alive() and "result" in calls
    record = calls["result"].record
    assert record is not None and record["end_reason"] == "handoff"
    assert fits_the_screen(browser)
    browser.screenshot(ARTIFACTS / "agent-console-queue.png")

    # open it: the caller's words, the slots, the caller's number
    browser.click(f'#queue-rows a[href="/agent/handoffs/{handoff_id}"]')
    browser.wait(lambda: browser.url.endswith(f"/agent/handoffs/{handoff_id}"), message="detail")
    transcript = browser.text("#transcript")
    said = [t["text"] for t in record["turns"] if t["speaker"] == "caller" and t["text"]]
    assert said and not any(t["dtmf"] for t in record["turns"]), record["turns"]
    asked = [t for t in record["turns"] if t["speaker"] == "caller" and t["text"]][-1]
    assert asked["intent"] == "request_human", "the handoff came from the spoken request"
    assert all(text in transcript for text in said), (said, transcript)
    assert "Anrufer" in transcript and "Erkennung" in transcript
    slots = browser.text("#slots")
    assert "handoff_mode" in slots and "transfer" in slots
    assert browser.text("#caller") == CALLER
    assert browser.text("#reason") == "Anrufer möchte eine Person sprechen"
    assert browser.text("#summary")

    # accept, then close with a note
    browser.click("#accept")
    browser.wait(lambda: browser.text("#handoff-status") == "angenommen", message="accepted")
    assert fits_the_screen(browser)
    bottom = browser.run("return document.querySelector('#close').getBoundingClientRect().bottom")
    assert bottom <= HEIGHT, "the close button is visible without scrolling at 1366x768"
    browser.screenshot(ARTIFACTS / "agent-console.png")
    browser.type("#note", "Öffnungszeiten erklärt, Termin vereinbart.")
    browser.click("#close")
    browser.wait(lambda: browser.text("#handoff-status") == "abgeschlossen", message="closed")
    assert "Termin vereinbart" in browser.text("#closing-note")
    stored = api_get(stack, f"/api/handoffs/{handoff_id}")
    assert stored["status"] == "closed" and stored["agent"] == "anna"

    # back in the queue, the handoff is no longer open
    browser.get(stack.http_url + "/agent")
    assert not browser.find_all(f'#queue-rows tr[data-handoff-id="{handoff_id}"]')


def api_call(server: ConsoleServer, method: str, path: str, body: Any = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(server.url + path, data=data, method=method)
    request.add_header("Authorization", f"Bearer {server.token}")
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=10) as resp:
        return json.loads(resp.read())


def request_row_ids(browser: Browser) -> list[str]:
    return list(
        browser.run(
            "return Array.from(document.querySelectorAll('#request-rows tr[data-request-id]'))"
            ".map(function (r) { return r.dataset.requestId; });"
        )
    )


def test_agent_works_a_stored_request_in_the_browser(tmp_path: Path, browser: Browser) -> None:
    sperrmuell = {
        "kind": "sperrmuell",
        "call_id": "CA-browser-1",
        "caller": CALLER,
        "data": {
            "name": "Jürgen <b>Müller</b>",
            "postcode": "51373",
            "items": ["Sofa", "Kühlschrank"],
            "pickup_date": "2026-12-01",
        },
        "summary": "Sperrmüll: Sofa, Kühlschrank <script>alert(1)</script>",
        "email": {"to": "j.mueller@example.org", "subject": "Ihre Anmeldung", "body": "Hallo"},
    }
    with ConsoleServer(tmp_path) as server:
        other = api_call(server, "POST", "/api/requests", {**sperrmuell, "call_id": "CA-0"})
        browser.get(server.url + "/agent/requests")
        browser.type("#name", "anna")
        browser.type("#password", AGENTS["anna"])
        browser.click("#login-submit")
        browser.wait(lambda: browser.url.endswith("/agent"), message="the queue after login")
        browser.click("#nav-requests")
        browser.wait(lambda: browser.text("#live-status") == "live", message="the live channel")
        assert request_row_ids(browser) == [other["id"]]
        browser.run("window.voicebotSamePage = true;")  # survives only if the page never reloads

        # the action server stores a request: it appears without a reload
        stored = api_call(server, "POST", "/api/requests", sperrmuell)
        rid = stored["id"]
        browser.wait(lambda: rid in request_row_ids(browser), 20, "the new request's row")
        assert request_row_ids(browser) == [rid, other["id"]], "newest first"
        assert browser.run("return window.voicebotSamePage === true"), "no reload"
        row = browser.text(f'#request-rows tr[data-request-id="{rid}"]')
        assert "Sperrmüll-Anmeldung (Vorprüfung)" in row and CALLER in row
        assert "<script>alert(1)</script>" in row, "caller text shown as text, not run"
        assert "nicht versandt: kein Mailserver eingerichtet" in row
        assert stored["id_spoken"] in row and re.search(r"\d\d\.\d\d\.\d{4} \d\d:\d\d", row)
        # one done through the API leaves the open list live
        api_call(server, "POST", f"/api/requests/{other['id']}/done", {"agent": "ben"})
        browser.wait(lambda: request_row_ids(browser) == [rid], 20, "the done request leaves")
        assert browser.text("#request-count") == "1"
        assert fits_the_screen(browser)
        browser.screenshot(ARTIFACTS / "agent-console-requests.png")

        # the detail: the collected data with German labels, the e-mail, then done with a note
        browser.click(f'#request-rows a[href="/agent/requests/{rid}"]')
        browser.wait(lambda: browser.url.endswith(f"/agent/requests/{rid}"), message="detail")
        data = browser.text("#request-data")
        assert "Postleitzahl 51373" in data and "Gegenstände Sofa, Kühlschrank" in data
        assert "Abholtermin 01.12.2026" in data and "Jürgen <b>Müller</b>" in data
        assert "j.mueller@example.org" in browser.text("#request-mails")
        assert browser.text("#id-spoken") == stored["id_spoken"]
        assert fits_the_screen(browser)
        browser.screenshot(ARTIFACTS / "agent-console-request-detail.png")
        browser.type("#note", "Termin 01.12. bestätigt.")
        browser.click("#mark-done")
        browser.wait(lambda: browser.text("#request-status") == "erledigt", message="done")
        assert "Termin 01.12. bestätigt." in browser.text("#done-note")
        assert browser.text("#done-by") == "anna"
        done = api_call(server, "GET", f"/api/requests/{rid}")
        assert (done["status"], done["done_by"]) == ("done", "anna")

        # out of "offen", listed under "erledigt"
        browser.click(".back a")
        browser.wait(lambda: browser.url.endswith("/agent/requests"), message="the list")
        browser.wait(lambda: browser.text("#live-status") == "live", message="live again")
        assert rid not in request_row_ids(browser)
        browser.get(server.url + "/agent/requests?status=done")
        assert rid in request_row_ids(browser)
