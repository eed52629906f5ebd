"""The analytics as JSON (and CSV) for the city's own tools: GET /api/analytics, /api/forecast.

Like every /api endpoint they need the API bearer token (`api_auth`). `from`/`to` choose the
period (YYYY-MM-DD, inclusive; default the last 7 full days); `format=csv` returns the CSV of
the console's export.
"""

from __future__ import annotations

import json

from aiohttp import web

from voicebot.web.console_analytics import PeriodError, csv_response, load_forecast, load_report


async def get_analytics(request: web.Request) -> web.Response:
    """GET /api/analytics?from=&to=&format=json|csv: the period against the previous one."""
    try:
        data = await load_report(request.app, request.query)
    except PeriodError as exc:
        body = json.dumps({"error": str(exc)}, ensure_ascii=False)
        raise web.HTTPBadRequest(text=body, content_type="application/json") from exc
    if request.query.get("format") == "csv":
        return csv_response(data)
    return web.json_response(data)


async def get_forecast(request: web.Request) -> web.Response:
    """GET /api/forecast: calls, handoffs and agents per hour for 14 days, with the backtest."""
    return web.json_response(await load_forecast(request.app))


def add_analytics_api(app: web.Application) -> None:
    """Registers the analytics API routes."""
    app.router.add_get("/api/analytics", get_analytics)
    app.router.add_get("/api/forecast", get_forecast)
