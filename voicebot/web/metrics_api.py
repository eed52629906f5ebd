"""GET /metrics: the gateway's Prometheus metrics (voicebot/metrics.py), behind a bearer token."""

from __future__ import annotations

import hmac

from aiohttp import web

from voicebot.metrics import CONTENT_TYPE
from voicebot.web.keys import GATEWAY


async def metrics_handler(request: web.Request) -> web.Response:
    """GET /metrics: Prometheus text format. Bearer `VOICEBOT_METRICS_TOKEN` when set, else
    the API token (`VOICEBOT_API_TOKEN`); 401 without."""
    gateway = request.app[GATEWAY]
    settings = gateway.settings
    expected = settings.metrics_token or settings.api_token
    header = request.headers.get("Authorization", "")
    given = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else ""
    if (
        not expected
        or not given
        or not hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode("utf-8"))
    ):
        raise web.HTTPUnauthorized(
            text="missing or wrong bearer token\n",
            headers={"WWW-Authenticate": 'Bearer realm="voicebot-metrics"'},
        )
    await gateway.prometheus.refresh(gateway.db)
    return web.Response(body=gateway.prometheus.render(), headers={"Content-Type": CONTENT_TYPE})


def add_metrics_route(app: web.Application) -> None:
    """Serves `GET /metrics`."""
    app.router.add_get("/metrics", metrics_handler)
