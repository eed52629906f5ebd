"""Ids from the wire (Twilio callSid, SIP Call-ID, custom parameters): bounded and printable.

A peer's id ends up in logs, the database and URLs. One that is empty, too long, not printable
(NUL, control characters) or not encodable (a lone surrogate such as "\\ud800") is refused here,
at the protocol layer, before any store sees it.
"""

from __future__ import annotations

MAX_ID_CHARS = 128
MAX_VALUE_CHARS = 256


def is_safe_text(value: str, max_chars: int = MAX_VALUE_CHARS, *, empty: bool = True) -> bool:
    """Whether `value` is printable, UTF-8 encodable text of at most `max_chars` characters."""
    if len(value) > max_chars or (not value and not empty) or not value.isprintable():
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def is_safe_id(value: str, max_chars: int = MAX_ID_CHARS) -> bool:
    """Whether `value` can serve as an id: non-empty, bounded, printable, no spaces around it."""
    return is_safe_text(value, max_chars, empty=False) and value == value.strip()
