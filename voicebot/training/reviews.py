"""The trainer's decisions (table `training_reviews`, migration 0005) and the intents of the
Rasa project a trainer may assign. Functions on `Conn` run on the database's worker thread."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from voicebot.store.db import Conn

# intents a trainer never assigns: the gateway's call start and Rasa's fallback
NOT_ASSIGNABLE = frozenset({"call_start", "nlu_fallback"})


@dataclass(frozen=True)
class Review:
    """One reviewed turn: its masked text, Rasa's guess, the trainer's intent (None: discarded)."""

    call_id: str
    seq: int
    text: str
    guessed_intent: str | None
    intent: str | None
    reviewer: str
    reviewed_at: str


def project_intents(project_dir: Path) -> list[str]:
    """The intents of a Rasa project's domain (`domain.yml` or `domain/*.yml`), sorted."""
    files = sorted((project_dir / "domain").glob("*.yml"))
    if (project_dir / "domain.yml").is_file():
        files.append(project_dir / "domain.yml")
    intents: set[str] = set()
    for path in files:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for item in data.get("intents") or []:
            name = next(iter(item)) if isinstance(item, dict) else item
            if isinstance(name, str):
                intents.add(name)
    return sorted(intents - NOT_ASSIGNABLE)


def save(conn: Conn, review: Review) -> bool:
    """Stores a decision; False if the turn was reviewed already (the first decision stays)."""
    status = "assigned" if review.intent else "discarded"
    if conn.one(
        "SELECT 1 AS x FROM training_reviews WHERE call_id = ? AND seq = ?",
        (review.call_id, review.seq),
    ):
        return False
    conn.execute(
        "INSERT INTO training_reviews (call_id, seq, text, guessed_intent, intent, status, "
        "reviewer, reviewed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            review.call_id,
            review.seq,
            review.text,
            review.guessed_intent,
            review.intent,
            status,
            review.reviewer,
            review.reviewed_at,
        ),
    )
    return True


def _review(row: dict[str, Any]) -> Review:
    return Review(
        row["call_id"],
        int(row["seq"]),
        row["text"],
        row["guessed_intent"],
        row["intent"],
        row["reviewer"],
        row["reviewed_at"],
    )


def assigned(conn: Conn) -> list[Review]:
    """The turns a trainer gave an intent, by intent and time."""
    rows = conn.query(
        "SELECT * FROM training_reviews WHERE status = 'assigned' ORDER BY intent, reviewed_at, "
        "call_id, seq"
    )
    return [_review(r) for r in rows]


def recent(conn: Conn, limit: int = 50) -> list[Review]:
    """The latest decisions (assigned and discarded), newest first."""
    rows = conn.query(
        "SELECT * FROM training_reviews ORDER BY reviewed_at DESC, call_id, seq LIMIT ?", (limit,)
    )
    return [_review(r) for r in rows]
