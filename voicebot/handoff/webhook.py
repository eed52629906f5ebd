"""Delivers the webhook outbox to the CRM: signed POSTs, retried with exponential backoff.

A handoff and its outbox entry are written in one transaction, so nothing is lost when the
CRM is down (or the gateway restarts): entries stay until a 2xx answer. Each entry is claimed
before sending and marked delivered with `WHERE delivered_at IS NULL`, so one entry is sent
successfully once even with several gateways on one PostgreSQL. The `X-Voicebot-Delivery`
header (stable across retries) lets the CRM drop a duplicate if an answer was lost in transit.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import aiohttp

from voicebot.config import HandoffSettings
from voicebot.handoff.events import Hub
from voicebot.handoff.signing import DELIVERY_HEADER, EVENT_HEADER, signed_headers
from voicebot.outbox import OutboxWorker, backoff_s
from voicebot.store.handoffs import HandoffStore

log = logging.getLogger(__name__)
CLAIM_S = 60.0


class WebhookDispatcher(OutboxWorker):
    """Sends due outbox entries until stopped; `wake()` after adding one."""

    name = "webhook-outbox"

    def __init__(
        self,
        settings: HandoffSettings,
        store: HandoffStore,
        http: aiohttp.ClientSession,
        hub: Hub | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
    ) -> None:
        super().__init__(store, clock)
        self._settings = settings
        self._store = store
        self._http = http
        self._hub = hub

    @property
    def enabled(self) -> bool:
        """Whether a CRM URL is configured."""
        return bool(self._settings.webhook_url)

    async def run_once(self) -> int:
        """Sends every due entry once; returns how many were delivered."""
        now = self._clock()
        entries = await self._store.claim_due(now, now + timedelta(seconds=CLAIM_S))
        delivered = 0
        for entry in entries:
            error = await self._post(entry["id"], entry["event"], entry["body"])
            if error is None:
                if await self._store.mark_delivered(entry["id"], self._clock()):
                    delivered += 1
                    log.info("webhook %s for %s delivered", entry["event"], entry["handoff_id"])
            else:
                delay = backoff_s(
                    entry["attempts"] + 1,
                    self._settings.webhook_backoff_s,
                    self._settings.webhook_backoff_max_s,
                )
                retry_at = self._clock() + timedelta(seconds=delay)
                await self._store.mark_failed(entry["id"], error, retry_at)
                log.warning(
                    "webhook %s for %s failed (attempt %d: %s); next try in %.0f s",
                    entry["event"],
                    entry["handoff_id"],
                    entry["attempts"] + 1,
                    error,
                    delay,
                )
        if entries and self._hub is not None:
            self._hub.publish({"type": "outbox"})
        return delivered

    async def _post(self, entry_id: int, event: str, body: str) -> str | None:
        """One signed POST; None on a 2xx answer, else what went wrong."""
        data = body.encode()
        headers = signed_headers(self._settings.webhook_secret, data)
        headers[DELIVERY_HEADER] = f"outbox-{entry_id}"
        headers[EVENT_HEADER] = event
        timeout = aiohttp.ClientTimeout(total=self._settings.webhook_timeout_s)
        url = str(self._settings.webhook_url)
        try:
            async with self._http.post(url, data=data, headers=headers, timeout=timeout) as resp:
                if 200 <= resp.status < 300:
                    return None
                return f"HTTP {resp.status}"
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
