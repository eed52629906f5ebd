"""Returning callers: find a request or handoff by its Vorgangsnummer, and check the caller.

A Vorgangsnummer (store/ids.py: six characters of 2-9 and consonants) comes spoken ("K7M42X")
or keyed in: on the keypad a letter is the key it is printed on (B, C -> 2; D, F -> 3; ...),
so "K7M42X" is keyed as 576429. A keyed number can fit more than one stored id; the check
then decides (a record whose check fails is never told).

The check: the calling number is the one stored with the record (compared by its digits,
"0214 12345" = "+49 214 12345"); else the caller names a second detail, the postcode of the
address they gave (a Sperrmüll request). A record without a postcode can be told only to its
own number.

Status in plain words: received (a request or handoff not yet taken up), in_progress (a
handoff an agent accepted), done. The agent's note is told only when it is marked for the
caller: it starts with "Für den Anrufer:" (or "Für die Anruferin:", "Für Anrufende:"); the text
after the mark is read out, nothing else of the note.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from voicebot.store.db import Conn, Database
from voicebot.store.ids import ALPHABET, LENGTH, normalise_handoff_id

KEYPAD = {
    **{d: d for d in "23456789"},
    **dict.fromkeys("BC", "2"),
    **dict.fromkeys("DF", "3"),
    **dict.fromkeys("GH", "4"),
    **dict.fromkeys("JK", "5"),
    **dict.fromkeys("MN", "6"),
    **dict.fromkeys("PQRS", "7"),
    **dict.fromkeys("TV", "8"),
    **dict.fromkeys("WXZ", "9"),
}
assert set(KEYPAD) == set(ALPHABET)
CALLER_NOTE = re.compile(r"^\s*für\s+(den\s+anrufer|die\s+anruferin|anrufende)\s*:\s*", re.I)
MAX_NOTE_TOLD = 300
SCAN = 1000  # newest requests (and handoffs) searched for a calling number
MAX_MATCHES = 10  # stored ids one keyed number may mean that are checked
HANDOFF_STATUS = {"open": "received", "transfer_failed": "received", "accepted": "in_progress"}
HANDOFF_LABELS = {"transfer": "Anfrage", "callback": "Rückrufbitte"}
# What the bot calls a request ("Ihre Sperrmüll-Anmeldung ..."): feminine nouns, for "Ihre".
REQUEST_LABELS = {
    "sperrmuell": "Sperrmüll-Anmeldung",
    "appointment": "Terminanfrage",
    "form_delivery": "Formularanfrage",
}


def keypad_form(reference: str) -> str:
    """The keys that type an id ("K7M42X" -> "576429")."""
    return "".join(KEYPAD[ch] for ch in reference)


def parse_reference(text: str) -> str | None:
    """An id ("k7m 42x") or six keys ("576429"), normalised; None if it can be neither."""
    found = normalise_handoff_id(text)
    if found is not None:
        return found
    keys = "".join(ch for ch in text if not ch.isspace() and ch not in "-._/")
    if len(keys) == LENGTH and all(ch in "23456789" for ch in keys):
        return keys
    return None


def same_number(a: str | None, b: str | None) -> bool:
    """Whether two phone numbers are the same (German national and international forms)."""
    na, nb = _digits(a), _digits(b)
    return bool(na) and len(na) >= 6 and na == nb


def _digits(number: str | None) -> str:
    digits = "".join(ch for ch in (number or "")[:64] if ch.isdigit())
    if digits.startswith("00"):
        return digits[2:]
    if digits.startswith("0"):
        return "49" + digits[1:]
    return digits


def note_for_caller(note: str | None) -> str | None:
    """The part of the agent's note marked for the caller, or None."""
    match = CALLER_NOTE.match(note or "")
    if match is None:
        return None
    told = note[match.end() :].strip()[:MAX_NOTE_TOLD] if note else ""
    return told or None


