"""Insight and staffing in the console: /agent/analytics (+ .csv) and /agent/forecast.

Both pages need the supervisor role (403 otherwise). The numbers come from the daily
roll-ups (`voicebot.analytics.queries`, on the database's worker thread); the charts are
inline SVG drawn here. `add_analytics` also starts the periodic roll-up task with the app.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from typing import Any

from aiohttp import web

from voicebot.analytics import queries, svg
from voicebot.analytics.report import WEEKDAYS, to_csv
from voicebot.gateway import Gateway
from voicebot.web import agent_auth as auth
from voicebot.web.console_render import TEMPLATES, render
from voicebot.web.keys import GATEWAY

log = logging.getLogger(__name__)
MAX_DAYS = 366
RECENT_DAYS = 7  # re-rolled every interval: handoffs closed days after the call still count
Clock = Callable[[], datetime]
CLOCK: web.AppKey[Clock] = web.AppKey("analytics_clock")  # tests set a fixed "now"


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class PeriodError(ValueError):
    """The chosen period is not valid (German text for the page and the API)."""


def period_of(query: Any, today: date) -> tuple[date, date]:
    """`from`/`to` (YYYY-MM-DD, inclusive) from a query; default: the last 7 full days."""
    try:
        last = date.fromisoformat(query["to"]) if query.get("to") else today - timedelta(days=1)
        first = date.fromisoformat(query["from"]) if query.get("from") else last - timedelta(days=6)
    except ValueError as exc:
        raise PeriodError("Bitte geben Sie Daten im Format JJJJ-MM-TT an.") from exc
    if first > last:
        raise PeriodError("Der Beginn des Zeitraums liegt nach seinem Ende.")
    if (last - first).days >= MAX_DAYS:
        raise PeriodError(f"Der Zeitraum darf höchstens {MAX_DAYS} Tage umfassen.")
    return first, last


def now_of(app: web.Application) -> datetime:
    """The current time (the app's CLOCK if a test set one)."""
    return app.get(CLOCK, _utc_now)()


async def load_report(app: web.Application, query: Any) -> dict[str, Any]:
    """The analytics report of the period a query names (raises PeriodError)."""
    gateway = app[GATEWAY]
    opts = queries.Options.of(gateway.settings)
    now = now_of(app)
    first, last = period_of(query, now.astimezone(opts.zone).date())
    return await gateway.db.run(lambda c: queries.analytics(c, opts, first, last, now))


async def load_forecast(app: web.Application) -> dict[str, Any]:
    """The forecast and staffing for the next 14 days."""
    gateway = app[GATEWAY]
    opts = queries.Options.of(gateway.settings)
    now = now_of(app)
    return await gateway.db.run(lambda c: queries.forecast(c, opts, now))


def _charts(data: dict[str, Any]) -> dict[str, Any]:
    topics = data["topics"][:12]
    return {
        "hours": svg.bar_chart(
            data["calls_by_hour"], [f"{h}" for h in range(24)], "Anrufe nach Stunde"
        ),
        "weekdays": svg.bar_chart(
            list(data["calls_by_weekday"].values()), list(WEEKDAYS), "Anrufe nach Wochentag"
        ),
        "topics": svg.bar_chart(
            [t["value"] for t in topics],
            [str(i + 1) for i in range(len(topics))],
            "Themen: Zeitraum und Vorzeitraum",
            previous=[t["previous"] for t in topics],
        ),
    }


async def analytics_page(request: web.Request) -> web.Response:
    """GET /agent/analytics?from=&to=: the period against the previous one (supervisors)."""
    auth.require_role(request, "supervisor")
    try:
        data = await load_report(request.app, request.query)
    except PeriodError as exc:
        return render(request, "analytics.html", 400, data=None, error=str(exc), charts={})
    return render(request, "analytics.html", data=data, error=None, charts=_charts(data))


async def analytics_csv(request: web.Request) -> web.Response:
    """GET /agent/analytics.csv?from=&to=: the same numbers as CSV (supervisors)."""
    auth.require_role(request, "supervisor")
    try:
        data = await load_report(request.app, request.query)
    except PeriodError as exc:
        raise web.HTTPBadRequest(text=str(exc), content_type="text/plain") from exc
    return csv_response(data)


def csv_response(data: dict[str, Any]) -> web.Response:
    """The report as a CSV download named after its period."""
    name = f"auswertung_{data['period']['from']}_{data['period']['to']}.csv"
    response = web.Response(
        text=to_csv(data),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
    return auth.security_headers(response)


def _forecast_view(data: dict[str, Any]) -> dict[str, Any]:
    days = data["days"]
    busy = [h for h in range(24) if any(d["calls"][h] >= 0.05 for d in days)]
    hours = list(range(min(busy), max(busy) + 1)) if busy else list(range(8, 18))
    calls = [v for d in days for v in d["calls"]]
    handoffs = [v for d in days for v in d["handoffs"]]
    marks = [
        (24 * i, f"{WEEKDAYS[date.fromisoformat(d['date']).weekday()]} {d['date'][8:]}.")
        for i, d in enumerate(days)
    ]
    chart = svg.line_chart(
        {"Anrufe": calls, "Übergaben": handoffs}, marks, "Erwartete Anrufe und Übergaben je Stunde"
    )
    return {"hours": hours, "chart": chart}


async def forecast_page(request: web.Request) -> web.Response:
    """GET /agent/forecast: calls, handoffs and agents per hour for 14 days (supervisors)."""
    auth.require_role(request, "supervisor")
    data = await load_forecast(request.app)
    return render(request, "forecast.html", data=data, **_forecast_view(data))


async def _rollup_periodically(gateway: Gateway) -> None:
    """Rolls up every complete day at start, then the last RECENT_DAYS days every interval."""
    first: date | None = None
    while True:
        opts = queries.Options.of(gateway.settings)
        now = datetime.now(timezone.utc)
        try:
            days = await gateway.db.run(
                functools.partial(queries.refresh, opts=opts, now=now, first=first)
            )
            log.debug("analytics: rolled up %d day(s)", days)
            first = now.astimezone(opts.zone).date() - timedelta(days=RECENT_DAYS)
        except Exception as exc:  # noqa: BLE001 - try again next time; the log says why
            log.error("analytics roll-up failed: %s; will retry", exc)
        await asyncio.sleep(gateway.settings.analytics.rollup_interval_s)


def _signed_percent(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:+.0f} %".replace("+0 %", "±0 %")


def _number(value: float | None, digits: int = 0) -> str:
    if value is None:
        return "–"
    return f"{value:,.{digits}f}".replace(",", " ").replace(".", ",")


def _day_label(value: str) -> str:
    day = date.fromisoformat(value)
    return f"{WEEKDAYS[day.weekday()]} {day:%d.%m.}"


def add_analytics(app: web.Application) -> None:
    """Registers the pages, their template filters and the periodic roll-up task (started
    after the gateway); call after `add_agent_console`."""
    app[TEMPLATES].filters.update(
        signed_percent=_signed_percent, number=_number, day_label=_day_label
    )
    app.router.add_get("/agent/analytics", analytics_page)
    app.router.add_get("/agent/analytics.csv", analytics_csv)
    app.router.add_get("/agent/forecast", forecast_page)

    tasks: list[asyncio.Task[None]] = []

    async def start(app: web.Application) -> None:
        tasks.append(asyncio.create_task(_rollup_periodically(app[GATEWAY])))

    async def stop(_: web.Application) -> None:
        while tasks:
            task = tasks.pop()
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    app.on_startup.append(start)
    app.on_shutdown.append(stop)
