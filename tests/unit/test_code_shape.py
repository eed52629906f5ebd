"""The shape the architecture promises (docs/architecture.md): small modules and classes.

The import rules (layers, a pure protocol package, no cycles) are import-linter contracts in
`.importlinter`, checked by `make lint`; the sizes are checked here.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = [ROOT / "voicebot", ROOT / "rasa_project" / "actions"]
MAX_MODULE_LINES = 500
MAX_CLASS_LINES = 250


def _sources() -> list[Path]:
    return sorted(p for package in PACKAGES for p in package.rglob("*.py"))


def test_the_packages_are_where_the_check_looks() -> None:
    assert len(_sources()) > 100


@pytest.mark.parametrize("path", _sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_modules_and_classes_stay_small(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    lines = text.count("\n")
    assert lines <= MAX_MODULE_LINES, f"{lines} lines: split the module"
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.ClassDef):
            size = (node.end_lineno or node.lineno) - node.lineno + 1
            assert size <= MAX_CLASS_LINES, f"class {node.name} has {size} lines: split it"


def test_the_size_check_catches_a_large_class() -> None:
    source = "class Big:\n" + "    x = 1\n" * (MAX_CLASS_LINES + 1)
    node = next(n for n in ast.walk(ast.parse(source)) if isinstance(n, ast.ClassDef))
    assert (node.end_lineno or 0) - node.lineno + 1 > MAX_CLASS_LINES
