"""Handoff records and the webhook outbox, in the gateway's database (SQLite or PostgreSQL).

Status changes are single conditional UPDATEs (`... WHERE status = 'open'`), so two agents,
or two gateways, racing for the same handoff cannot both win. Outbox entries are claimed
before delivery and marked delivered only once (`WHERE delivered_at IS NULL`).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from typing import Any

from voicebot.store.calls import iso
from voicebot.store.db import Conn, Database

STATUSES = ("open", "accepted", "closed", "transfer_failed")
ACTIVE_STATUSES = ("open", "accepted", "transfer_failed")


@dataclass
class Handoff:
    """One handoff (or, outside service hours, callback request) as stored and shown."""

    handoff_id: str
    call_id: str
    kind: str  # transfer | callback
    status: str  # open | accepted | closed | transfer_failed
    created_at: str
    updated_at: str
    language: str
    reason: str
    department: str
    topic: str
    summary: str
    caller: str | None = None
    callback_number: str | None = None
    target: str | None = None
    last_intent: str | None = None
    last_intent_confidence: float | None = None
    slots: dict[str, Any] = field(default_factory=dict)
    transcript: list[dict[str, Any]] = field(default_factory=list)
    agent: str | None = None
    accepted_at: str | None = None
    closed_at: str | None = None
    note: str | None = None


COLUMNS = tuple(f.name for f in fields(Handoff))
JSON_COLUMNS = ("slots", "transcript")


def _row_to_handoff(row: dict[str, Any]) -> Handoff:
    data = {k: row[k] for k in COLUMNS}
    for name in JSON_COLUMNS:
        data[name] = json.loads(data[name]) if data[name] else ({} if name == "slots" else [])
    return Handoff(**data)


def _handoff_values(handoff: Handoff) -> tuple[Any, ...]:
    data = asdict(handoff)
    for name in JSON_COLUMNS:
        data[name] = json.dumps(data[name], ensure_ascii=False)
    return tuple(data[k] for k in COLUMNS)


class HandoffStore:
    """Async access to the handoffs and webhook_outbox tables."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # ---- handoffs --------------------------------------------------------------------------
    async def insert(self, handoff: Handoff, webhook: tuple[str, str] | None = None) -> bool:
        """Stores a new handoff (and its webhook, atomically); False if the id is taken."""

        def job(c: Conn) -> bool:
            cols = ", ".join(COLUMNS)
            marks = ", ".join("?" for _ in COLUMNS)
            with c.transaction():
                added = c.execute(
                    f"INSERT INTO handoffs ({cols}) VALUES ({marks}) "
                    "ON CONFLICT (handoff_id) DO NOTHING",
                    _handoff_values(handoff),
                )
                if added and webhook is not None:
                    event, body = webhook
                    c.execute(
                        "INSERT INTO webhook_outbox (handoff_id, event, body, created_at, "
                        "next_attempt_at) VALUES (?, ?, ?, ?, ?)",
                        (handoff.handoff_id, event, body, handoff.created_at, handoff.created_at),
                    )
            return added == 1

        return await self.db.run(job)

    async def get(self, handoff_id: str) -> Handoff | None:
        """One handoff with transcript and slots, or None."""
        row = await self.db.run(
            lambda c: c.one("SELECT * FROM handoffs WHERE handoff_id = ?", (handoff_id,))
        )
        return _row_to_handoff(row) if row else None

    async def for_call(self, call_id: str) -> list[Handoff]:
        """The handoffs of one call (normally one)."""
        rows = await self.db.run(
            lambda c: c.query(
                "SELECT * FROM handoffs WHERE call_id = ? ORDER BY created_at", (call_id,)
            )
        )
        return [_row_to_handoff(r) for r in rows]

    async def recent(self, statuses: tuple[str, ...] = (), limit: int = 100) -> list[Handoff]:
        """Handoffs, newest first, optionally only those with the given statuses."""

        def job(c: Conn) -> list[dict[str, Any]]:
            if statuses:
                marks = ", ".join("?" for _ in statuses)
                return c.query(
                    f"SELECT * FROM handoffs WHERE status IN ({marks}) "
                    "ORDER BY created_at DESC LIMIT ?",
                    (*statuses, limit),
                )
            return c.query("SELECT * FROM handoffs ORDER BY created_at DESC LIMIT ?", (limit,))

        return [_row_to_handoff(r) for r in await self.db.run(job)]

    async def active(self, limit: int = 200) -> list[Handoff]:
        """Open, accepted and failed-transfer handoffs: the agents' queue."""
        return await self.recent(ACTIVE_STATUSES, limit)

    async def accept(
        self, handoff_id: str, agent: str, now: datetime
    ) -> tuple[str, Handoff | None]:
        """Open -> accepted by `agent`: ("ok" | "not_found" | "conflict", the handoff)."""
        at = iso(now)
        changed = await self.db.run(
            lambda c: c.execute(
                "UPDATE handoffs SET status = 'accepted', agent = ?, accepted_at = ?, "
                "updated_at = ? WHERE handoff_id = ? AND status IN ('open', 'transfer_failed')",
                (agent, at, at, handoff_id),
            )
        )
        handoff = await self.get(handoff_id)
        if handoff is None:
            return "not_found", None
        if changed or (handoff.status == "accepted" and handoff.agent == agent):
            return "ok", handoff
        return "conflict", handoff

    async def close(
        self, handoff_id: str, agent: str, note: str, now: datetime
    ) -> tuple[str, Handoff | None]:
        """Accepted by `agent` -> closed with a note; another agent's handoff is a conflict."""
        at = iso(now)
        changed = await self.db.run(
            lambda c: c.execute(
                "UPDATE handoffs SET status = 'closed', note = ?, closed_at = ?, updated_at = ? "
                "WHERE handoff_id = ? AND status = 'accepted' AND agent = ?",
                (note, at, at, handoff_id, agent),
            )
        )
        handoff = await self.get(handoff_id)
        if handoff is None:
            return "not_found", None
        return ("ok" if changed else "conflict"), handoff

    async def mark_transfer_failed(self, handoff_id: str, now: datetime) -> None:
        """The telephony platform did not take the transfer: agents must call back."""
        await self.db.run(
            lambda c: c.execute(
                "UPDATE handoffs SET status = 'transfer_failed', updated_at = ? "
                "WHERE handoff_id = ? AND status = 'open'",
                (iso(now), handoff_id),
            )
        )

    async def purge_older_than(self, cutoff: datetime) -> int:
        """Deletes handoffs (with transcript and outbox entries) created before `cutoff`."""

        def job(c: Conn) -> int:
            with c.transaction():
                c.execute(
                    "DELETE FROM webhook_outbox WHERE handoff_id IN "
                    "(SELECT handoff_id FROM handoffs WHERE created_at < ?)",
                    (iso(cutoff),),
                )
                return c.execute("DELETE FROM handoffs WHERE created_at < ?", (iso(cutoff),))

        return await self.db.run(job)

    # ---- webhook outbox --------------------------------------------------------------------
    async def claim_due(
        self, now: datetime, claim_until: datetime, limit: int = 20
    ) -> list[dict[str, Any]]:
        """Undelivered entries due now, claimed until `claim_until` so no one else sends them."""

        def job(c: Conn) -> list[dict[str, Any]]:
            rows = c.query(
                "SELECT * FROM webhook_outbox WHERE delivered_at IS NULL AND next_attempt_at <= ? "
                "AND (claimed_until IS NULL OR claimed_until < ?) ORDER BY id LIMIT ?",
                (iso(now), iso(now), limit),
            )
            claimed = []
            for row in rows:
                if c.execute(
                    "UPDATE webhook_outbox SET claimed_until = ? WHERE id = ? AND "
                    "delivered_at IS NULL AND (claimed_until IS NULL OR claimed_until < ?)",
                    (iso(claim_until), row["id"], iso(now)),
                ):
                    claimed.append(row)
            return claimed

        return await self.db.run(job)

    async def mark_delivered(self, entry_id: int, now: datetime) -> bool:
        """Marks an entry delivered; False if it already was (idempotent)."""
        changed = await self.db.run(
            lambda c: c.execute(
                "UPDATE webhook_outbox SET delivered_at = ?, attempts = attempts + 1, "
                "claimed_until = NULL, last_error = NULL WHERE id = ? AND delivered_at IS NULL",
                (iso(now), entry_id),
            )
        )
        return changed == 1

    async def mark_failed(self, entry_id: int, error: str, retry_at: datetime) -> None:
        """Counts a failed attempt and schedules the next one."""
        await self.db.run(
            lambda c: c.execute(
                "UPDATE webhook_outbox SET attempts = attempts + 1, last_error = ?, "
                "next_attempt_at = ?, claimed_until = NULL WHERE id = ? AND delivered_at IS NULL",
                (error[:500], iso(retry_at), entry_id),
            )
        )

    async def next_due(self) -> str | None:
        """When the earliest undelivered entry is due (ISO), or None."""
        row = await self.db.run(
            lambda c: c.one(
                "SELECT MIN(next_attempt_at) AS due FROM webhook_outbox WHERE delivered_at IS NULL"
            )
        )
        return row["due"] if row else None

    async def outbox(self, undelivered_only: bool = True, limit: int = 50) -> list[dict[str, Any]]:
        """Outbox entries without their bodies, oldest first (for the console and tests)."""
        where = "WHERE delivered_at IS NULL " if undelivered_only else ""
        return await self.db.run(
            lambda c: c.query(
                "SELECT id, handoff_id, event, created_at, attempts, next_attempt_at, "
                f"last_error, delivered_at FROM webhook_outbox {where}ORDER BY id LIMIT ?",
                (limit,),
            )
        )
