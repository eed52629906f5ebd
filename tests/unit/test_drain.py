"""The SIGTERM drain (voicebot/drain.py) over a real lifecycle, real sessions and a real store
(ASR, Rasa, TTS are the pipeline's fakes): new calls are refused at once, a call that ends by
itself during the drain keeps its own end, a call still running after `drain_timeout_s` hears
the goodbye (a callback request when the number is known), is hung up, and its record closes as
`gateway_shutdown` with the goodbye as the last bot turn."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path
from types import SimpleNamespace

from tests.unit.pipeline_fakes import FakeHandoff, FakeSink, until
from tests.unit.test_lifecycle import HangUps, info, lifecycle, record, run
from voicebot.drain import Drain, known_number


def test_known_number() -> None:
    assert known_number("+492141234567") and known_number("0214 1234")
    assert not known_number(None) and not known_number("anonymous") and not known_number("")


def test_drain_refuses_waits_then_says_goodbye_and_closes_as_gateway_shutdown(
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        handoff = FakeHandoff()
        async with lifecycle(tmp_path, max_calls=4, handoff=handoff) as (calls, store):
            calls.services.settings = dataclasses.replace(  # type: ignore[union-attr]
                calls.services.settings,
                drain_timeout_s=0.5,  # type: ignore[union-attr]
            )
            gateway = SimpleNamespace(
                calls=calls,
                settings=calls.services.settings,  # type: ignore[union-attr]
                handoffs=handoff,
                store=store,
                services=calls.services,
            )
            sinks = [FakeSink(), FakeSink(), FakeSink()]
            hang_ups = [HangUps(store, f"CA{n}") for n in (1, 2, 3)]
            callers = ["+492141234567", None, "+492147654321"]
            live = []
            for n, (sink, hang_up, caller) in enumerate(zip(sinks, hang_ups, callers, strict=True)):
                call_info = dataclasses.replace(info(n + 1), caller=caller)
                live.append(await calls.start(call_info, sink, hang_up))
            await until(lambda: all(s.marks for s in sinks))  # the greetings are out
            drain = Drain(gateway)  # type: ignore[arg-type]
            task = asyncio.create_task(drain.run(exit_after=False))
            await until(lambda: calls.draining)
            assert calls.refusal() == "the gateway is shutting down, try another"
            await live[2].end("hangup")  # this caller finishes by themselves meanwhile
            await task
            assert len(calls) == 0
            for n, sink, hang_up in ((1, sinks[0], hang_ups[0]), (2, sinks[1], hang_ups[1])):
                rec = await record(store, f"CA{n}")
                assert rec.end_reason == "gateway_shutdown"
                assert "gateway-shutdown" in sink.marks
                assert [reason for reason, _ in hang_up.seen] == ["gateway_shutdown"]
                assert hang_up.seen[0][1] == "gateway_shutdown"  # closed before the hang-up
            with_number = (await record(store, "CA1")).turns[-1]
            assert with_number.speaker == "bot" and "gewartet" in with_number.text
            assert "Rückruf" in with_number.text
            anonymous = (await record(store, "CA2")).turns[-1]
            assert "wieder an" in anonymous.text and "Rückruf" not in anonymous.text
            assert handoff.created == [
                {"department": None, "reason": "gateway_shutdown", "target": None}
            ]
            finished = await record(store, "CA3")
            assert finished.end_reason == "hangup" and hang_ups[2].seen == []

    run(scenario)
