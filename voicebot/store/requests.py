"""Citizens' requests (appointment, Sperrmüll pre-check, form delivery) and the e-mail outbox.

A request and its e-mail are written in one transaction, so an e-mail is never lost and never
exists without its request. Outbox entries are claimed before sending and marked sent only
once (`WHERE state = 'pending'`), as in the webhook outbox, so several gateways on one
PostgreSQL do not send the same e-mail twice.
"""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from voicebot.store.calls import iso
from voicebot.store.db import Conn, Database
from voicebot.store.ids import new_handoff_id, spell_id

# The kinds the gateway knows (the API accepts these) and their labels. The database takes any
# kind that fits KIND_PATTERN: a new kind needs no schema change, only these two and the API
# description (docs/openapi.yaml).
KINDS = ("appointment", "sperrmuell", "form_delivery")
KIND_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,31}")
KIND_LABELS = {
    "appointment": "Terminanfrage",
    "sperrmuell": "Sperrmüll-Anmeldung (Vorprüfung)",
    "form_delivery": "Formularversand",
}
STATUSES = ("open", "done")
OUTBOX_STATES = ("pending", "sent", "failed", "not_configured")
ID_ATTEMPTS = 20  # fresh ids drawn when one is taken (27^6 ids: practically never twice)
REQUEST_COLUMNS = (
    "id",
    "kind",
    "call_id",
    "caller",
    "created_at",
    "status",
    "data",
    "summary",
    "done_at",
    "done_by",
    "note",
)


class _KeyTaken(Exception):
    """Raised inside the insert transaction to roll it back."""


@dataclass(frozen=True)
class MailDraft:
    """An e-mail to send for a request: recipient, subject and plain-text body."""

    to: str
    subject: str
    body: str


@dataclass
class ServiceRequest:
    """One stored request, as staff see it."""

    id: str
    kind: str
    call_id: str
    created_at: str
    status: str = "open"
    caller: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    summary: str = ""
    done_at: str | None = None
    done_by: str | None = None
    note: str | None = None


def request_to_json(request: ServiceRequest) -> dict[str, Any]:
    """The API's JSON for a request (without its outbox entries)."""
    return {
        "id": request.id,
        "id_spoken": spell_id(request.id),
        "kind": request.kind,
        "kind_label": KIND_LABELS.get(request.kind, request.kind),
        "call_id": request.call_id,
        "caller": request.caller,
        "created_at": request.created_at,
        "status": request.status,
        "summary": request.summary,
        "data": request.data,
        "done_at": request.done_at,
        "done_by": request.done_by,
        "note": request.note,
    }


def outbox_to_json(row: dict[str, Any]) -> dict[str, Any]:
    """The API's JSON for an outbox entry (the claim bookkeeping left out)."""
    return {k: v for k, v in row.items() if k != "claimed_until"}


def _row_to_request(row: dict[str, Any]) -> ServiceRequest:
    data = {k: row[k] for k in REQUEST_COLUMNS}
    data["data"] = json.loads(data["data"]) if data["data"] else {}
    return ServiceRequest(**data)


