"""A trainer reviews what the bot understood badly and exports it, in headless Chromium.

The console is served in-process (real middleware and routes, a SQLite database with the
calls of `tests.unit.training_history`). An agent gets 403 for the workbench. The trainer
sees the turns grouped by Rasa's guess with personal data masked, assigns an intent to one,
discards another, and downloads the NLU file, which holds the assigned one, masked.
Screenshot: test-artifacts/training.png.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from aiohttp import web

from tests.browser.console_server import InProcessServer
from tests.browser.webdriver import CHROMEDRIVER, CHROMIUM, Browser
from tests.support import ARTIFACTS, ROOT, free_port
from tests.unit.training_history import SECRETS, store_training_calls
from voicebot.config import ConsoleSettings, RasaSettings, Settings
from voicebot.gateway import Gateway
from voicebot.web.agent_auth import hash_password
from voicebot.web.agent_console import add_agent_console
from voicebot.web.console_training import add_training

pytestmark = pytest.mark.integration
USERS = {"anna": "anna-passwort-1", "tina": "tina-passwort-3"}


class TrainingServer(InProcessServer):
    """The console with the workbench over calls the bot understood badly."""

    def __init__(self, data_dir: Path) -> None:
        console = ConsoleSettings(
            agents={"anna": hash_password(USERS["anna"])},
            trainers={"tina": hash_password(USERS["tina"])},
        )
        super().__init__(
            Settings(
                data_dir=data_dir,
                api_token="t",
                console=console,
                # no Rasa at this address: the fallback turns stay in their own group
                rasa=RasaSettings(
                    project_dir=ROOT / "rasa_project", url=f"http://127.0.0.1:{free_port()}"
                ),
            )
        )

    async def setup(self, app: web.Application, gateway: Gateway) -> None:
        add_agent_console(app, ZoneInfo("Europe/Berlin"))
        add_training(app)
        await store_training_calls(gateway.db, datetime.now(timezone.utc))


@pytest.fixture
def browser() -> Iterator[Browser]:
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        pytest.skip(f"{', '.join(missing)} missing: install chromium and chromium-driver")
    session = Browser(1366, 768)
    try:
        yield session
    finally:
        session.quit()


def log_in(browser: Browser, server: TrainingServer, name: str) -> None:
    browser.get(server.url + "/agent/login")
    browser.type("#name", name)
    browser.type("#password", USERS[name])
    browser.click("#login-submit")
    browser.wait(lambda: browser.url.endswith("/agent"), message="the queue after login")


def test_a_trainer_reviews_and_exports(tmp_path: Path, browser: Browser) -> None:
    with TrainingServer(tmp_path) as server:
        log_in(browser, server, "anna")
        assert not browser.find_all("#nav-training"), "an agent sees only the queue"
        browser.get(server.url + "/agent/training")
        assert "vorbehalten" in browser.text("body")
        browser.get(server.url + "/agent")
        browser.click('form[action="/agent/logout"] button')
        browser.wait(lambda: browser.url.endswith("/agent/login"), message="logged out")

        log_in(browser, server, "tina")
        browser.click("#nav-training")
        browser.wait(lambda: browser.find_all(".training-group"), message="the workbench")
        page = browser.text("main")
        assert not any(secret in page for secret in SECRETS), page
        assert "[Telefon]" in page and "[Name]" in page and "[E-Mail]" in page
        groups = browser.run(
            "return [...document.querySelectorAll('.training-group')].map(g => g.dataset.intent);"
        )
        assert groups[0] == "nlu_fallback", "the largest group first"
        fallback = '.training-group[data-intent="nlu_fallback"] tr.candidate'
        assert len(browser.find_all(fallback)) == 2
        ARTIFACTS.mkdir(exist_ok=True)
        browser.screenshot(ARTIFACTS / "training.png")

        row = 'tr.candidate[data-turn="twilio-fallback:1"]'
        chosen = browser.run(f"return document.querySelector('{row} select').value;")
        assert chosen == "", "without a guess the trainer must choose the intent"
        browser.run(f"document.querySelector('{row} select').value = 'ask_service';")
        browser.click(f"{row} button.assign")
        browser.wait(lambda: browser.find_all("#review-notice"), message="assigned")
        assert not browser.find_all(row), "a reviewed turn leaves the list"
        assert browser.text("#assigned-count") == "1"
        browser.click('tr.candidate[data-turn="twilio-low-asr:0"] button.discard')
        browser.wait(lambda: "Verworfen" in browser.text("#review-notice"), message="discarded")
        decided = browser.text("#decided")
        assert "ask_service" in decided and "verworfen" in decided

        exported = browser.run(
            "return await fetch('/agent/training/export.yml').then(r => r.text());"
        )
        data = yaml.safe_load(exported)
        assert [item["intent"] for item in data["nlu"]] == ["ask_service"]
        assert "<Name>" in data["nlu"][0]["examples"]
        assert not any(secret in exported for secret in SECRETS)
        assert browser.find_all('#training-export[href="/agent/training/export.yml"]')
