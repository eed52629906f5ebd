"""The strict check of a request the action server submits (POST /api/requests).

Every field is checked for type, length and allowed values; unknown fields are refused, so a
typo in an action is found in its first test, not by staff reading an empty record. A problem
is a `FieldError` naming the field ("email.to"), answered with 400.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from voicebot.mail.smtp import is_address
from voicebot.store.requests import KINDS, MailDraft

MAX_CALL_ID = 128
MAX_CALLER = 64
MAX_SUMMARY = 2000
MAX_DATA_BYTES = 64_000
MAX_SUBJECT = 200
MAX_BODY = 20_000
FIELDS = ("kind", "call_id", "caller", "data", "summary", "email")
EMAIL_FIELDS = ("to", "subject", "body")


class FieldError(ValueError):
    """One field of the submitted JSON is missing or wrong."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"'{field}' {message}")
        self.field = field


@dataclass(frozen=True)
class Submission:
    """A checked submission: what the request store needs."""

    kind: str
    call_id: str
    data: dict[str, Any]
    summary: str
    caller: str | None
    email: MailDraft | None


def parse_submission(body: Any) -> Submission:
    """Checks the JSON body of POST /api/requests; raises FieldError for the first problem."""
    if not isinstance(body, dict):
        raise FieldError("body", "must be a JSON object")
    _no_unknown(body, FIELDS, "")
    kind = body.get("kind")
    if kind not in KINDS:
        raise FieldError("kind", f"must be one of {', '.join(KINDS)}")
    call_id = _text(body, "call_id", MAX_CALL_ID, required=True)
    data = body.get("data")
    if not isinstance(data, dict):
        raise FieldError("data", "must be a JSON object with the collected fields")
    if len(json.dumps(data, ensure_ascii=False).encode()) > MAX_DATA_BYTES:
        raise FieldError("data", f"must be at most {MAX_DATA_BYTES} bytes as JSON")
    summary = _text(body, "summary", MAX_SUMMARY, required=False, multiline=True)
    caller = _text(body, "caller", MAX_CALLER, required=False) or None
    return Submission(kind, call_id, data, summary, caller, _email(body.get("email")))


def _email(value: Any) -> MailDraft | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise FieldError("email", "must be an object with to, subject and body")
    _no_unknown(value, EMAIL_FIELDS, "email.")
    to = value.get("to")
    if not isinstance(to, str) or not is_address(to.strip()):
        raise FieldError("email.to", "must be one e-mail address, like name@example.org")
    subject = _text(value, "subject", MAX_SUBJECT, required=True, where="email.")
    text = _text(value, "body", MAX_BODY, required=True, multiline=True, where="email.")
    return MailDraft(to.strip(), subject, text)


def _text(
    obj: dict[str, Any],
    name: str,
    limit: int,
    *,
    required: bool,
    multiline: bool = False,
    where: str = "",
) -> str:
    """A string field, stripped; one line unless `multiline` (no header injection)."""
    value = obj.get(name)
    field = f"{where}{name}"
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise FieldError(field, f"must be a non-empty text of at most {limit} characters")
    if len(value) > limit:
        raise FieldError(field, f"must be at most {limit} characters long")
    if not multiline and any(ch in value for ch in "\r\n"):
        raise FieldError(field, "must be a single line")
    if any(ord(ch) < 32 and ch not in "\r\n\t" for ch in value):
        raise FieldError(field, "must not contain control characters")
    return value.strip()


def _no_unknown(obj: dict[str, Any], known: tuple[str, ...], where: str) -> None:
    for name in obj:
        if name not in known:
            raise FieldError(f"{where}{name}", f"is not a known field; known: {', '.join(known)}")
