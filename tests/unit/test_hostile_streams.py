"""Hostile Twilio media streams (issue 12, findings 1, 6 and 9): bad ids, huge frames, idle
sockets, media faster than real time, and a store write that can never succeed.

Real `CallLifecycle`, real Twilio handler on an aiohttp test server, real SQLite store; ASR,
Rasa and TTS are the pipeline's fakes. After each attack the next normal call still works.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from tests.unit.pipeline_fakes import until
from tests.unit.test_lifecycle import MEDIA_TOKEN, START, lifecycle, record, run, stream
from voicebot.caller import media_headers
from voicebot.errors import ProtocolError
from voicebot.lifecycle import CallLifecycle
from voicebot.protocol.ids import is_safe_id
from voicebot.protocol.media import twilio
from voicebot.protocol.media.pacing import MediaPacer
from voicebot.store.calls import CallRecord, CallStore
from voicebot.transports.twilio_ws import twilio_stream_handler


@asynccontextmanager
async def media_client(calls: CallLifecycle) -> AsyncIterator[TestClient]:  # type: ignore[type-arg]
    """A test server with /media/twilio for `calls`, and a client for it."""
    app = web.Application()
    app.router.add_get("/media/twilio", twilio_stream_handler(calls, calls.settings))
    async with TestClient(TestServer(app)) as client:
        yield client


async def closed(ws: aiohttp.ClientWebSocketResponse) -> tuple[int | None, str]:  # type: ignore[type-arg]
    """Reads until the server closes the socket; its close code and reason."""
    reason = ""
    while True:
        msg = await asyncio.wait_for(ws.receive(), 10)
        if msg.type == aiohttp.WSMsgType.CLOSE:
            reason = str(msg.extra or "")
        if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
            return ws.close_code, reason


async def normal_call_works(calls: CallLifecycle, store: CallStore, n: int = 7) -> None:
    """A well-formed stream still starts a call whose record is written and closed."""
    sid = f"CAgood{n}"
    code, _ = await stream(
        calls, [twilio.start_message(f"MZ{n}", sid), twilio.stop_message(f"MZ{n}", sid)]
    )
    assert code == 1000
    found = await store.find_call(sid)
    assert found is not None and found.end_reason == "hangup"
    assert len(calls) == 0


# ---- finding 1: ids that poison the store ---------------------------------------------------
@pytest.mark.parametrize("bad", ["\ud800", "CA\x00x", "", " CA1", "CA" + "x" * 200, "CA\nx"])
def test_a_start_with_an_unprintable_or_unbounded_call_sid_is_a_policy_violation(bad: str) -> None:
    with pytest.raises(ProtocolError) as caught:
        twilio.parse_message(twilio.start_message("MZ1", bad))
    assert caught.value.status == twilio.CLOSE_POLICY_VIOLATION
    assert not is_safe_id(bad)


@pytest.mark.parametrize("value", ["\ud800", "a\x00b", "x" * 300])
def test_a_custom_parameter_that_is_not_printable_text_is_refused(value: str) -> None:
    message = twilio.start_message("MZ1", "CA1", custom_parameters={"caller": value})
    with pytest.raises(ProtocolError) as caught:
        twilio.parse_message(message)
    assert caught.value.status == twilio.CLOSE_POLICY_VIOLATION


def test_a_write_the_database_refuses_is_dropped_and_later_writes_succeed(
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        store = CallStore(tmp_path / "calls.sqlite")
        await store.open()
        try:
            poison = CallRecord("\ud800", "twilio", "de", "2026-01-01T00:00:00.000+00:00")
            await store.start_call(poison)  # refused by SQLite: dropped, not kept
            await store.start_call(CallRecord("CA2", "sip", "de", "2026-01-01T00:00:01.000+00:00"))
            await store.end_call("CA2", "hangup")
            found = await store.find_call("CA2")
            assert found is not None and found.end_reason == "hangup"
            assert store.dropped == 1
        finally:
            await store.close()

    run(scenario)


@pytest.mark.parametrize("bad", ["\ud800", "CA\x00"])
def test_a_poisoned_call_sid_closes_its_stream_and_the_next_call_is_recorded(
    tmp_path: Path, bad: str
) -> None:
    async def scenario() -> None:
        async with lifecycle(tmp_path) as (calls, store):
            code, reason = await stream(calls, [twilio.start_message("MZ1", bad)])
            assert code == twilio.CLOSE_POLICY_VIOLATION and "callSid" in reason
            assert len(calls) == 0 and calls.metrics["calls_started"] == 0
            await normal_call_works(calls, store)

    run(scenario)


# ---- finding 6: bounded everything ------------------------------------------------------------
def test_a_one_megabyte_frame_closes_that_stream_with_1009(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with lifecycle(tmp_path) as (calls, store):
            code, _ = await stream(calls, [*START, "x" * (1 << 20)])
            assert code == aiohttp.WSCloseCode.MESSAGE_TOO_BIG
            # aiohttp sends this close itself, before the handler sees the error: wait for it
            await until(lambda: len(calls) == 0)
            assert (await record(store)).end_reason == "protocol_error"
            await normal_call_works(calls, store)

    run(scenario)


def test_a_socket_without_start_is_closed_after_the_start_timeout(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with lifecycle(tmp_path, start_timeout_s=0.2) as (calls, store):
            code, reason = await stream(calls, [twilio.connected_message()])
            assert code == twilio.CLOSE_POLICY_VIOLATION and "no start" in reason
            await normal_call_works(calls, store)

    run(scenario)


def test_idle_sockets_count_against_max_calls_and_six_cannot_run_six_calls(
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        async with lifecycle(tmp_path, max_calls=2) as (calls, store):
            async with media_client(calls) as client:
                sockets = [
                    await client.ws_connect("/media/twilio", headers=media_headers(MEDIA_TOKEN))
                    for _ in range(6)
                ]
                for n, ws in enumerate(sockets):
                    if not ws.closed:
                        await ws.send_str(twilio.start_message(f"MZ{n}", f"CA{n}"))
                await until(lambda: calls.metrics["calls_started"] >= 2)
                refused = 0
                for ws in sockets[2:]:
                    code, _ = await closed(ws)
                    refused += code == 1013
                assert refused == 4 and len(calls) == 2
                assert calls.metrics["calls_started"] == 2
                for ws in sockets[:2]:
                    await ws.close()
                await until(lambda: len(calls) == 0)
            await normal_call_works(calls, store)

    run(scenario)


def test_more_idle_sockets_than_max_pending_are_refused(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with lifecycle(tmp_path, max_calls=50, max_pending=3) as (calls, store):
            async with media_client(calls) as client:
                headers = media_headers(MEDIA_TOKEN)
                sockets = [
                    await client.ws_connect("/media/twilio", headers=headers) for _ in range(5)
                ]
                codes = [(await closed(ws))[0] for ws in sockets[3:]]
                assert codes == [1013, 1013]
                for ws in sockets[:3]:
                    await ws.close()
            await normal_call_works(calls, store)

    run(scenario)


def test_media_at_ten_times_real_time_is_refused(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with lifecycle(tmp_path, burst_ms=500) as (calls, store):
            frames = [
                twilio.media_in_message("MZ1", i, i * 20, b"\xff" * twilio.FRAME_BYTES)
                for i in range(1, 101)
            ]  # 2 s of audio sent at once
            code, reason = await stream(calls, [*START, *frames])
            assert code == twilio.CLOSE_POLICY_VIOLATION and "real time" in reason
            assert (await record(store)).end_reason == "protocol_error"
            await normal_call_works(calls, store)

    run(scenario)


def test_the_pacer_lets_real_time_media_and_a_burst_through() -> None:
    pacer = MediaPacer(8000, burst_ms=200)
    for i in range(500):  # 10 s of 20 ms frames, exactly on time, after a 200 ms burst
        pacer.arrive(160, i * 0.02 + 0.0)
    pacer.arrive(160 * 9, 10.0)  # 180 ms early: within the burst
    with pytest.raises(ProtocolError):
        pacer.arrive(160 * 5, 10.0)  # now 280 ms ahead


def test_one_huge_media_message_is_refused() -> None:
    pacer = MediaPacer(8000, burst_ms=2000)
    with pytest.raises(ProtocolError) as caught:
        pacer.arrive(190_000, 0.0)  # what a 256 KiB message carries: 24 s of audio
    assert caught.value.status == 1008


# ---- finding 4: call ids that are ours --------------------------------------------------------
def test_a_reused_call_sid_gets_a_fresh_call_and_does_not_overwrite_the_first_record(
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        async with lifecycle(tmp_path) as (calls, store):
            seen: list[str] = []
            real_start = calls.start

            async def start(info, sink, hang_up):  # type: ignore[no-untyped-def]
                call = await real_start(info, sink, hang_up)
                seen.append(call.info.call_id)
                return call

            calls.start = start  # type: ignore[method-assign]
            for n in (1, 2):
                stop = twilio.stop_message(f"MZ{n}", "CA1")
                code, _ = await stream(calls, [twilio.start_message(f"MZ{n}", "CA1"), stop])
                assert code == 1000
            first, second = seen
            assert first != second and "CA1" not in (first, second)  # the Rasa sender ids
            records = [await store.get_call(call_id) for call_id in seen]
            assert [r.stream_id for r in records if r] == ["MZ1", "MZ2"]
            assert all(r and r.platform_call_id == "CA1" and r.ended_at for r in records)
            latest = await store.find_call("CA1")  # the API finds a call by Twilio's id too
            assert latest is not None and latest.call_id == second

    run(scenario)


def test_the_lifecycle_gives_every_call_an_id_of_its_own(tmp_path: Path) -> None:
    from tests.unit.pipeline_fakes import FakeSink
    from voicebot.pipeline.call import CallInfo

    async def scenario() -> None:
        async with lifecycle(tmp_path) as (calls, store):
            sip_id = "a/b?c#d@pbx"  # legal in a SIP Call-ID, not in a URL path
            info = CallInfo(call_id=sip_id, transport="sip", language="de")
            call = await calls.start(info, FakeSink(), lambda reason: asyncio.sleep(0))
            assert call.info.call_id.startswith("sip-") and call.info.platform_id == sip_id
            assert list(calls.live) == [call.info.call_id]
            await call.end("hangup")
            found = await store.find_call(sip_id)
            assert found is not None and found.call_id == call.info.call_id
            assert found.end_reason == "hangup" and len(calls) == 0

    run(scenario)


def test_a_sender_id_is_quoted_in_the_tracker_url() -> None:
    from voicebot.services.dialogue import tracker_path

    assert tracker_path("a/b?c#d@pbx") == "/conversations/a%2Fb%3Fc%23d%40pbx/tracker"
    assert tracker_path("twilio-0af3") == "/conversations/twilio-0af3/tracker"
