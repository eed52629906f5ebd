"""Analytics, Problemfelder and forecast over 8 synthetic weeks, on SQLite and PostgreSQL.

The real middleware and routes (console pages, /api/analytics, /api/forecast) over a real
database holding the history of `analytics_history`; the clock is fixed to the Monday after
it. The numbers on the page and in the API are compared with what the history holds; the
Sperrmüll jump of the last week is flagged, the week before flags nothing; after the
transcripts are purged the same period reads the same numbers from the roll-ups.
"""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import io
import math
import re
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from tests.unit.analytics_history import JUMP_TOPIC, NOW, History, generate, store_history
from voicebot.analytics.erlang import agents_needed
from voicebot.analytics.report import topic_label
from voicebot.config import ConsoleSettings, Settings
from voicebot.gateway import Gateway
from voicebot.web.agent_auth import agent_auth, hash_password
from voicebot.web.agent_console import add_agent_console
from voicebot.web.analytics_api import add_analytics_api
from voicebot.web.app import api_auth
from voicebot.web.console_analytics import CLOCK, add_analytics
from voicebot.web.keys import GATEWAY

TOKEN = "analytics-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
USERS = {"anna": "anna-passwort-1", "sina": "sina-passwort-1"}  # an agent, a supervisor
LAST_DAY = NOW.date() - timedelta(days=1)
LAST_WEEK = (LAST_DAY - timedelta(days=6), LAST_DAY)
WEEK_BEFORE = (LAST_WEEK[0] - timedelta(days=7), LAST_WEEK[1] - timedelta(days=7))
BACKTEST_WAPE_BOUND = 0.4  # calls; measured 0.32 (the jump week is the held-out one)
Client = TestClient[web.Request, web.Application]
Scenario = Callable[[Client, Gateway], Awaitable[None]]


def settings_for(target: str | Path, retention_days: int = 3650) -> Settings:
    console = ConsoleSettings(
        agents={"anna": hash_password(USERS["anna"])},
        supervisors={"sina": hash_password(USERS["sina"])},
    )
    where: dict[str, Any] = (
        {"database_path": target} if isinstance(target, Path) else {"database_url": target}
    )
    return Settings(
        data_dir=Path("/nonexistent"),
        api_token=TOKEN,
        console=console,
        transcript_retention_days=retention_days,
        **where,
    )


def run_app(target: str | Path, history: History, scenario: Scenario) -> None:
    """Stores the history, then runs `scenario` against the app with the clock at NOW."""

    async def main() -> None:
        gateway = Gateway(settings_for(target))
        app = web.Application(middlewares=[api_auth, agent_auth])
        app[GATEWAY] = gateway
        app[CLOCK] = lambda: NOW
        add_agent_console(app, ZoneInfo("Europe/Berlin"))
        add_analytics(app)
        add_analytics_api(app)
        await gateway.store.open()
        await store_history(gateway.db, history)
        try:
            async with TestClient(TestServer(app)) as client:
                await scenario(client, gateway)
        finally:
            await gateway.store.close()

    asyncio.run(main())


async def log_in(client: Client, name: str) -> None:
    client.session.cookie_jar.clear()  # whoever was logged in before
    page = await (await client.get("/agent/login")).text()
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found
    form = {"name": name, "password": USERS[name], "csrf_token": found.group(1)}
    resp = await client.post("/agent/login", data=form, allow_redirects=False)
    assert resp.status == 303


async def api(client: Client, path: str) -> dict[str, Any]:
    resp = await client.get(path, headers=AUTH)
    assert resp.status == 200, await resp.text()
    data: dict[str, Any] = await resp.json()
    return data


def period(span: tuple[date, date]) -> str:
    return f"from={span[0].isoformat()}&to={span[1].isoformat()}"


