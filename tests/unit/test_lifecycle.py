"""The call lifecycle: admission, start and end, and what an exception anywhere leaves behind.

Real `CallSession`s and a real `CallStore` on a temporary SQLite file; ASR, Rasa and TTS are the
pipeline's fakes. Whatever fails, the slot is free afterwards, the counters add up and the
record is closed, and it is closed before the transport closes the media.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from tests.unit.pipeline_fakes import (
    FakeHandoff,
    FakeRasa,
    Fakes,
    FakeSink,
    pcm,
    settings,
    until,
)
from voicebot.caller import media_headers
from voicebot.config import MediaSettings
from voicebot.lifecycle import TRANSPORT_FAILED, CallLifecycle
from voicebot.pipeline.call import CallInfo, CallSession
from voicebot.pipeline.prompts import PROMPT_TEXTS
from voicebot.protocol.media import twilio
from voicebot.services.dialogue import BotMessage
from voicebot.store.calls import CallRecord, CallStore
from voicebot.transports.twilio_ws import twilio_stream_handler

MEDIA_TOKEN = "media-token-for-tests"


class FlakyStore(CallStore):
    """The real store, with writes that fail when told to (after or instead of writing)."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.fail_after_start: BaseException | None = None
        self.fail_end: list[BaseException] = []  # raised by the next end_call(s), in order

    async def start_call(self, call: CallRecord) -> None:
        await super().start_call(call)
        if self.fail_after_start is not None:
            raise self.fail_after_start

    async def end_call(self, call_id: str, reason: str, *args: Any) -> None:
        if self.fail_end:
            raise self.fail_end.pop(0)
        await super().end_call(call_id, reason, *args)


@asynccontextmanager
async def lifecycle(
    tmp_path: Path,
    *replies: list[BotMessage],
    max_calls: int = 2,
    handoff: FakeHandoff | None = None,
    **media_settings: Any,
) -> AsyncIterator[tuple[CallLifecycle, FlakyStore]]:
    """A lifecycle whose models are loaded, over fakes and a real store; `media_settings`
    override the media WebSocket's (the media token is MEDIA_TOKEN unless given)."""
    store = FlakyStore(tmp_path / "calls.sqlite")
    await store.open()
    media = MediaSettings(**{"token": MEDIA_TOKEN, **media_settings})
    fakes = Fakes(settings=settings(max_calls=max_calls, media=media), rasa=FakeRasa(*replies))
    fakes.store = store  # type: ignore[assignment]
    fakes.handoff = handoff
    calls = CallLifecycle(fakes.settings, Counter())
    calls.services = fakes.services()
    try:
        yield calls, store
    finally:
        await calls.shut_down()
        await store.close()
        fakes.pool.shutdown(wait=False)


def info(n: int = 1) -> CallInfo:
    return CallInfo(call_id=f"CA{n}", transport="twilio", language="de", stream_id=f"MZ{n}")


async def record(store: CallStore, call_id: str = "CA1") -> CallRecord:
    """The record of the latest call the platform knows as `call_id` (the key is the gateway's)."""
    found = await store.find_call(call_id)
    assert found is not None
    return found


class HangUps:
    """The transport's hang-up: records each, with the record as it stood at that moment."""

    def __init__(self, store: CallStore, call_id: str = "CA1") -> None:
        self.store, self.call_id = store, call_id
        self.seen: list[tuple[str, str | None]] = []

    async def __call__(self, reason: str) -> None:
        self.seen.append((reason, (await record(self.store, self.call_id)).end_reason))


