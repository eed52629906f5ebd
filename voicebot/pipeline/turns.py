"""The call record of one call: the call row, numbered turns, and what is left open at the end.

Turns are numbered in the order they begin, written when they end, and a call that ends in the
middle of anything (a hang-up while the bot speaks, an exception) still leaves a complete record:
`close()` writes every turn still open and always closes the call row.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from typing import Protocol

from voicebot.store.calls import CallRecord, TurnRecord, iso, utc_now

log = logging.getLogger(__name__)


class RecordStore(Protocol):
    """The part of the call store the recorder writes to."""

    async def start_call(self, call: CallRecord) -> None:
        """Creates the call row."""

    async def add_turn(self, turn: TurnRecord) -> None:
        """Writes one finished turn."""

    async def end_call(
        self,
        call_id: str,
        reason: str,
        handoff_department: str | None = None,
        handoff_reason: str | None = None,
    ) -> None:
        """Closes the call row with its end reason."""


class TurnRecorder:
    """Numbers, keeps and writes the turns of one call; maps stream time to wall-clock time."""

    def __init__(self, call_id: str, store: RecordStore) -> None:
        self.call_id = call_id
        self._store = store
        self._seq = 0
        self._open: dict[int, TurnRecord] = {}
        self.t0_wall = datetime.now(timezone.utc)  # stream time 0
        self.closed = False

    @property
    def open_turns(self) -> list[TurnRecord]:
        """Turns begun and not yet written, in order."""
        return [self._open[seq] for seq in sorted(self._open)]

    async def start(self, call: CallRecord) -> None:
        """Writes the call row."""
        await self._store.start_call(call)

    def new(self, speaker: str, text: str) -> TurnRecord:
        """Begins the next turn; it stays open until `write` (or `close`) stores it."""
        self._seq += 1
        turn = TurnRecord(call_id=self.call_id, seq=self._seq, speaker=speaker, text=text)
        self._open[turn.seq] = turn
        return turn

    async def write(self, turn: TurnRecord) -> None:
        """Stores a finished turn (once: a turn already written is not written again)."""
        if self._open.pop(turn.seq, None) is not None:
            await self._store.add_turn(turn)

    def wall(self, stream_ms: int) -> str:
        """Stream time (audio received so far) as wall-clock time."""
        return iso(self.t0_wall + timedelta(milliseconds=stream_ms))

    async def close(
        self,
        reason: str,
        department: str | None = None,
        handoff_reason: str | None = None,
    ) -> None:
        """Writes the turns left open (a bot turn was cut off by the end) and closes the call
        row, even when writing a turn fails."""
        if self.closed:
            return
        self.closed = True
        try:
            for turn in self.open_turns:
                if turn.speaker == "bot":
                    turn.interrupted = True
                    turn.ended_at = turn.ended_at or utc_now()
                try:
                    await self.write(turn)
                except Exception:  # noqa: BLE001 - the call row must still be closed
                    log.exception("call %s: turn %d not written", self.call_id, turn.seq)
        finally:
            await self._store.end_call(self.call_id, reason, department, handoff_reason)
