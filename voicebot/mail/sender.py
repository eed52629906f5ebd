"""Sends the e-mail outbox over SMTP in the background, retried with exponential backoff.

A request and its e-mail are stored in one transaction, so nothing is lost when the SMTP server
is down or the gateway restarts: an entry stays `pending` until the server accepts it. Each
entry is claimed before sending and marked `sent` once (as the CRM webhook outbox does). smtplib
blocks, so every delivery runs on this sender's own worker thread, never on the event loop.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from typing import Any

from voicebot.config import MailSettings
from voicebot.errors import ConfigError
from voicebot.mail.smtp import SendFailure, build_message, send_blocking
from voicebot.outbox import OutboxWorker, backoff_s
from voicebot.store.requests import RequestStore

log = logging.getLogger(__name__)


class MailSender(OutboxWorker):
    """Delivers pending outbox e-mails until stopped; `wake()` after adding one."""

    name = "mail-outbox"

    def __init__(
        self,
        settings: MailSettings,
        store: RequestStore,
        clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
    ) -> None:
        if settings.smtp_host and not settings.from_address:
            raise ConfigError(
                "[mail] smtp_host is set but from_address is not: set VOICEBOT_MAIL_FROM_ADDRESS "
                "to the address the city's e-mails come from"
            )
        super().__init__(store, clock)
        self._settings = settings
        self._store = store
        self._pool: ThreadPoolExecutor | None = None

    @property
    def enabled(self) -> bool:
        """Whether an SMTP server is configured; without one, e-mails are `not_configured`."""
        return bool(self._settings.smtp_host)

    @property
    def new_entry_state(self) -> str:
        """The state a new outbox entry is stored with."""
        return "pending" if self.enabled else "not_configured"

    def _started(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="smtp")

    def _stopped(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False)
            self._pool = None

    async def run_once(self) -> int:
        """Sends every due entry once; returns how many the server accepted."""
        now = self._clock()
        claim_s = self._settings.timeout_s * 4 + 30  # longer than one delivery can take
        entries = await self._store.claim_due(now, now + timedelta(seconds=claim_s))
        sent = 0
        for entry in entries:
            failure = await self._send(entry)
            if failure is None:
                if await self._store.mark_sent(entry["id"], self._clock()):
                    sent += 1
                    log.info("e-mail %s for request %s sent", entry["id"], entry["request_id"])
            elif failure.permanent:
                await self._store.mark_failed(entry["id"], failure.error)
                log.error(
                    "e-mail %s for request %s refused for good: %s",
                    entry["id"],
                    entry["request_id"],
                    failure.error,
                )
            else:
                delay = backoff_s(
                    entry["attempts"] + 1, self._settings.backoff_s, self._settings.backoff_max_s
                )
                await self._store.mark_retry(
                    entry["id"], failure.error, self._clock() + timedelta(seconds=delay)
                )
                log.warning(
                    "e-mail %s for request %s not sent (attempt %d: %s); next try in %.1f s",
                    entry["id"],
                    entry["request_id"],
                    entry["attempts"] + 1,
                    failure.error,
                    delay,
                )
        return sent

    async def _send(self, entry: dict[str, Any]) -> SendFailure | None:
        """One delivery on the worker thread."""
        try:
            msg = build_message(self._settings, entry)
        except (ValueError, UnicodeError) as exc:
            return SendFailure(f"cannot build the e-mail: {exc}", permanent=True)
        try:
            if self._pool is None:  # run_once called without start(), e.g. by a test
                return await asyncio.to_thread(send_blocking, self._settings, msg)
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._pool, send_blocking, self._settings, msg)
        except Exception as exc:  # noqa: BLE001 - one odd entry must not stop the others
            return SendFailure(f"{type(exc).__name__}: {exc}")
