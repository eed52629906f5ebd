"""Office names as Whisper writes them the way they sound (Kölner Phonetik, phonetic.py)."""

from __future__ import annotations

import pytest
from actions.services import named_office


@pytest.mark.parametrize(
    ("said", "office_id"),
    [
        ("das bürger bühro", "buergerbuero"),
        ("Fundbühro", "fundbuero"),
        ("Standes Amt", "standesamt"),
    ],
)
def test_office_names_as_they_sound(said: str, office_id: str) -> None:
    office = named_office(said)
    assert office is not None and office.id == office_id


def test_no_office_for_words_that_only_share_a_first_sound() -> None:
    assert named_office("ich habe eine Frage zum Sperrmüll") is None
