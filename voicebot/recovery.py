"""Crash recovery: at start, a gateway closes the call records its crashed predecessor left open.

A gateway killed mid-call (kill -9, power loss, OOM) cannot close its records. The next start of
the same gateway (same `gateway_id`, default `<host name>:<port>`; migration 0006 records it
on every call) closes them with `end_reason = gateway_crashed` and `ended_at` = the last thing
recorded (the last turn's end, else the start), so durations stay true. Only its own calls: several
gateways on one PostgreSQL each recover theirs. On SQLite (one gateway per file) records from
before migration 0006, which name no gateway, are closed too. Handoffs and callback requests
are left as they are: still open for the agents. Turns already written stay.
"""

from __future__ import annotations

import logging

from voicebot.store.db import Conn, Database

log = logging.getLogger(__name__)

CRASHED = "gateway_crashed"
LAST_SEEN = (
    "COALESCE((SELECT MAX(COALESCE(t.ended_at, t.started_at)) FROM turns t "
    "WHERE t.call_id = calls.call_id), calls.started_at)"
)


async def close_crashed_calls(db: Database, gateway_id: str) -> list[str]:
    """Closes this gateway's open call records (none of them can be live at start); returns
    their call ids."""

    def job(conn: Conn) -> list[str]:
        rows = conn.query(
            "SELECT c.call_id FROM calls c JOIN call_gateways g ON g.call_id = c.call_id "
            "WHERE c.ended_at IS NULL AND g.gateway_id = ?",
            (gateway_id,),
        )
        if conn.backend == "sqlite":
            rows += conn.query(
                "SELECT c.call_id FROM calls c WHERE c.ended_at IS NULL AND NOT EXISTS "
                "(SELECT 1 FROM call_gateways g WHERE g.call_id = c.call_id)"
            )
        ids = [str(r["call_id"]) for r in rows]
        with conn.transaction():
            for call_id in ids:
                conn.execute(
                    f"UPDATE calls SET end_reason = ?, ended_at = {LAST_SEEN} "
                    "WHERE call_id = ? AND ended_at IS NULL",
                    (CRASHED, call_id),
                )
        return ids

    ids = await db.run(job)
    if ids:
        log.warning(
            "closed %d call record(s) that gateway %s left open (it stopped without ending "
            "them): %s; their handoffs stay open",
            len(ids),
            gateway_id,
            ", ".join(ids[:20]),
        )
    return ids
