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
from pathlib import Path

from voicebot.config import Settings
from voicebot.log_masking import MaskingFilter, mask

__all__ = ["MaskingFilter", "mask", "setup_logging"]

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


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
