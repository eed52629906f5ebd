"""Number-based entry: the plan's format, the dialled number's normal form, what a call gets."""

from __future__ import annotations

import pytest

from voicebot.config import load_settings
from voicebot.errors import ConfigError
from voicebot.number_plan import NumberEntry, call_entry, lookup, normalise_number, parse_entry
from voicebot.protocol.sip.message import parse_datagram
from voicebot.transports.sip.calls import dialled_user

PLAN = {"+49 214 406-00": "en", "4921440601": "de:standesamt", "KFZ": ":kfz"}


@pytest.mark.parametrize(
    ("dialled", "key"),
    [
        ("+49 214 406-00", "4921440600"),
        ("0049214 40600", "4921440600"),
        ("4921440600", "4921440600"),
        ("Hotline-EN", "hotline-en"),
        ("", None),
        (None, None),
        ("bad name with spaces!", None),
    ],
)
def test_dialled_numbers_are_compared_by_their_digits(dialled: str | None, key: str | None) -> None:
    assert normalise_number(dialled) == key


def test_entries_name_a_language_a_topic_or_both() -> None:
    assert parse_entry("en") == NumberEntry("en", None)
    assert parse_entry("DE:Standesamt") == NumberEntry("de", "standesamt")
    assert parse_entry(":kfz") == NumberEntry(None, "kfz")


@pytest.mark.parametrize(
    ("value", "needle"), [("fr", "language"), (":", "neither"), ("de:a b", "topic")]
)
def test_a_bad_entry_is_a_config_error_naming_it(value: str, needle: str) -> None:
    with pytest.raises(ConfigError, match=needle):
        parse_entry(value)


def test_the_plan_comes_from_the_file_or_the_environment(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "voicebot.toml"
    path.write_text('[numbers.plan]\n"+49 214 40600" = "en"\n')
    assert load_settings(path, env={}).numbers.plan == {"+49 214 40600": "en"}
    env = {"VOICEBOT_NUMBERS_PLAN": "4921440600=en,4921440601=de:standesamt"}
    assert load_settings(None, env=env).numbers.plan["4921440601"] == "de:standesamt"
    with pytest.raises(ConfigError, match="numbers"):
        load_settings(None, env={"VOICEBOT_NUMBERS_PLAN": "4921440600=klingonisch"})
    with pytest.raises(ConfigError, match="twice"):
        load_settings(None, env={"VOICEBOT_NUMBERS_PLAN": "+4921440600=en,004921440600=de"})


def test_a_call_gets_the_plans_language_and_topic() -> None:
    assert lookup(PLAN, "+4921440600") == NumberEntry("en", None)
    assert call_entry(PLAN, "4921440601", "de") == ("de", "standesamt")
    assert call_entry(PLAN, "kfz", "en") == ("en", "kfz")
    assert call_entry(PLAN, "4921499999", "de") == ("de", None)
    assert call_entry({}, None, "de") == ("de", None)


def test_explicit_parameters_win_over_the_plan() -> None:
    assert call_entry(PLAN, "+4921440600", "de", language="de") == ("de", None)
    assert call_entry(PLAN, "+4921440600", "de", topic="Steuern") == ("en", "steuern")
    assert call_entry(PLAN, "+4921440600", "de", language="xx", topic="<b>") == ("en", None)


def _invite(request_uri: str, to: str) -> bytes:
    return (
        f"INVITE {request_uri} SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK1\r\n"
        "From: <sip:+4921411111@127.0.0.1>;tag=1\r\n"
        f"To: {to}\r\n"
        "Call-ID: dialled-1\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
    ).encode()


@pytest.mark.parametrize(
    ("request_uri", "to", "dialled"),
    [
        ("sip:+4921440600@10.0.0.1", "<sip:bot@10.0.0.1>", "+4921440600"),
        ("sip:10.0.0.1", "<sip:+4921440601@10.0.0.1>", "+4921440601"),
        ("sip:10.0.0.1", "<sip:10.0.0.1>", None),
    ],
)
def test_the_dialled_number_is_the_request_uri_user_else_the_to_user(
    request_uri: str, to: str, dialled: str | None
) -> None:
    invite = parse_datagram(_invite(request_uri, to))
    assert dialled_user(invite) == dialled  # type: ignore[arg-type]


def test_the_call_start_tells_rasa_the_dialled_number_and_its_topic() -> None:
    import asyncio

    from tests.unit.pipeline_fakes import FakeRasa, Fakes, until
    from voicebot.pipeline.call import CallInfo, CallSession
    from voicebot.services.dialogue import BotMessage

    fakes = Fakes(rasa=FakeRasa([BotMessage(text="Guten Tag.")]))

    async def main() -> None:
        info = CallInfo("c1", "test", "de", caller="+4921430", dialled="4921440601", topic="kfz")
        session = CallSession(info, fakes.sink, fakes.services())
        await session.start()
        try:
            await until(lambda: len(fakes.rasa.sent) >= 1)
        finally:
            await session.finish()

    try:
        asyncio.run(main())
    finally:
        fakes.pool.shutdown()
    metadata = fakes.rasa.sent[0][1]
    assert metadata["dialled"] == "4921440601" and metadata["topic"] == "kfz"
