"""The DTMF collector: keys become one entry at '#' or after the inter-digit pause."""

from __future__ import annotations

import asyncio

from tests.unit.pipeline_fakes import until
from voicebot.pipeline.dtmf import DtmfCollector


def test_hash_ends_the_entry_at_once() -> None:
    entries: list[str] = []

    async def scenario() -> None:
        keys = DtmfCollector(3600, entries.append)  # the timer never fires in this test
        for digit in "51373#":
            keys.press(digit)
        assert not keys.collecting
        keys.press("#")  # an empty entry is no entry

    asyncio.run(scenario())
    assert entries == ["51373"]


def test_the_pause_after_the_last_key_ends_the_entry() -> None:
    entries: list[str] = []

    async def scenario() -> None:
        keys = DtmfCollector(0.02, entries.append)
        keys.press("4")
        keys.press("2")
        assert keys.collecting
        await until(lambda: bool(entries))
        assert not keys.collecting

    asyncio.run(scenario())
    assert entries == ["42"]


def test_cancel_forgets_the_keys_and_stops_the_timer() -> None:
    entries: list[str] = []

    async def scenario() -> None:
        keys = DtmfCollector(0.001, entries.append)
        keys.press("9")
        keys.cancel()
        later = DtmfCollector(0.002, entries.append)  # a timer that fires after the first one
        later.press("1")
        await until(lambda: bool(entries))

    asyncio.run(scenario())
    assert entries == ["1"]
