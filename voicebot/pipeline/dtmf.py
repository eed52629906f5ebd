"""Collects DTMF keys into entries: an entry ends with '#' or after the inter-digit pause."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


class DtmfCollector:
    """Gathers one call's keys; hands each complete entry (without the '#') to `on_entry`."""

    def __init__(self, interdigit_s: float, on_entry: Callable[[str], None]) -> None:
        self._interdigit_s = interdigit_s
        self._on_entry = on_entry
        self._digits = ""
        self._timer: asyncio.TimerHandle | None = None

    @property
    def collecting(self) -> bool:
        """Whether an entry has begun (the caller is typing a number)."""
        return bool(self._digits)

    def press(self, digit: str) -> None:
        """One key; '#' ends the entry at once, any other key restarts the pause timer."""
        self._cancel_timer()
        if digit == "#":
            self.flush()
            return
        self._digits += digit
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(self._interdigit_s, self.flush)

    def flush(self) -> None:
        """Hands on the entry typed so far, if any."""
        self._cancel_timer()
        digits, self._digits = self._digits, ""
        if digits:
            self._on_entry(digits)

    def cancel(self) -> None:
        """The call ended: forgets the keys and stops the timer."""
        self._cancel_timer()
        self._digits = ""

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
