"""End-of-turn by dialogue state, by voice through the real gateway and Rasa: the Sperrmüll
address question asks for the long end-of-turn silence ({"expect": "address"}), so an address
said with a 900 ms pause in the middle arrives as one utterance, not as "Hauptstraße" alone.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import soundfile as sf

from tests.support import FIXTURES, Stack, turns
from voicebot.caller import place_call

pytestmark = pytest.mark.integration


def clip(name: str) -> Any:
    return sf.read(FIXTURES / name, dtype="int16")[0]


def test_an_address_with_a_900_ms_pause_arrives_as_one_utterance(stack: Stack) -> None:
    # adresse_pause.wav: "Hauptstraße", 900 ms of silence, "zwölf in Leverkusen"
    steps = [clip("sperrmuell_anmelden.wav"), clip("adresse_pause.wav")]
    result = asyncio.run(
        place_call(
            stack.media_url, steps, api_token=stack.token, caller="+4921477321", answer_timeout=60
        )
    )
    bot = [t["text"] for t in turns(result, "bot")]
    request, address = turns(result, "caller")  # one turn for the address, not two
    assert request["intent"] == "request_sperrmuell", bot
    heard = address["text"].lower()
    assert "haupt" in heard and ("12" in heard or "zwölf" in heard), address
    assert address["endpointing_ms"] >= 1000, address  # the long end-of-turn silence
    # street and house number were taken together: the postcode is what the bot asks next
    after = " ".join(t["text"] for t in turns(result, "bot") if t["seq"] > address["seq"])
    assert "Postleitzahl" in after and "Hausnummer" not in after, after