def run(scenario: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(scenario())


def test_a_call_ends_once_frees_its_slot_and_closes_its_record(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with lifecycle(tmp_path) as (calls, store):
            hang_ups = HangUps(store)
            call = await calls.start(info(), FakeSink(), hang_ups)
            assert len(calls) == 1 and (await record(store)).ended_at is None
            await asyncio.gather(call.end("hangup"), call.end("protocol_error"))
            await call.end("hangup")
            assert len(calls) == 0 and call.ended
            assert (await record(store)).end_reason == "hangup"
            assert calls.metrics["calls_started"] == calls.metrics["calls_ended"] == 1
            assert hang_ups.seen == []  # the transport ended it: it closes its own side

    run(scenario)


def test_admission_refuses_at_max_calls_and_counts_refusals(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with lifecycle(tmp_path, max_calls=1) as (calls, store):
            assert calls.refusal(ringing=0) is None
            assert calls.refusal(ringing=1) == (
                "maximum of 1 concurrent calls reached (some still ringing)"
            )
            call = await calls.start(info(), FakeSink(), HangUps(store))
            assert calls.refusal() == "maximum of 1 concurrent calls reached"
            await call.end("hangup")
            assert calls.refusal() is None
            assert calls.metrics["calls_refused"] == 2

    run(scenario)


def test_no_call_before_the_models_are_loaded() -> None:
    calls = CallLifecycle(settings(), Counter())
    assert calls.refusal() == "models loading, try again later"
    calls.unavailable = "models failed"
    assert calls.refusal() == "models failed, try again later"
    assert calls.metrics["calls_refused"] == 2


def test_an_exception_in_session_start_frees_the_slot_and_closes_the_record(
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        async with lifecycle(tmp_path) as (calls, store):
            store.fail_after_start = RuntimeError("disk on fire")
            with pytest.raises(RuntimeError):
                await calls.start(info(), FakeSink(), HangUps(store))
            assert len(calls) == 0
            assert (await record(store)).end_reason == "error"
            assert calls.metrics["calls_started"] == calls.metrics["calls_ended"] == 1

    run(scenario)


@pytest.mark.parametrize("where", ["finish", "record_write"])
def test_an_exception_while_finishing_still_closes_the_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    """The session's finish raises (or the record write in it): the lifecycle closes the
    record itself, frees the slot and counts the failure."""

    async def broken_finish(self: CallSession, reason: str = "hangup") -> None:
        raise RuntimeError("finish failed")

    if where == "finish":
        monkeypatch.setattr(CallSession, "finish", broken_finish)

    async def scenario() -> None:
        async with lifecycle(tmp_path) as (calls, store):
            if where == "record_write":
                store.fail_end.append(RuntimeError("write failed"))
            call = await calls.start(info(), FakeSink(), HangUps(store))
            await call.end("hangup")
            assert len(calls) == 0
            assert (await record(store)).end_reason == "hangup"
            assert calls.metrics["calls_finish_failed"] == 1
            assert calls.metrics["calls_ended"] == 1

    run(scenario)


def test_a_cancelled_caller_cannot_leave_the_call_half_ended(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with lifecycle(tmp_path) as (calls, store):
            call = await calls.start(info(), FakeSink(), HangUps(store))
            ending = asyncio.create_task(call.end("hangup"))
            await asyncio.sleep(0)  # the end has begun
            ending.cancel()
            await call.end("hangup")  # waits for the same end, which went on
            assert len(calls) == 0 and (await record(store)).end_reason == "hangup"

    run(scenario)


def test_the_bot_ends_the_call_record_first_then_the_hang_up(tmp_path: Path) -> None:
    bye = [BotMessage(text="Auf Wiederhören.", custom={"hangup": True})]

    async def scenario() -> None:
        async with lifecycle(tmp_path, bye) as (calls, store):
            hang_ups = HangUps(store)
            sink = FakeSink()
            call = await calls.start(info(), sink, hang_ups)
            await until(lambda: bool(hang_ups.seen))
            assert hang_ups.seen == [("bot_ended", "bot_hangup")]  # record closed before
            assert sink.closed == ["bot_hangup"] and len(calls) == 0 and call.ended
            await call.end("hangup")  # the transport's own end afterwards changes nothing
            assert (await record(store)).end_reason == "bot_hangup"
            assert calls.metrics["calls_ended"] == 1

    run(scenario)


def test_gateway_shutdown_ends_every_call_and_hangs_up(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with lifecycle(tmp_path) as (calls, store):
            hang_ups = HangUps(store)
            await calls.start(info(), FakeSink(), hang_ups)
            await calls.shut_down()
            assert hang_ups.seen == [("gateway_shutdown", "gateway_shutdown")]
            assert len(calls) == 0

    run(scenario)


# ---- the Twilio transport on the lifecycle ---------------------------------------------------


async def stream(
    calls: CallLifecycle, send: list[str], *, wait_for_close: bool = True
) -> tuple[int | None, str]:
    """Connects to /media/twilio, sends `send`, and returns the close code and reason."""
    app = web.Application()
    app.router.add_get("/media/twilio", twilio_stream_handler(calls, calls.settings))
    async with TestClient(TestServer(app)) as client:
        ws = await client.ws_connect("/media/twilio", headers=media_headers(MEDIA_TOKEN))
        for text in send:
            await ws.send_str(text)
        reason = ""
        while True:
            msg = await asyncio.wait_for(ws.receive(), 10)
            if msg.type == aiohttp.WSMsgType.CLOSE:
                reason = str(msg.extra or "")
            if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
                break
        return ws.close_code, reason


START = [twilio.connected_message(), twilio.start_message("MZ1", "CA1")]


def test_twilio_protocol_error_closes_the_record_before_the_stream(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with lifecycle(tmp_path) as (calls, store):
            code, reason = await stream(calls, [*START, "{not json"])
            assert code == 1007 and reason
            # read at once, no waiting: the close came after the record was final
            assert (await record(store)).end_reason == "protocol_error"
            assert len(calls) == 0 and calls.metrics["protocol_errors"] == 1

    run(scenario)


class TwilioHandoff(FakeHandoff):
    """The handoff service with the transfer hook the Twilio transport binds to each call."""

    async def request_transfer(self, target: str, handoff_id: str, **call: Any) -> bool:
        return True


def test_twilio_exception_in_the_transport_loop_gives_the_apology_and_a_handoff(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Finding 9: the transport's loop raises mid-call. The caller still hears the apology
    (audio after the failure), a handoff is stored, the record is closed as a handoff before
    the stream closes, and the slot is free."""

    async def broken_feed(self: CallSession, pcm: Any) -> None:
        raise RuntimeError("decoder exploded")

    monkeypatch.setattr(CallSession, "feed_audio", broken_feed)

    async def scenario() -> None:
        handoff = TwilioHandoff()
        async with lifecycle(tmp_path, handoff=handoff) as (calls, store):
            media = twilio.media_in_message("MZ1", 1, 20, b"\xff" * 160)
            code, reason, heard = await stream_heard(calls, [*START], media)
            assert (code, reason) == (1000, "handoff")
            assert heard > 0  # bot audio after the failure: the apology, not dead air
            found = await record(store)
            assert (found.end_reason, found.handoff_reason) == ("handoff", "transport_failed")
            assert handoff.created == [
                {"department": "default", "reason": "transport_failed", "target": None}
            ]
            assert len(calls) == 0 and calls.metrics["transport_errors"] == 1
            assert calls.metrics["calls_started"] == calls.metrics["calls_ended"] == 1

    run(scenario)


async def stream_heard(
    calls: CallLifecycle, send: list[str], last: str
) -> tuple[int | None, str, int]:
    """Like `stream`, but sends `last` once the greeting has been heard (its mark), and
    returns how many media messages came after it, besides the close code and reason."""
    app = web.Application()
    app.router.add_get("/media/twilio", twilio_stream_handler(calls, calls.settings))
    async with TestClient(TestServer(app)) as client:
        ws = await client.ws_connect("/media/twilio", headers=media_headers(MEDIA_TOKEN))
        for text in send:
            await ws.send_str(text)
        heard, sent_last, reason = 0, False, ""
        while True:
            msg = await asyncio.wait_for(ws.receive(), 10)
            if msg.type == aiohttp.WSMsgType.TEXT:
                event = json.loads(msg.data)["event"]
                if event == "mark" and not sent_last:
                    await ws.send_str(last)
                    sent_last = True
                elif event == "media" and sent_last:
                    heard += 1
            if msg.type == aiohttp.WSMsgType.CLOSE:
                reason = str(msg.extra or "")
            if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
                break
        return ws.close_code, reason, heard


def test_a_transport_failure_mid_call_is_apologised_for_and_handed_off(tmp_path: Path) -> None:
    """The transport ends a call with TRANSPORT_FAILED while the dialogue runs: the fault
    prompt plays, the handoff is stored and transferred, the record is closed, then the
    lifecycle hangs up (the transport's loop is gone), and the slot is free."""

    async def scenario() -> None:
        handoff = FakeHandoff()
        async with lifecycle(tmp_path, handoff=handoff) as (calls, store):
            hang_ups, sink = HangUps(store), FakeSink()
            call = await calls.start(info(), sink, hang_ups)
            await until(lambda: bool(sink.marks))  # greeted
            greeted = len(sink.frames)
            await call.end(TRANSPORT_FAILED)
            assert len(sink.frames) > greeted  # the apology (and the handoff id) was spoken
            found = await store.get_call(call.info.call_id)
            assert found is not None
            assert PROMPT_TEXTS["de"]["fault"] in [t.text for t in found.turns]
            assert handoff.created[0]["reason"] == "transport_failed"
            assert sink.transfers == [("sip:default@pbx", "H7K2")]
            assert hang_ups.seen == [("bot_ended", "handoff")]  # record closed before
            found = await record(store)
            assert (found.end_reason, found.handoff_reason) == ("handoff", "transport_failed")
            assert len(calls) == 0 and calls.metrics["calls_transport_faults"] == 1

    run(scenario)


def test_a_failure_in_the_caller_audio_is_apologised_for_not_raised(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An error while feeding caller audio (here the resampler) does not reach the transport
    (SIP's feed task would die silently): the session apologises and hands off."""

    def broken(self: Any, pcm: Any) -> Any:
        raise ValueError("odd frame")

    monkeypatch.setattr("voicebot.audio.resample.StreamResampler.process", broken)

    async def scenario() -> None:
        handoff = FakeHandoff()
        async with lifecycle(tmp_path, handoff=handoff) as (calls, store):
            hang_ups, sink = HangUps(store), FakeSink()
            call = await calls.start(info(), sink, hang_ups)
            await call.session.feed_audio(pcm(1))  # does not raise
            await until(lambda: bool(hang_ups.seen))
            assert handoff.created[0]["reason"] == "transport_failed"
            found = await store.get_call(call.info.call_id)
            assert found is not None and found.end_reason == "handoff" and len(calls) == 0
            said = [t.text for t in found.turns if t.speaker == "bot"]
            assert any(text in PROMPT_TEXTS["de"].values() for text in said)  # the apology

    run(scenario)


def test_twilio_bot_ended_call_closes_with_its_reason_after_the_record(tmp_path: Path) -> None:
    bye = [BotMessage(text="Auf Wiederhören.", custom={"hangup": True})]

    async def scenario() -> None:
        async with lifecycle(tmp_path, bye) as (calls, store):
            code, reason = await stream(calls, START)
            assert (code, reason) == (1000, "bot_hangup")
            assert (await record(store)).end_reason == "bot_hangup"
            assert len(calls) == 0

    run(scenario)


def test_twilio_refuses_a_stream_at_max_calls(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with lifecycle(tmp_path, max_calls=1) as (calls, store):
            await calls.start(info(9), FakeSink(), HangUps(store, "CA9"))
            code, reason = await stream(calls, START)
            assert code == 1013 and "maximum of 1" in reason
            assert calls.metrics["calls_refused"] == 1

    run(scenario)
