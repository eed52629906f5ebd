"""The city's dialogues by voice: caller clips through the real gateway, Whisper, Rasa with the
action server, and Piper; the outcome is read from the call record and the stored requests.

Whisper base does not reliably hear synthetic spoken digits (audio_fixtures/README.md), so
postcodes and the hour are typed on the keypad here, as a caller may do; everything else is
spoken. Constrained recognition (voicebot/services/constrained.py) helps with spoken postcodes
but not yet reliably enough for this test: a run with the spoken clips
(postleitzahl_leverkusen.wav, nein.wav, telefon_ziffern.wav) heard 51373 as 12373 and "nein"
as "9" (issue 17, item 4 is open; see tests/unit/test_constrained*.py for what it does hear).
The action server of the stack acts as if today were a fixed Wednesday
(VOICEBOT_TODAY, tests/conftest.py) with a Sperrmüll lead time of two working days, so that "am
nächsten Montag" is the same valid day whatever the date of the test run.
"""

from __future__ import annotations

import asyncio
import datetime
import json
import urllib.request
from typing import Any

import pytest
import soundfile as sf

from tests.support import FIXTURES, Stack, turns
from voicebot.caller import CallResult, place_call

pytestmark = pytest.mark.integration
CALLER = "+4921477123"


def clip(name: str) -> Any:
    return sf.read(FIXTURES / name, dtype="int16")[0]


def call(stack: Stack, steps: list[Any], language: str = "de") -> CallResult:
    return asyncio.run(
        place_call(
            stack.media_url,
            steps,
            api_token=stack.token,
            caller=CALLER,
            language=language,
            answer_timeout=60,
        )
    )


def requests_of(stack: Stack, call_id: str) -> list[dict[str, Any]]:
    """The requests stored during one call, through the API."""
    request = urllib.request.Request(f"{stack.http_url}/api/requests?limit=500")
    request.add_header("Authorization", f"Bearer {stack.token}")
    with urllib.request.urlopen(request, timeout=10) as resp:
        return [r for r in json.loads(resp.read()) if r["call_id"] == call_id]


def bot_texts(result: CallResult) -> list[str]:
    return [t["text"] for t in turns(result, "bot")]


def next_monday(stack: Stack) -> str:
    """The Monday after the stack's fixed date, as stored (ISO)."""
    today = datetime.date.fromisoformat(stack.env["VOICEBOT_TODAY"])
    return (today + datetime.timedelta(days=7 - today.weekday())).isoformat()


def test_a_fee_question_is_answered_from_the_catalogue(stack: Stack) -> None:
    result = call(stack, [clip("reisepass_kosten.wav")])
    (question,) = turns(result, "caller")
    assert question["intent"] == "ask_fee", question
    answer = " ".join(bot_texts(result)[1:])
    assert "Reisepass" in answer and "Euro" in answer, answer


def test_a_call_in_english_gets_english_answers(stack: Stack) -> None:
    result = call(stack, [clip("en_oeffnungszeiten.wav")], language="en")
    (question,) = turns(result, "caller")
    assert "opening hours" in question["text"].lower(), question
    assert question["intent"] == "ask_opening_hours", question
    greeting, *answer = bot_texts(result)
    assert "artificial intelligence" in greeting.lower() or " AI" in greeting, greeting
    spoken = " ".join(answer)
    assert "Monday" in spoken and "Citizens' Office" in spoken, spoken
    assert "geöffnet" not in spoken


def test_sperrmuell_by_voice_names_what_is_missing_and_stores_the_complete_application(
    stack: Stack,
) -> None:
    steps = [
        clip("sperrmuell_anmelden.wav"),
        clip("adresse_leverkusen.wav"),  # street and house number, no postcode
        "50670#",  # Köln: not Leverkusen
        "51373#",
        clip("sofa_stuehle.wav"),
        clip("naechster_montag.wav"),
        clip("name_schmidt.wav"),
        clip("ja_stimmt.wav"),  # the number the caller is calling from
        clip("ja_stimmt.wav"),  # the read-back is right
    ]
    result = call(stack, steps)
    bot = bot_texts(result)
    said = "\n".join(bot)
    assert turns(result, "caller")[0]["intent"] == "request_sperrmuell", said
    assert "Mir fehlt noch die Postleitzahl" in said, said
    assert "fünf null sechs sieben null gehört nicht zu Leverkusen" in said, said
    assert "Vorgangsnummer" in said, said
    (stored,) = requests_of(stack, result.call_sid)
    data = stored["data"]
    assert stored["kind"] == "sperrmuell" and stored["status"] == "open"
    assert data["postcode"] == "51373" and data["house_number"] == "12", data
    assert "haupt" in data["street"].lower(), data
    assert any(i["count"] == 2 and i["item"].lower().startswith("st") for i in data["items"])
    assert data["date"] == next_monday(stack), data
    assert "Schmidt" in data["name"] and data["phone"] == CALLER, data
    assert stored["id_spoken"] in said


def test_an_appointment_request_by_voice_is_read_back_and_stored(stack: Stack) -> None:
    steps = [
        clip("termin_brauchen.wav"),
        clip("reisepass_neu.wav"),  # the service
        clip("naechster_montag.wav"),
        "10#",  # the hour on the keypad
        clip("name_schmidt.wav"),
        clip("ja_stimmt.wav"),  # call back on this number
        clip("ja_stimmt.wav"),  # the read-back is right
    ]
    result = call(stack, steps)
    said = "\n".join(bot_texts(result))
    assert turns(result, "caller")[0]["intent"] == "request_appointment", said
    read_back = next(t for t in bot_texts(result) if "Ist das richtig" in t)
    assert "Reisepass" in read_back and "zehn Uhr" in read_back and "Schmidt" in read_back
    (stored,) = requests_of(stack, result.call_sid)
    data = stored["data"]
    assert stored["kind"] == "appointment", stored
    assert data["service_id"] == "reisepass" and data["time"] == "10:00", data
    assert data["date"] == next_monday(stack), data
    assert "Schmidt" in data["name"] and data["phone"] == CALLER, data
    assert stored["id_spoken"] in said


def test_the_service_of_a_question_carries_into_the_appointment_and_nothing_half_is_stored(
    stack: Stack,
) -> None:
    """Reisepass question, then "Ich brauche einen Termin": the form knows the service and asks
    for the day; the caller hangs up before the end, so no request is stored."""
    result = call(stack, [clip("reisepass_kosten.wav"), clip("termin_brauchen.wav")])
    callers = turns(result, "caller")
    assert [t["intent"] for t in callers] == ["ask_fee", "request_appointment"], callers
    after = " ".join(bot_texts(result)[2:])
    assert "Reisepass" in after and "Tag" in after, after
    assert requests_of(stack, result.call_sid) == []
    assert result.record is not None and result.record["end_reason"] == "hangup"
