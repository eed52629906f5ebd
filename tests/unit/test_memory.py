"""The malloc arena cap of the gateway process."""

from __future__ import annotations

import platform

import pytest

from voicebot.memory import limit_malloc_arenas


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")
def test_arenas_are_capped_unless_the_environment_says_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    assert limit_malloc_arenas(2) is True
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")  # the operator's choice is left alone
    assert limit_malloc_arenas(2) is False
