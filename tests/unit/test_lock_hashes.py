"""The lock files pin every package to an exact version and the sha256 of its files.

`scripts/bootstrap.sh` installs them with `pip --require-hashes`: a file that is not the one
pinned is refused. A pin added without hashes would fail there; this says which and how to mend
it (scripts/hash_locks.py) before anyone runs the set-up.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LOCKS = ["requirements/gateway.lock", "requirements/rasa.lock", "requirements/models.txt"]

sys.path.insert(0, str(ROOT / "scripts"))
import hash_locks  # noqa: E402


def requirements(path: Path) -> list[str]:
    """One entry per requirement: its lines joined (backslash continuations)."""
    text = path.read_text(encoding="utf-8").replace("\\\n", " ")
    return [line.strip() for line in text.splitlines() if line.strip() and line[0] != "#"]


@pytest.mark.parametrize("lock", LOCKS)
def test_every_pin_is_exact_and_hashed(lock: str) -> None:
    unhashed = []
    for entry in requirements(ROOT / lock):
        assert re.match(r"^[A-Za-z0-9][A-Za-z0-9._-]*==\S+", entry), f"not an exact pin: {entry}"
        if not re.search(r"--hash=sha256:[0-9a-f]{64}", entry):
            unhashed.append(entry.split()[0])
    assert not unhashed, f"{lock}: no hashes for {unhashed}: run scripts/hash_locks.py {lock}"


def test_bootstrap_installs_with_hashes() -> None:
    script = (ROOT / "scripts" / "bootstrap.sh").read_text(encoding="utf-8")
    installs = [line for line in script.splitlines() if "pip install" in line and " -r " in line]
    assert installs and all("--require-hashes" in line for line in installs), installs


@pytest.mark.parametrize(
    ("filename", "name", "version", "match"),
    [
        ("aiohttp-3.14.5-cp311-cp311-manylinux2014_x86_64.whl", "aiohttp", "3.14.5", True),
        ("aiohttp-3.14.5.tar.gz", "aiohttp", "3.14.5", True),
        ("aiohttp-3.14.50.tar.gz", "aiohttp", "3.14.5", False),
        ("aiohttp-3.14.4-py3-none-any.whl", "aiohttp", "3.14.5", False),
        ("typing_extensions-4.15.0-py3-none-any.whl", "typing-extensions", "4.15.0", True),
        ("PyYAML-6.0.3.tar.gz", "pyyaml", "6.0.3", True),
        ("aiohttp_cors-3.14.5-py3-none-any.whl", "aiohttp", "3.14.5", False),
    ],
)
def test_file_version_matches(filename: str, name: str, version: str, match: bool) -> None:
    assert hash_locks.file_version_matches(filename, name, version) is match
