"""The e-mail states of many requests at once, for the console's list (one query, not one
per row)."""

from __future__ import annotations

from typing import Any

from voicebot.store.requests import RequestStore


async def mail_states(store: RequestStore, request_ids: list[str]) -> dict[str, list[str]]:
    """request id -> the states of its outbox entries (oldest first); requests without an
    e-mail are left out."""
    if not request_ids:
        return {}
    marks = ", ".join("?" for _ in request_ids)
    rows: list[dict[str, Any]] = await store.db.run(
        lambda c: c.query(
            f"SELECT request_id, state FROM outbox WHERE request_id IN ({marks}) ORDER BY id",
            tuple(request_ids),
        )
    )
    states: dict[str, list[str]] = {}
    for row in rows:
        states.setdefault(row["request_id"], []).append(row["state"])
    return states
