"""What Rasa would guess for a turn it classified as `nlu_fallback`.

The FallbackClassifier replaces the intent of an unclear message by `nlu_fallback`; the call
record keeps only that. For the workbench's grouping, the masked text is parsed again by the
running Rasa server (`POST /model/parse`, on loopback with its token) and the best intent of
its ranking that is not `nlu_fallback` is taken as the guess. Bounded: at most MAX_PARSES per
page view, a few at a time, each with a short deadline; results are cached per turn (the
cache forgets the oldest past MAX_CACHED). Rasa not reachable: no guesses, nothing fails.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from typing import Any

import aiohttp

from voicebot.config import RasaSettings

log = logging.getLogger(__name__)
FALLBACK = "nlu_fallback"
MAX_PARSES = 100
PARALLEL = 4
TIMEOUT_S = 3.0
MAX_CACHED = 10_000
Guess = tuple[str, float]  # intent, confidence


def best_guess(parsed: Any) -> Guess | None:
    """The best intent of a /model/parse answer's ranking other than nlu_fallback."""
    ranking = parsed.get("intent_ranking") if isinstance(parsed, dict) else None
    for item in ranking or []:
        name, confidence = item.get("name"), item.get("confidence")
        if isinstance(name, str) and name != FALLBACK and isinstance(confidence, (int, float)):
            return name, float(confidence)
    return None


class Guesser:
    """Guesses for fallback turns from one Rasa server, cached by turn key."""

    def __init__(self, settings: RasaSettings) -> None:
        self._url = settings.url.rstrip("/") + "/model/parse"
        self._params = {"token": settings.token} if settings.token else {}
        self._cache: OrderedDict[str, Guess | None] = OrderedDict()

    async def _parse(self, http: aiohttp.ClientSession, text: str) -> Guess | None:
        async with http.post(self._url, params=self._params, json={"text": text}) as resp:
            if resp.status != 200:
                raise aiohttp.ClientError(f"HTTP {resp.status}")
            return best_guess(await resp.json(content_type=None))

    async def guesses(self, turns: dict[str, str]) -> dict[str, Guess]:
        """Turn key -> guess for the given turns (key -> masked text) that Rasa could guess."""
        todo = [key for key in turns if key not in self._cache][:MAX_PARSES]
        if todo:
            gate = asyncio.Semaphore(PARALLEL)
            timeout = aiohttp.ClientTimeout(total=TIMEOUT_S)
            async with aiohttp.ClientSession(timeout=timeout) as http:

                async def one(key: str) -> None:
                    async with gate:
                        self._cache[key] = await self._parse(http, turns[key])

                results = await asyncio.gather(*(one(k) for k in todo), return_exceptions=True)
            failed = [r for r in results if isinstance(r, Exception)]
            if failed:  # Rasa down or busy: those turns stay in their own group
                log.info("training: %d fallback turn(s) not parsed: %s", len(failed), failed[0])
            while len(self._cache) > MAX_CACHED:
                self._cache.popitem(last=False)
        return {k: g for k in turns if (g := self._cache.get(k)) is not None}