def expected(history: History, span: tuple[date, date]) -> dict[str, Any]:
    """What the analytics must report for the calls of `span`."""
    calls = history.between(*span)
    latencies = sorted(
        c.latency_ms for c in calls if not c.silent for _ in range(2 if c.not_understood else 1)
    )
    return {
        "calls": len(calls),
        "handoffs": sum(c.handoff for c in calls),
        "silent": sum(c.silent for c in calls),
        "contained": sum(not c.handoff and not c.silent for c in calls),
        "topics": Counter(c.topic or "" for c in calls),
        "not_understood": Counter(c.topic or "" for c in calls if c.not_understood),
        "low_asr": Counter(c.topic or "" for c in calls if c.low_asr),
        "by_hour": Counter(c.start.hour for c in calls),
        "by_weekday": Counter(c.start.weekday() for c in calls),
        "reasons": Counter(
            "not_understood" if c.not_understood else "caller_request" for c in calls if c.handoff
        ),
        "p50": latencies[math.ceil(0.5 * len(latencies)) - 1],
        "p95": latencies[math.ceil(0.95 * len(latencies)) - 1],
    }


def check_report(data: dict[str, Any], want: dict[str, Any]) -> None:
    totals = {name: row["value"] for name, row in data["totals"].items()}
    for name in ("calls", "handoffs", "silent", "contained"):
        assert totals[name] == want[name], name
    assert totals["callbacks"] == 0 and totals["abandoned"] == 0
    assert data["containment"] == want["contained"] / want["calls"]
    topics = {t["key"]: t for t in data["topics"]}
    assert {k: t["value"] for k, t in topics.items()} == dict(want["topics"])
    for key, topic in topics.items():
        assert topic["label"] == topic_label(key)
        assert topic["not_understood"] == want["not_understood"][key]
        assert topic["not_understood_rate"] == want["not_understood"][key] / topic["value"]
        assert topic["low_asr"] == want["low_asr"][key]
    assert data["calls_by_hour"] == [want["by_hour"][h] for h in range(24)]
    assert list(data["calls_by_weekday"].values()) == [want["by_weekday"][d] for d in range(7)]
    reasons = {r["key"]: r["value"] for r in data["handoff_reasons"]}
    assert reasons == dict(want["reasons"])
    assert [r["value"] for r in data["handoff_departments"]] == [want["handoffs"]]
    assert abs(data["latency_ms"]["p50"] - want["p50"]) <= 10
    assert abs(data["latency_ms"]["p95"] - want["p95"]) <= 10


def page_value(html: str, metric: str) -> str:
    found = re.search(rf'data-metric="{metric}"><td>[^<]*</td><td class="value">([^<]+)<', html)
    assert found, metric
    return found.group(1)


