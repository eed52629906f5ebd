"""An agent in a real browser (headless Chromium from Debian) takes a handoff from a live call.

The agent logs in, a test call asks for a person (DTMF 0 after greeting the bot), the handoff
appears in the open queue without a reload, the agent opens it, sees the caller's words and the
collected slots, accepts and closes it. Screenshots at 1366x768 go to test-artifacts/.
"""

from __future__ import annotations

import asyncio
import json
import threading
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

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
