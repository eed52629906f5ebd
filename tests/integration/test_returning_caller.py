"""A returning caller (issue 16, item 2), real gateway, Rasa and action server over the media
WebSocket: a Sperrmüll request is stored (through the API, as the form stores it) and marked
done with a note for the caller; then

- a call from the same number keys the Vorgangsnummer: the status and the note are told;
- a call from another number keys it: the postcode is asked first, the right one is keyed and
  the status is told;
- a call from another number with a wrong postcode: nothing about the request is told.

The Vorgangsnummer is keyed as the caller would on the keypad (a letter is the key it is
printed on); the checks are on what the bot said (the call record's bot turns).
"""

from __future__ import annotations

import asyncio
import json
import urllib.request
from typing import Any

import pytest

from tests.support import Stack, turns
from voicebot.caller import place_call
from voicebot.store.lookup import keypad_form

pytestmark = pytest.mark.integration
OWNER = "+4921477123"
NOTE = "Die Abholung ist am dritten März."


def _post(stack: Stack, path: str, body: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(
        stack.http_url + path,
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {stack.token}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as resp:
        return dict(json.loads(resp.read()))


@pytest.fixture(scope="module")
def stored(stack: Stack) -> str:
    """A Sperrmüll request of OWNER, done, with a note for the caller; its id."""
    data = {"street": "Hauptstraße", "house_number": "12", "postcode": "51373", "name": "Anna"}
    request = _post(
        stack,
        "/api/requests",
        {"kind": "sperrmuell", "call_id": "returning-fixture", "caller": OWNER, "data": data,
         "summary": "Sperrmüll: Hauptstraße 12"},
    )  # fmt: skip
    _post(stack, f"/api/requests/{request['id']}/done", {"note": f"Für den Anrufer: {NOTE}"})
    return str(request["id"])


def _call(stack: Stack, caller: str, keys: list[str]) -> list[str]:
    result = asyncio.run(
        place_call(
            stack.media_url,
            keys,
            api_token=stack.token,
            caller=caller,
            answer_timeout=60,
            quiet_after_answer=3.0,
        )
    )
    assert result.record, result
    return [str(t["text"]) for t in turns(result, "bot")]


def test_the_same_number_hears_the_status(stack: Stack, stored: str) -> None:
    bot = " ".join(_call(stack, OWNER, [keypad_form(stored) + "#"]))
    assert "Sperrmüll-Anmeldung" in bot and "erledigt" in bot, bot
    assert NOTE in bot, bot


def test_another_number_is_asked_the_postcode_first(stack: Stack, stored: str) -> None:
    said = _call(stack, "+4917612345", [keypad_form(stored) + "#", "51373#"])
    asked = next(i for i, text in enumerate(said) if "Postleitzahl" in text)
    told = next(i for i, text in enumerate(said) if "erledigt" in text)
    assert asked < told, said
    assert not any("erledigt" in text or NOTE in text for text in said[: asked + 1]), said


def test_a_wrong_postcode_hears_nothing(stack: Stack, stored: str) -> None:
    said = _call(stack, "+4917699999", [keypad_form(stored) + "#", "51379#"])
    bot = " ".join(said)
    assert "Postleitzahl" in bot and "passt leider nicht" in bot, said
    assert "erledigt" not in bot and NOTE not in bot and "Sperrmüll" not in bot, said