def test_analytics_and_forecast_match_the_history(database_target: str | Path) -> None:
    history = generate(jump=True)

    async def scenario(client: Client, gateway: Gateway) -> None:
        want = expected(history, LAST_WEEK)
        data = await api(client, f"/api/analytics?{period(LAST_WEEK)}")
        check_report(data, want)
        assert data["totals"]["calls"]["previous"] == len(history.between(*WEEK_BEFORE))

        # the jump is flagged, with masked examples; nothing else is
        assert [(p["topic"], p["kind"]) for p in data["problems"]] == [(JUMP_TOPIC, "volume")]
        problem = data["problems"][0]
        assert problem["value"] == want["topics"][JUMP_TOPIC]
        assert problem["p_value"] < data["problem_test"]["level"]
        assert problem["examples"], "a group of 5+ calls shows masked examples"
        for example in problem["examples"]:
            assert "[Telefon]" in example and "[E-Mail]" in example
            assert "@" not in example and not re.search(r"\d{3}", example)
        # a normal week flags nothing
        normal = await api(client, f"/api/analytics?{period(WEEK_BEFORE)}")
        assert normal["problems"] == []
        check_report(normal, expected(history, WEEK_BEFORE))

        # the page: supervisors only, the same numbers, the flag at the top, a CSV export
        assert (await client.get("/api/analytics")).status == 401, "the API needs the token"
        await log_in(client, "anna")
        resp = await client.get(f"/agent/analytics?{period(LAST_WEEK)}")
        assert resp.status == 403, "an agent sees only the queue"
        assert (await client.get("/agent/forecast")).status == 403
        await log_in(client, "sina")
        html = await (await client.get(f"/agent/analytics?{period(LAST_WEEK)}")).text()
        assert page_value(html, "calls") == str(want["calls"])
        assert page_value(html, "handoffs") == str(want["handoffs"])
        assert html.index('id="problems"') < html.index('id="totals"')
        assert f'data-topic="{JUMP_TOPIC}" data-kind="volume"' in html
        assert html.count("<svg") == 3 and "0214" not in html
        resp = await client.get(f"/agent/analytics.csv?{period(LAST_WEEK)}")
        rows = list(csv.reader(io.StringIO(await resp.text())))
        assert [
            "summe",
            "calls",
            "Anrufe",
            str(float(want["calls"])),
            str(float(len(history.between(*WEEK_BEFORE)))),
        ] in rows

        # forecast: backtest error within the bound, staffing by Erlang C from the forecast
        forecast = await api(client, "/api/forecast")
        assert forecast["backtest"]["calls"]["seasonal"]["wape"] < BACKTEST_WAPE_BOUND
        assert forecast["handle_s"] == 240.0 and forecast["handle_measured"] > 0
        monday = forecast["days"][0]
        assert monday["date"] == NOW.date().isoformat() and max(monday["calls"]) >= 3
        for hour in range(24):
            assert monday["agents"][hour] == agents_needed(monday["handoffs"][hour], 240, 0.8, 20)
        assert sum(monday["calls"][:7]) == 0, "nobody calls at night"
        html = await (await client.get("/agent/forecast")).text()
        assert 'id="backtest"' in html and 'id="staffing"' in html and "<svg" in html

        # the roll-ups outlive the transcripts
        old = (LAST_WEEK[0] - timedelta(days=21), LAST_WEEK[1] - timedelta(days=21))
        before = await api(client, f"/api/analytics?{period(old)}")
        check_report(before, expected(history, old))
        gateway.settings = dataclasses.replace(gateway.settings, transcript_retention_days=14)
        assert await gateway.purge_expired(NOW) > 0
        assert await gateway.store.get_call(history.between(*old)[0].call_id) is None
        after = await api(client, f"/api/analytics?{period(old)}")
        assert after["totals"] == before["totals"] and after["topics"] == before["topics"]
        assert after["calls_by_hour"] == before["calls_by_hour"]

    run_app(database_target, history, scenario)


def test_a_normal_last_week_flags_nothing(tmp_path: Path) -> None:
    history = generate(jump=False)

    async def scenario(client: Client, _: Gateway) -> None:
        data = await api(client, f"/api/analytics?{period(LAST_WEEK)}")
        assert data["problems"] == []
        check_report(data, expected(history, LAST_WEEK))
        bad = await client.get("/api/analytics?from=2026-12-01&to=2026-11-01", headers=AUTH)
        assert bad.status == 400 and "Beginn" in (await bad.json())["error"]

    run_app(tmp_path / "voicebot.db", history, scenario)


def test_calls_from_the_trainers_test_phone_are_not_counted(tmp_path: Path) -> None:
    """A trainer's test calls (transport browser) are no citizens' calls: not in the figures."""
    history = generate(jump=False)
    phone = [
        dataclasses.replace(c, call_id=f"{c.call_id}-phone", transport="browser")
        for c in history.between(*LAST_WEEK)
    ]
    stored = dataclasses.replace(history, calls=history.calls + phone)

    async def scenario(client: Client, _: Gateway) -> None:
        data = await api(client, f"/api/analytics?{period(LAST_WEEK)}")
        check_report(data, expected(history, LAST_WEEK))

    run_app(tmp_path / "voicebot.db", stored, scenario)


def test_the_app_rolls_up_at_start(tmp_path: Path) -> None:
    history = generate(jump=False)

    async def scenario(_: Client, gateway: Gateway) -> None:
        async def rolled() -> int:
            row = await gateway.db.run(
                lambda c: c.one("SELECT COUNT(*) AS n FROM analytics_rolled_days WHERE calls > 0")
            )
            return int(row["n"]) if row else 0

        for _ in range(500):  # the task started with the app; wait for its first pass
            if await rolled() > 0:
                break
            await asyncio.sleep(0.02)
        assert await rolled() == len({c.start.date() for c in history.calls})

    run_app(tmp_path / "voicebot.db", history, scenario)
