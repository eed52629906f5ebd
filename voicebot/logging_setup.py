"""Logging for the gateway: personal data masked in every record, files rotated and private.

Citizens say their phone number, e-mail address, IBAN and birth date to the bot; none of it
belongs in a log that operators read and keep. `MaskingFilter` rewrites each record's final
message; `setup_logging` puts it on every handler and, with a log file, rotates that file at a
size with a bounded number of backups, readable by the owner only.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import re
from pathlib import Path

from voicebot.config import Settings

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

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


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A size-rotated log file created 0600."""

    def _open(self):  # type: ignore[no-untyped-def]  # matches the base class
        """Opens the file owner-only before logging writes to it."""
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.close(fd)
        os.chmod(self.baseFilename, 0o600)
        return super()._open()


def setup_logging(settings: Settings, level: str | None = None) -> None:
    """Root logging to stderr or to the rotated `settings.log_file`, always masked."""
    handler: logging.Handler
    if settings.log_file is not None:
        path = Path(settings.log_file)
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        handler = PrivateRotatingFileHandler(
            path,
            maxBytes=max(1, settings.log_max_mb) * 1024 * 1024,
            backupCount=max(1, settings.log_backups),
            encoding="utf-8",
        )
    else:
        handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    handler.addFilter(MaskingFilter())
    logging.basicConfig(level=(level or settings.log_level).upper(), handlers=[handler])
