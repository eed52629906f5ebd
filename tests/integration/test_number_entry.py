"""Number-based entry over SIP (issue 16, item 6): the dialled number picks the language.

The test stack's number plan (tests/conftest.py) has an English service number. sipp dials
it (Request-URI and To user): the call starts in English, its greeting is the English one;
the same call to the usual number starts in German.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import ENGLISH_NUMBER
from tests.integration.sip_peers import SIPP, call_ids, record_of, run_sipp
from tests.support import Stack

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(SIPP is None, reason="sipp is not installed (Debian package sip-tester)"),
]


def _dial(stack: Stack, tmp_path: Path, dialled: str) -> dict:
    keys = {"dialled": dialled, "listen_ms": "3000"}
    run = run_sipp(stack, "uac_dialled.xml", tmp_path, keys, timeout=40)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    return record_of(stack, call_ids(tmp_path / "messages.log")[0])


def _greeting(record: dict) -> str:
    bot = [t["text"] for t in record["turns"] if t["speaker"] == "bot" and t["text"]]
    assert bot, record
    return str(bot[0])


def test_the_english_service_number_starts_in_english(stack: Stack, tmp_path: Path) -> None:
    record = _dial(stack, tmp_path, f"+{ENGLISH_NUMBER}")
    assert record["language"] == "en"
    greeting = _greeting(record)
    assert "artificial intelligence" in greeting, greeting


def test_another_number_starts_in_german(stack: Stack, tmp_path: Path) -> None:
    record = _dial(stack, tmp_path, "bot")
    assert record["language"] == "de"
    assert "künstliche Intelligenz" in _greeting(record)
