"""Masks personal data in log records: phone numbers, e-mail addresses, IBANs and dates.

Citizens say these to the bot; none of it belongs in a log that operators read and keep.
Standard library only and Python 3.10-compatible: the gateway uses it (logging_setup.py), and
rasa_project/launch.py loads this file into Rasa and the action server too.
"""

from __future__ import annotations

import logging
import re

# order matters: IBANs and e-mails before phone numbers, which would eat their digits
_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){3,7}(?:[ ]?[A-Z0-9]{1,3})?\b"), "[IBAN]"),
    (re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"), "[E-MAIL]"),
    (
        re.compile(r"\b(?:0?[1-9]|[12]\d|3[01])[./-](?:0?[1-9]|1[0-2])[./-](?:19|20)\d{2}\b"),
        "[DATUM]",
    ),
    (re.compile(r"\b(?:19|20)\d{2}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])\b"), "[DATUM]"),
    (re.compile(r"(?<![\w.-])(?:\+|00)?\d(?:[ ()/.-]{0,2}\d){6,}(?![\w-])"), "[TELEFON]"),
]


def mask(text: str) -> str:
    """The text with phone numbers, e-mail addresses, IBANs and dates replaced."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class MaskingFilter(logging.Filter):
    """Masks personal data in the formatted message (and exception text) of every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrites the record in place; never drops it."""
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a broken format string: keep what logging would do
            return True
        record.msg, record.args = mask(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask(record.exc_text)
        return True


def mask_every_record() -> None:
    """Masks every record this process creates, whatever handlers are configured later
    (Rasa and rasa_sdk set up their own logging)."""
    make = logging.getLogRecordFactory()
    masking = MaskingFilter()

    def factory(*args: object, **kwargs: object) -> logging.LogRecord:
        record = make(*args, **kwargs)
        masking.filter(record)
        return record

    logging.setLogRecordFactory(factory)
