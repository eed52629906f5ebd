"""The trainer workbench's turn keys (call_id:seq): anything else is a 400, never a 500."""

from __future__ import annotations

import pytest
from aiohttp import web

from voicebot.web.console_training import MAX_KEY_CHARS, _turn_of


@pytest.mark.parametrize(
    ("key", "turn"),
    [("c1:3", ("c1", 3)), ("a:b:12", ("a:b", 12)), ("sip-call@host:1", ("sip-call@host", 1))],
)
def test_a_turn_key_names_call_and_turn(key: str, turn: tuple[str, int]) -> None:
    assert _turn_of(key) == turn


@pytest.mark.parametrize(
    "key",
    ["c1:²", "c1:٣", "c1:", ":3", "c1", "c1:-1", "c1:1234567890", "x" * MAX_KEY_CHARS + ":1"],
)
def test_a_bad_turn_key_is_a_bad_request(key: str) -> None:
    with pytest.raises(web.HTTPBadRequest):
        _turn_of(key)