class RequestStore:
    """Async access to the requests and outbox tables."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # ---- requests --------------------------------------------------------------------------
    async def insert(
        self,
        request: ServiceRequest,
        mail: MailDraft | None = None,
        mail_state: str = "pending",
    ) -> ServiceRequest:
        """Stores a request under a fresh id (with its e-mail, atomically); returns it.

        Without a caller number, the number of the call (if the gateway recorded it) is used.
        """
        stored, _ = await self.insert_once(request, mail, mail_state)
        return stored

    async def insert_once(
        self,
        request: ServiceRequest,
        mail: MailDraft | None = None,
        mail_state: str = "pending",
        key: str | None = None,
    ) -> tuple[ServiceRequest, bool]:
        """Like insert; with an idempotency key that was used before, nothing is stored and
        the earlier request is returned. The flag says whether a new request was stored."""
        if mail_state not in ("pending", "not_configured"):
            raise ValueError(f"a new e-mail is pending or not_configured, not {mail_state}")
        if not KIND_PATTERN.fullmatch(request.kind):
            raise ValueError(
                f"a request kind is a short lowercase identifier, not {request.kind!r}"
            )

        def job(c: Conn) -> tuple[ServiceRequest, bool]:
            with c.transaction():
                if key is not None:
                    earlier = c.one(
                        "SELECT r.* FROM request_keys k JOIN requests r ON r.id = k.request_id "
                        "WHERE k.key = ?",
                        (key,),
                    )
                    if earlier is not None:
                        return _row_to_request(earlier), False
                caller = request.caller
                if caller is None:
                    row = c.one("SELECT caller FROM calls WHERE call_id = ?", (request.call_id,))
                    caller = row["caller"] if row else None
                for _ in range(ID_ATTEMPTS):
                    stored = dataclasses.replace(request, id=new_handoff_id(), caller=caller)
                    added = c.execute(
                        f"INSERT INTO requests ({', '.join(REQUEST_COLUMNS)}) VALUES "
                        f"({', '.join('?' for _ in REQUEST_COLUMNS)}) ON CONFLICT (id) DO NOTHING",
                        _request_values(stored),
                    )
                    if added:
                        break
                else:  # pragma: no cover - needs ID_ATTEMPTS collisions in a row
                    raise RuntimeError("no free request id found")
                if key is not None and not c.execute(
                    "INSERT INTO request_keys (key, request_id, created_at) VALUES (?, ?, ?) "
                    "ON CONFLICT (key) DO NOTHING",
                    (key, stored.id, stored.created_at),
                ):
                    raise _KeyTaken  # a concurrent POST with the key won: roll back, read it
                if mail is not None:
                    c.execute(
                        "INSERT INTO outbox (request_id, channel, recipient, subject, body, "
                        "created_at, state, next_attempt_at) VALUES (?, 'email', ?, ?, ?, ?, ?, ?)",
                        (
                            stored.id,
                            mail.to,
                            mail.subject,
                            mail.body,
                            stored.created_at,
                            mail_state,
                            stored.created_at,
                        ),
                    )
            return stored, True

        try:
            return await self.db.run(job)
        except _KeyTaken:
            return await self.db.run(job)

    async def get(self, request_id: str) -> ServiceRequest | None:
        """One request, or None."""
        row = await self.db.run(
            lambda c: c.one("SELECT * FROM requests WHERE id = ?", (request_id,))
        )
        return _row_to_request(row) if row else None

    async def recent(
        self,
        kind: str | None = None,
        status: str | None = None,
        limit: int = 50,
        call_id: str | None = None,
    ) -> list[ServiceRequest]:
        """Requests, newest first, optionally of one kind, status and/or call."""
        where, params = _filters(("kind", kind), ("status", status), ("call_id", call_id))
        rows = await self.db.run(
            lambda c: c.query(
                f"SELECT * FROM requests {where}ORDER BY created_at DESC, id LIMIT ?",
                (*params, limit),
            )
        )
        return [_row_to_request(r) for r in rows]

    async def mark_done(
        self, request_id: str, now: datetime, agent: str | None = None, note: str | None = None
    ) -> ServiceRequest | None:
        """Open -> done (a second call changes nothing); None if there is no such request."""
        await self.db.run(
            lambda c: c.execute(
                "UPDATE requests SET status = 'done', done_at = ?, done_by = ?, note = ? "
                "WHERE id = ? AND status = 'open'",
                (iso(now), agent, note, request_id),
            )
        )
        return await self.get(request_id)

    async def purge_older_than(self, cutoff: datetime) -> int:
        """Deletes requests and outbox entries created before `cutoff`; returns the requests."""

        def job(c: Conn) -> int:
            with c.transaction():
                c.execute(
                    "DELETE FROM request_keys WHERE request_id IN "
                    "(SELECT id FROM requests WHERE created_at < ?)",
                    (iso(cutoff),),
                )
                c.execute(
                    "DELETE FROM outbox WHERE created_at < ? OR request_id IN "
                    "(SELECT id FROM requests WHERE created_at < ?)",
                    (iso(cutoff), iso(cutoff)),
                )
                return c.execute("DELETE FROM requests WHERE created_at < ?", (iso(cutoff),))

        return await self.db.run(job)

    # ---- outbox ----------------------------------------------------------------------------
    async def outbox(
        self, state: str | None = None, request_id: str | None = None, limit: int = 50
    ) -> list[dict[str, Any]]:
        """Outbox entries, oldest first, optionally in one state or of one request."""
        where, params = _filters(("state", state), ("request_id", request_id))
        return await self.db.run(
            lambda c: c.query(f"SELECT * FROM outbox {where}ORDER BY id LIMIT ?", (*params, limit))
        )

    async def claim_due(
        self, now: datetime, claim_until: datetime, limit: int = 10
    ) -> list[dict[str, Any]]:
        """Pending entries due now, claimed until `claim_until` so no one else sends them."""

        def job(c: Conn) -> list[dict[str, Any]]:
            rows = c.query(
                "SELECT * FROM outbox WHERE state = 'pending' AND next_attempt_at <= ? "
                "AND (claimed_until IS NULL OR claimed_until < ?) ORDER BY id LIMIT ?",
                (iso(now), iso(now), limit),
            )
            claimed = []
            for row in rows:
                if c.execute(
                    "UPDATE outbox SET claimed_until = ? WHERE id = ? AND state = 'pending' "
                    "AND (claimed_until IS NULL OR claimed_until < ?)",
                    (iso(claim_until), row["id"], iso(now)),
                ):
                    claimed.append(row)
            return claimed

        return await self.db.run(job)

    async def mark_sent(self, entry_id: int, now: datetime) -> bool:
        """Marks an entry sent; False if it was not pending any more (idempotent)."""
        changed = await self.db.run(
            lambda c: c.execute(
                "UPDATE outbox SET state = 'sent', sent_at = ?, attempts = attempts + 1, "
                "claimed_until = NULL, last_error = NULL WHERE id = ? AND state = 'pending'",
                (iso(now), entry_id),
            )
        )
        return changed == 1

    async def mark_retry(self, entry_id: int, error: str, retry_at: datetime) -> None:
        """Counts a failed attempt; the entry stays pending and is tried again at `retry_at`."""
        await self.db.run(
            lambda c: c.execute(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?, "
                "claimed_until = NULL WHERE id = ? AND state = 'pending'",
                (error[:500], iso(retry_at), entry_id),
            )
        )

    async def mark_failed(self, entry_id: int, error: str) -> None:
        """The server refused the message for good (e.g. unknown recipient): no more tries."""
        await self.db.run(
            lambda c: c.execute(
                "UPDATE outbox SET state = 'failed', attempts = attempts + 1, last_error = ?, "
                "claimed_until = NULL WHERE id = ? AND state = 'pending'",
                (error[:500], entry_id),
            )
        )

    async def next_due(self) -> str | None:
        """When the earliest pending entry is due (ISO), or None."""
        row = await self.db.run(
            lambda c: c.one(
                "SELECT MIN(next_attempt_at) AS due FROM outbox WHERE state = 'pending'"
            )
        )
        return row["due"] if row else None


def _request_values(request: ServiceRequest) -> tuple[Any, ...]:
    values = dataclasses.asdict(request)
    values["data"] = json.dumps(request.data, ensure_ascii=False)
    return tuple(values[k] for k in REQUEST_COLUMNS)


def _filters(*pairs: tuple[str, str | None]) -> tuple[str, tuple[str, ...]]:
    """A WHERE clause (with a trailing space, or empty) for the columns whose value is set."""
    used = [(column, value) for column, value in pairs if value is not None]
    if not used:
        return "", ()
    clause = " AND ".join(f"{column} = ?" for column, _ in used)
    return f"WHERE {clause} ", tuple(value for _, value in used)
