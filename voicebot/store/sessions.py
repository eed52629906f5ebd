"""Agent console sessions, stored server-side so a logout or expiry ends them everywhere.

Only a SHA-256 of the session token is stored: a copy of the database does not let anyone
log in. Each session has its own CSRF token, checked on every form post.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from voicebot.store.calls import iso
from voicebot.store.db import Database


@dataclass(frozen=True)
class AgentSession:
    """A logged-in agent."""

    agent: str
    csrf_token: str
    expires_at: str


class SessionStore:
    """The agent_sessions table."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(
        self, token_hash: str, agent: str, csrf_token: str, now: datetime, expires: datetime
    ) -> None:
        """Stores a new session."""
        await self.db.run(
            lambda c: c.execute(
                "INSERT INTO agent_sessions (token_hash, agent, csrf_token, created_at, "
                "expires_at) VALUES (?, ?, ?, ?, ?)",
                (token_hash, agent, csrf_token, iso(now), iso(expires)),
            )
        )

    async def get(self, token_hash: str, now: datetime) -> AgentSession | None:
        """The session if it exists and has not expired."""
        row = await self.db.run(
            lambda c: c.one(
                "SELECT agent, csrf_token, expires_at FROM agent_sessions "
                "WHERE token_hash = ? AND expires_at > ?",
                (token_hash, iso(now)),
            )
        )
        return AgentSession(**row) if row else None

    async def delete(self, token_hash: str) -> None:
        """Ends a session (logout)."""
        await self.db.run(
            lambda c: c.execute("DELETE FROM agent_sessions WHERE token_hash = ?", (token_hash,))
        )

    async def purge_expired(self, now: datetime) -> int:
        """Deletes expired sessions; returns how many."""
        return await self.db.run(
            lambda c: c.execute("DELETE FROM agent_sessions WHERE expires_at <= ?", (iso(now),))
        )
