"""actions/names.py: one name parser for every form (appointment, Sperrmüll)."""

from __future__ import annotations

import pytest
from actions.names import parse_name


@pytest.mark.parametrize(
    ("heard", "name"),
    [
        ("Mein Name ist Schmidt", "Schmidt"),
        ("mein name ist anna schmidt.", "Anna Schmidt"),
        ("Ich heiße Jürgen von der Heide", "Jürgen von der Heide"),
        ("S wie Siegfried C H M I D T", "Schmidt"),
        ("Schmidt, bitte", "Schmidt"),
        # answers to another question, or the name lost by the speech recognition
        ("Ja, das stimmt", None),
        ("Nein, das ist falsch", None),
        ("Genau.", None),
        ("Mein Name ist", None),
        ("Mein Name ist.", None),
        ("in drei Wochen", None),
        ("zwölf", None),
        ("weiß ich nicht", None),
        ("", None),
    ],
)
def test_parse_name(heard: str, name: str | None) -> None:
    assert parse_name(heard) == name