@dataclass(frozen=True)
class Reference:
    """A stored request or handoff as the returning-caller check needs it."""

    id: str
    kind: str  # request | handoff
    label: str  # "Sperrmüll-Anmeldung", "Rückrufbitte", ... (after "Ihre")
    status: str  # received | in_progress | done
    caller: str | None
    postcode: str | None
    note: str | None  # only the part marked for the caller

    def number_matches(self, caller: str | None) -> bool:
        """Whether the calling number is the stored one."""
        return same_number(caller, self.caller)

    def postcode_matches(self, postcode: str | None) -> bool:
        """Whether the postcode named is the stored one (none stored: never)."""
        said = "".join(ch for ch in (postcode or "") if ch.isdigit())
        return bool(self.postcode) and said == self.postcode


def _postcode(values: dict[str, Any]) -> str | None:
    for key, value in values.items():
        if key.endswith("postcode") and isinstance(value, str | int) and str(value).isdigit():
            return str(value)
    return None


def _request(row: dict[str, Any], data: dict[str, Any]) -> Reference:
    return Reference(
        id=row["id"],
        kind="request",
        label=REQUEST_LABELS.get(row["kind"], "Anfrage"),
        status="done" if row["status"] == "done" else "received",
        caller=row["caller"] or data.get("phone"),
        postcode=_postcode(data),
        note=note_for_caller(row["note"]),
    )


def _handoff(row: dict[str, Any], slots: dict[str, Any]) -> Reference:
    return Reference(
        id=row["handoff_id"],
        kind="handoff",
        label=HANDOFF_LABELS.get(row["kind"], "Anliegen"),
        status=HANDOFF_STATUS.get(row["status"], "done"),
        caller=row["caller"] or row["callback_number"],
        postcode=_postcode(slots),
        note=note_for_caller(row["note"]),
    )


def _rows(c: Conn, sql: str, ids: list[str]) -> list[dict[str, Any]]:
    return [row for i in ids if (row := c.one(sql, (i,))) is not None]


async def find_by_caller(db: Database, caller: str, limit: int = 3) -> list[Reference]:
    """The newest requests and handoffs stored with the calling number (same_number), newest
    first; only the latest SCAN of each are searched."""

    def job(c: Conn) -> list[tuple[str, Reference]]:
        found = [
            (r["created_at"], _request(r, json.loads(r["data"] or "{}")))
            for r in c.query("SELECT * FROM requests ORDER BY created_at DESC LIMIT ?", (SCAN,))
        ]
        found += [
            (r["created_at"], _handoff(r, json.loads(r["slots"] or "{}")))
            for r in c.query("SELECT * FROM handoffs ORDER BY created_at DESC LIMIT ?", (SCAN,))
        ]
        return found

    rows = await db.run(job)
    mine = sorted((row for row in rows if row[1].number_matches(caller)), key=lambda r: r[0])
    return [ref for _, ref in reversed(mine)][:limit]


async def find_references(db: Database, reference: str) -> list[Reference]:
    """The requests and handoffs an id or six keys (parse_reference) can mean."""

    def job(c: Conn) -> list[Reference]:
        if any(ch.isalpha() for ch in reference):
            requests = c.query("SELECT * FROM requests WHERE id = ?", (reference,))
            handoffs = c.query("SELECT * FROM handoffs WHERE handoff_id = ?", (reference,))
        else:
            ids = [r["id"] for r in c.query("SELECT id FROM requests")]
            hids = [r["handoff_id"] for r in c.query("SELECT handoff_id FROM handoffs")]
            wanted = [i for i in ids if keypad_form(i) == reference][:MAX_MATCHES]
            hwanted = [i for i in hids if keypad_form(i) == reference][:MAX_MATCHES]
            requests = _rows(c, "SELECT * FROM requests WHERE id = ?", wanted)
            handoffs = _rows(c, "SELECT * FROM handoffs WHERE handoff_id = ?", hwanted)
        found = [_request(r, json.loads(r["data"] or "{}")) for r in requests]
        found += [_handoff(r, json.loads(r["slots"] or "{}")) for r in handoffs]
        return found

    return await db.run(job)
