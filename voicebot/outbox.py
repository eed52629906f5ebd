"""The delivery loop shared by the outboxes (CRM webhooks, e-mail): run what is due, then
sleep until the next entry is due, a `wake()` or IDLE_CHECK_S, whichever comes first."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from abc import ABC, abstractmethod
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Protocol

log = logging.getLogger(__name__)
IDLE_CHECK_S = 30.0  # look at the outbox at least this often (other gateways add entries too)


class DueStore(Protocol):
    """An outbox table that knows when its next entry is due."""

    async def next_due(self) -> str | None: ...


def backoff_s(attempts: int, base: float, cap: float) -> float:
    """Delay before the next try after `attempts` failures: base, 2*base, 4*base ... cap."""
    return float(min(cap, base * 2 ** max(0, attempts - 1)))


class OutboxWorker(ABC):
    """Runs `run_once` in the background until stopped; `wake()` after adding an entry."""

    name = "outbox"

    def __init__(
        self, store: DueStore, clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)
    ) -> None:
        self._due_store = store
        self._clock = clock
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    @abstractmethod
    def enabled(self) -> bool:
        """Whether there is anywhere to deliver to."""

    @abstractmethod
    async def run_once(self) -> int:
        """Delivers every due entry once; returns how many were delivered."""

    def start(self) -> None:
        """Starts the delivery loop (only when enabled)."""
        if self.enabled and self._task is None:
            self._started()
            self._task = asyncio.create_task(self._loop(), name=self.name)

    async def stop(self) -> None:
        """Stops the loop; undelivered entries stay in the outbox for the next start."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self._stopped()

    def wake(self) -> None:
        """Something was added to the outbox."""
        self._wake.set()

    def _started(self) -> None:  # noqa: B027 - an optional hook, empty by default
        """Hook: set up what deliveries need (e.g. a worker thread)."""

    def _stopped(self) -> None:  # noqa: B027 - an optional hook, empty by default
        """Hook: release it."""

    async def _loop(self) -> None:
        while True:
            try:
                await self.run_once()
                wait = await self._seconds_until_due()
            except Exception as exc:  # noqa: BLE001 - a database hiccup must not end delivery
                log.error("%s: %s; trying again later", self.name, exc)
                wait = IDLE_CHECK_S
            self._wake.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=wait)

    async def _seconds_until_due(self) -> float:
        due = await self._due_store.next_due()
        if due is None:
            return IDLE_CHECK_S
        delta = (datetime.fromisoformat(due) - self._clock()).total_seconds()
        return min(IDLE_CHECK_S, max(0.01, delta))
