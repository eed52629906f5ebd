"""Hypothesis settings and seeds for the fuzz targets (tests/unit/test_fuzz_*.py).

Property of every target: any input gives either a parsed value or the module's documented
parse error (`ProtocolError` and its subclass `SipParseError`), never another exception, and
each input is handled within the deadline (generous, for a loaded CI machine: it catches
run-away parsing, not ordinary slowness).

Profiles, chosen with `VOICEBOT_FUZZ` (default `ci`):
- `ci`: a fixed number of examples per target, derandomized (the same inputs on every run),
  so `make test` stays at a few seconds per target and never flakes on a new random input;
- `deep`: many more random examples, for a fuzzing session by hand:
  `VOICEBOT_FUZZ=deep .venv/bin/python -m pytest tests/unit -k fuzz`.

Seeds: the RFC 4475 torture messages in ../shared/sip-torture (when present) are fed as they
are and mutated; without them those tests are skipped with the reason.
"""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from tests.support import SHARED

TORTURE = SHARED / "sip-torture" / "rfc4475"

_COMMON = {
    "deadline": timedelta(seconds=2),
    "database": None,  # nothing written into the repository
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
}
settings.register_profile("ci", max_examples=300, derandomize=True, **_COMMON)  # type: ignore[arg-type]
settings.register_profile("deep", max_examples=20_000, **_COMMON)  # type: ignore[arg-type]
PROFILE = os.environ.get("VOICEBOT_FUZZ", "ci")
settings.load_profile(PROFILE)


def torture_seeds() -> list[bytes]:
    """The torture messages as bytes; skips the calling test when they are absent."""
    files = sorted(TORTURE.glob("*.dat")) if TORTURE.is_dir() else []
    if not files:
        pytest.skip(f"no SIP torture messages in {TORTURE} (../shared not checked out here)")
    return [path.read_bytes() for path in files]


@st.composite
def mutated(draw: st.DrawFn, seeds: list[bytes]) -> bytes:
    """One seed with a few byte-level mutations: flips, insertions, deletions, truncation,
    duplication of a slice (what a broken or hostile peer sends)."""
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(0, 8))):
        kind = draw(st.sampled_from(["flip", "insert", "delete", "truncate", "repeat"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "flip" and data:
            data[at] = draw(st.integers(0, 255))
        elif kind == "insert":
            data[at:at] = draw(
                st.sampled_from(
                    [
                        b"\r\n",
                        b":",
                        b";",
                        b",",
                        b"<",
                        b">",
                        b'"',
                        b"\x00",
                        b"\xff",
                        b" ",
                        b"\t",
                        b"%",
                        b"=",
                        b"Content-Length: 99999\r\n",
                    ]
                )
            )
        elif kind == "delete":
            del data[at : at + draw(st.integers(1, 16))]
        elif kind == "truncate":
            del data[at:]
        elif kind == "repeat":
            data[at:at] = data[at : at + draw(st.integers(1, 64))] * draw(st.integers(1, 20))
    return bytes(data)


def lines(line: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Text of lines drawn from `line`, joined by CRLF or LF (both are seen in the wild)."""
    return st.tuples(st.lists(line, max_size=30), st.sampled_from(["\r\n", "\n"])).map(
        lambda parts: parts[1].join(parts[0]) + parts[1]
    )
