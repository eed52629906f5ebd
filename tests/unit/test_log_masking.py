"""Personal data never reaches a log file, and log files rotate (issue 12, findings 5, 14)."""

from __future__ import annotations

import logging
import stat
from pathlib import Path

import pytest

from voicebot.config import Settings
from voicebot.logging_setup import MaskingFilter, mask, setup_logging


@pytest.mark.parametrize(
    "secret",
    [
        "0171 2345678",
        "+49 (0)30 1234567",
        "0049301234567",
        "max.mustermann@example.de",
        "DE89 3704 0044 0532 0130 00",
        "DE89370400440532013000",
        "12.03.1985",
        "1985-03-12",
    ],
)
def test_phone_numbers_emails_ibans_and_birth_dates_are_masked(secret: str) -> None:
    assert secret not in mask(f"call CA1: caller said {secret} (turn 3)")


def test_ordinary_log_lines_stay_readable() -> None:
    line = "call 3f9a2b1c-1234-4567-89ab-cdef01234567 on port 8080 took 3.5 s"
    assert mask(line) == line


def test_the_filter_masks_arguments_and_exceptions() -> None:
    record = logging.LogRecord("x", logging.INFO, "f", 1, "caller %s at %s", ("a@b.de", 1), None)
    try:
        raise ValueError("bad number 0171 2345678")
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()
    assert MaskingFilter().filter(record)
    text = logging.Formatter().format(record)
    assert "a@b.de" not in text and "2345678" not in text and "[E-MAIL]" in text


def test_the_log_file_is_private_masked_and_rotated(tmp_path: Path) -> None:
    log_file = tmp_path / "logs" / "gateway.log"
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    root.handlers = []
    try:
        setup_logging(Settings(log_file=log_file, log_max_mb=1, log_backups=2), "INFO")
        for i in range(7000):  # about 4 MB: more than 1 MB x (1 + 2 backups)
            logging.getLogger("voicebot.test").info("line %d from 0171 2345678 %s", i, "x" * 500)
    finally:
        for handler in root.handlers:
            handler.close()
        root.handlers, root.level = saved[0], saved[1]
    files = sorted(p.name for p in log_file.parent.iterdir())
    assert files == ["gateway.log", "gateway.log.1", "gateway.log.2"]  # bounded
    assert stat.S_IMODE(log_file.stat().st_mode) == 0o600
    assert "2345678" not in log_file.read_text() and "[TELEFON]" in log_file.read_text()
