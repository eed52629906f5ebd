"""POST /api/lookup: a returning caller asks what became of a request or handoff.

The action server (its own token; the gateway's API token works too) sends the Vorgangsnummer
(an id, or six keypad keys), the call and the calling number, and after a `need_detail` the
postcode the caller named. The answer never says whether a number exists before the check
passed: an unknown number and a stored one from another phone both ask for the postcode, and
a wrong postcode and an unknown number are both `mismatch`.

    {"result": "verified", "id": "K7M42X", "id_spoken": "Ka wie Köln, sieben, ...",
     "kind": "request", "label": "Sperrmüll-Anmeldung", "status": "received",
     "note": null}
    {"result": "need_detail", "detail": "postcode"}
    {"result": "mismatch", "attempts_left": 2}
    {"result": "locked"}

With the caller's consent (asked by the bot, valid for that call only), `{"by_caller": true,
"call_id", "caller"}` answers `{"result": "found", "requests": [...]}`: the newest (up to three)
requests and handoffs stored with that calling number, each as in "verified" above.

Bounded attempts: a Vorgangsnummer (spoken or keyed alike) with MAX_FAILED wrong postcodes
is locked for LOCK_S (also for the right postcode), and one call may ask MAX_PER_CALL times;
both are kept in the gateway's memory (a restart forgets them; each gateway counts its own).
"""

from __future__ import annotations

import json
import time
from collections import OrderedDict
from typing import Any

from aiohttp import web

from voicebot.store.ids import spell_id
from voicebot.store.lookup import (
    Reference,
    find_by_caller,
    find_references,
    keypad_form,
    parse_reference,
)
from voicebot.web.keys import GATEWAY

MAX_FAILED = 3  # wrong postcodes for one Vorgangsnummer before it is locked
LOCK_S = 3600.0
MAX_PER_CALL = 6  # lookups of one call (any number, any result)
MAX_TRACKED = 10_000  # numbers and calls remembered; the oldest are forgotten first
MAX_FIELD = 64


class LookupGuard:
    """Counts failed checks per Vorgangsnummer and lookups per call, in bounded memory."""

    def __init__(self, clock: Any = time.monotonic) -> None:
        self._clock = clock
        self._failed: OrderedDict[str, list[float]] = OrderedDict()
        self._calls: OrderedDict[str, int] = OrderedDict()

    def _recent(self, reference: str) -> list[float]:
        now = self._clock()
        return [t for t in self._failed.get(reference, []) if now - t < LOCK_S]

    def locked(self, reference: str) -> bool:
        """Whether the number had MAX_FAILED wrong checks within LOCK_S."""
        return len(self._recent(reference)) >= MAX_FAILED

    def attempts_left(self, reference: str) -> int:
        """Checks left before the lock."""
        return max(0, MAX_FAILED - len(self._recent(reference)))

    def fail(self, reference: str) -> None:
        """Counts one wrong check."""
        self._failed[reference] = [*self._recent(reference), self._clock()]
        self._failed.move_to_end(reference)
        while len(self._failed) > MAX_TRACKED:
            self._failed.popitem(last=False)

    def call_allowed(self, call_id: str) -> bool:
        """Counts one lookup of the call; False past MAX_PER_CALL."""
        count = self._calls.get(call_id, 0) + 1
        self._calls[call_id] = count
        self._calls.move_to_end(call_id)
        while len(self._calls) > MAX_TRACKED:
            self._calls.popitem(last=False)
        return count <= MAX_PER_CALL


LOOKUP_GUARD = web.AppKey("lookup_guard", LookupGuard)


def _bad(message: str, field: str) -> web.HTTPBadRequest:
    return web.HTTPBadRequest(
        text=json.dumps({"error": message, "field": field}), content_type="application/json"
    )


def _text(body: dict[str, Any], name: str, required: bool = False) -> str | None:
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not 0 < len(value) <= MAX_FIELD:
        raise _bad(f"'{name}' must be a text of 1-{MAX_FIELD} characters", name)
    return value


def verified(found: Reference) -> dict[str, Any]:
    """The answer once the check passed: what the bot may tell."""
    return {
        "result": "verified",
        "id": found.id,
        "id_spoken": spell_id(found.id),
        "kind": found.kind,
        "label": found.label,
        "status": found.status,
        "note": found.note,
    }


async def lookup(request: web.Request) -> web.Response:
    """POST /api/lookup {"reference", "call_id", "caller"?, "postcode"?}."""
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise _bad("the body must be a JSON object", "body") from exc
    if not isinstance(body, dict):
        raise _bad("the body must be a JSON object", "body")
    if body.get("by_caller") is True:
        return await _by_caller(request, body)
    reference = parse_reference(_text(body, "reference", required=True) or "")
    if reference is None:
        raise _bad("'reference' must be a Vorgangsnummer or its six keypad keys", "reference")
    call_id = _text(body, "call_id", required=True) or ""
    caller, postcode = _text(body, "caller"), _text(body, "postcode")
    guard, lock = request.app[LOOKUP_GUARD], keypad_form(reference)  # spoken or keyed alike
    if not guard.call_allowed(call_id) or guard.locked(lock):
        return web.json_response({"result": "locked"})
    found = await find_references(request.app[GATEWAY].requests.db, reference)
    for candidate in found:
        if candidate.number_matches(caller):
            return web.json_response(verified(candidate))
    if postcode is None:
        return web.json_response({"result": "need_detail", "detail": "postcode"})
    for candidate in found:
        if candidate.postcode_matches(postcode):
            return web.json_response(verified(candidate))
    guard.fail(lock)
    if guard.locked(lock):
        return web.json_response({"result": "locked"})
    return web.json_response({"result": "mismatch", "attempts_left": guard.attempts_left(lock)})


async def _by_caller(request: web.Request, body: dict[str, Any]) -> web.Response:
    """{"by_caller": true, "call_id", "caller"}: the caller agreed that their number is used
    to find their requests; the newest (up to three) stored with that number."""
    call_id = _text(body, "call_id", required=True) or ""
    caller = _text(body, "caller", required=True)
    if not request.app[LOOKUP_GUARD].call_allowed(call_id):
        return web.json_response({"result": "locked"})
    found = await find_by_caller(request.app[GATEWAY].requests.db, caller or "")
    return web.json_response({"result": "found", "requests": [verified(f) for f in found]})


def add_lookup_api(app: web.Application) -> None:
    """Registers POST /api/lookup (the app's bearer middleware protects it)."""
    app[LOOKUP_GUARD] = LookupGuard()
    app.router.add_post("/api/lookup", lookup)
