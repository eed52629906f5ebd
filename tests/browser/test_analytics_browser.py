"""A supervisor opens the analytics and the forecast in a real browser (headless Chromium).

The console is served in-process (real middleware and routes, a SQLite database holding the
8 synthetic weeks of `tests.unit.analytics_history`, the clock on the Monday after them).
An agent gets 403 for the analytics and, from a handoff's page, finds the passport's facts in
the catalogue (agent assist). The supervisor logs in, finds the Sperrmüll jump flagged at the
top of the analytics, the charts drawn, and on the forecast page the backtest and the
staffing table.
Screenshots at 1366x768 go to test-artifacts/.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from aiohttp import web

from tests.browser.console_server import InProcessServer
from tests.browser.webdriver import CHROMEDRIVER, CHROMIUM, Browser
from tests.support import ARTIFACTS, ROOT
from tests.unit.analytics_history import JUMP_TOPIC, NOW, generate, store_history
from voicebot.config import ConsoleSettings, RasaSettings, Settings
from voicebot.gateway import Gateway
from voicebot.store.handoffs import Handoff
from voicebot.web.agent_auth import hash_password
from voicebot.web.agent_console import add_agent_console
from voicebot.web.analytics_api import add_analytics_api
from voicebot.web.console_analytics import CLOCK, add_analytics
from voicebot.web.console_assist import add_assist

pytestmark = pytest.mark.integration
WIDTH, HEIGHT = 1366, 768
USERS = {"anna": "anna-passwort-1", "sina": "sina-passwort-1"}


class AnalyticsServer(InProcessServer):
    """The console with the analytics over the synthetic history, on a free port."""

    def __init__(self, data_dir: Path) -> None:
        console = ConsoleSettings(
            agents={"anna": hash_password(USERS["anna"])},
            supervisors={"sina": hash_password(USERS["sina"])},
        )
        super().__init__(
            Settings(
                data_dir=data_dir,
                api_token="t",
                console=console,
                transcript_retention_days=3650,
                rasa=RasaSettings(project_dir=ROOT / "rasa_project"),
            )
        )

    async def setup(self, app: web.Application, gateway: Gateway) -> None:
        app[CLOCK] = lambda: NOW
        add_agent_console(app, ZoneInfo("Europe/Berlin"))
        add_analytics(app)
        add_analytics_api(app)
        add_assist(app)
        await store_history(gateway.db, generate(jump=True))
        at = NOW.isoformat()
        await gateway.handoff_store.insert(
            Handoff("K7M42X", "CA1", "transfer", "open", at, at, "de", "caller_request",
                    "buergerbuero", "Reisepass", "Reisepass: „Was kostet ein Pass?“")
        )  # fmt: skip


@pytest.fixture
def browser() -> Iterator[Browser]:
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        pytest.skip(
            f"{', '.join(missing)} missing: install the Debian packages chromium and "
            "chromium-driver"
        )
    session = Browser(WIDTH, HEIGHT)
    try:
        yield session
    finally:
        session.quit()


def log_in(browser: Browser, server: AnalyticsServer, name: str) -> None:
    browser.get(server.url + "/agent/login")
    browser.type("#name", name)
    browser.type("#password", USERS[name])
    browser.click("#login-submit")
    browser.wait(lambda: browser.url.endswith("/agent"), message="the queue after login")


def test_a_supervisor_reads_the_analytics_and_the_forecast(
    tmp_path: Path, browser: Browser
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    with AnalyticsServer(tmp_path) as server:
        log_in(browser, server, "anna")
        assert not browser.find_all("#nav-analytics"), "an agent sees only the queue"
        browser.get(server.url + "/agent/analytics")
        assert "vorbehalten" in browser.text("body")

        # agent assist: from a handoff's page, the agent finds the passport's facts
        browser.get(server.url + "/agent/handoffs/K7M42X")
        width = browser.run("return document.documentElement.scrollWidth")
        assert width <= WIDTH, "the search form keeps the handoff page within 1366 px"
        browser.type("#assist-q", "reisepass")
        browser.click("#assist-submit")
        browser.wait(lambda: browser.find_all("#assist-services"), message="the assist page")
        facts = browser.text('[data-service="reisepass"]')
        assert "Reisepass" in facts and "Unterlagen" in facts and "Bürgerbüro" in facts
        browser.screenshot(ARTIFACTS / "agent-assist.png")
        browser.click("#back-to-handoff")
        browser.wait(lambda: browser.url.endswith("/agent/handoffs/K7M42X"), message="back")

        browser.get(server.url + "/agent")
        browser.click('form[action="/agent/logout"] button')
        browser.wait(lambda: browser.url.endswith("/agent/login"), message="logged out")

        log_in(browser, server, "sina")
        browser.click("#nav-analytics")
        browser.wait(lambda: browser.find_all("#totals"), message="the analytics page")
        problems = browser.text("#problems")
        assert "Sperrmüll-Anmeldung" in problems and "[Telefon]" in problems
        assert browser.find_all(f'li.problem[data-topic="{JUMP_TOPIC}"]')
        assert len(browser.find_all("svg.chart")) == 3
        width = browser.run("return document.documentElement.scrollWidth")
        assert width <= WIDTH, "no horizontal scrolling at 1366 px"
        browser.screenshot(ARTIFACTS / "analytics.png")

        browser.click("#nav-forecast")
        browser.wait(lambda: browser.find_all("#staffing"), message="the forecast page")
        assert "verwendet" in browser.text("#backtest")
        assert "Erlang C" in browser.text("#staffing-basis")
        assert len(browser.find_all("#staffing tbody tr")) == 14
        browser.screenshot(ARTIFACTS / "forecast.png")
