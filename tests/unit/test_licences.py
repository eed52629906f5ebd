"""Third-party licences: the metadata reader, the SPDX allowlist check, and the real venvs."""

from __future__ import annotations

from pathlib import Path

import pytest

from voicebot.tools import licences

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"License-Expression": "Apache-2.0 AND MIT"}, "Apache-2.0 AND MIT"),
        ({"License": "Apache 2.0"}, "Apache-2.0"),
        ({"License": "BSD 3-Clause License"}, "BSD-3-Clause"),
        ({"License": "  MIT  "}, "MIT"),
        # a whole licence text in License: the classifier decides
        (
            {
                "License": "Copyright (c) 2015, matplotlib project\nAll rights reserved.",
                "Classifier": ["License :: OSI Approved :: BSD License"],
            },
            "BSD-3-Clause",
        ),
        ({"Classifier": ["Programming Language :: Python"]}, licences.UNKNOWN),
        ({"License": "Proprietary"}, licences.UNKNOWN),
        ({}, licences.UNKNOWN),
    ],
)
def test_licence_from_metadata(fields: dict[str, object], expected: str) -> None:
    assert licences.licence_from_metadata(fields) == expected


@pytest.mark.parametrize(
    ("expression", "ok"),
    [
        ("MIT", True),
        ("Apache-2.0 AND MIT", True),
        ("Apache-2.0 OR BSD-2-Clause", True),
        ("SSPL-1.0 OR MIT", True),
        ("MIT AND SSPL-1.0", False),
        ("(MIT AND SSPL-1.0) OR BUSL-1.1", False),
        ("GPL-2.0-only", False),  # not combinable with GPL-3.0-or-later
        ("Proprietary", False),
        (licences.UNKNOWN, False),
    ],
)
def test_allowlist_expression(expression: str, ok: bool) -> None:
    allowlist = ["MIT", "Apache-2.0", "BSD-2-Clause", "GPL-3.0-or-later"]
    assert licences.allowed(expression, allowlist) is ok


def test_product_licence_is_stated() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert 'license = "GPL-3.0-or-later"' in pyproject
    assert "GNU GENERAL PUBLIC LICENSE" in (ROOT / "LICENSE").read_text(encoding="utf-8")


def test_installed_packages_are_allowed_and_listed() -> None:
    for venv in licences.VENVS.values():
        if not (venv / "bin" / "python").exists():
            pytest.skip(f"{venv} is missing: run `make bootstrap`")
    policy = licences.load_policy()
    packages = licences.inventory(policy)
    assert licences.problems(packages, policy) == []
    assert licences.unlisted(packages) == []
    table = ROOT / "docs" / "third-party-licences.md"
    assert table.read_text(encoding="utf-8") == licences.render(packages), (
        "docs/third-party-licences.md is out of date: run "
        "`.venv/bin/python voicebot/tools/licences.py --write docs/third-party-licences.md`"
    )
