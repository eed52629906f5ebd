"""Operations (issue 13): `GET /metrics` (Prometheus text, own registry per gateway, bearer
token) and crash recovery (a gateway closes only its own open records, handoffs stay open), on
SQLite and on a real PostgreSQL."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families

from tests.unit.test_handoff_store import make_handoff
from voicebot.config import Settings
from voicebot.gateway import Gateway
from voicebot.metrics import ObservedCallStore
from voicebot.recovery import close_crashed_calls
from voicebot.store.calls import CallRecord, TurnRecord, utc_now
from voicebot.store.db import Database
from voicebot.store.handoffs import HandoffStore
from voicebot.web.keys import GATEWAY
from voicebot.web.metrics_api import add_metrics_route

API, METRICS = "api-token-for-tests", "metrics-token-for-tests"


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a scrape, parsed by the Prometheus text parser."""
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[s.name, tuple(sorted(s.labels.items()))] = s.value
    return out


async def one_call(store: ObservedCallStore, call_id: str, end: str | None = "hangup") -> None:
    await store.start_call(CallRecord(call_id, "sip", "de", utc_now(), caller="+492141234"))
    caller = TurnRecord(call_id, 1, "caller", "Wann hat das Bürgerbüro offen?")
    caller.started_at, caller.ended_at = utc_now(), "2099-01-01T00:00:00.000+00:00"
    caller.asr_confidence, caller.endpointing_ms, caller.asr_queue_ms = 0.83, 300.0, 4.0
    caller.asr_ms, caller.dialogue_ms, caller.tts_first_audio_ms = 420.0, 180.0, 95.0
    await store.add_turn(caller)
    await store.add_turn(TurnRecord(call_id, 2, "bot", "Montags von acht bis zwölf."))
    if end is not None:
        await store.end_call(call_id, end, "buergerbuero", "caller_request")


def test_metrics_parse_move_and_need_a_token(tmp_path: Path) -> None:
    async def main() -> None:
        settings = Settings(data_dir=tmp_path, api_token=API, metrics_token=METRICS)
        gateway = Gateway(settings)
        other = Gateway(Settings(data_dir=tmp_path / "b", api_token=API))  # same process
        app = web.Application()
        app[GATEWAY] = gateway
        add_metrics_route(app)
        await gateway.store.open()
        try:
            async with TestClient(TestServer(app)) as client:
                await check(client, gateway)
        finally:
            await gateway.store.close()
        assert b"voicebot_calls_total{" not in other.prometheus.render()  # its own registry

    async def scrape(client: TestClient[Any, Any], token: str | None) -> tuple[int, str]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with client.get("/metrics", headers=headers) as resp:
            return resp.status, await resp.text()

    async def check(client: TestClient[Any, Any], gateway: Gateway) -> None:
        assert (await scrape(client, None))[0] == 401
        assert (await scrape(client, API))[0] == 401  # its own token is set: only that one
        status, before = await scrape(client, METRICS)
        assert status == 200
        first = samples(before)
        assert first["voicebot_active_calls", ()] == 0
        assert ("voicebot_outbox_backlog", (("outbox", "webhook"),)) in first
        assert ("voicebot_outbox_backlog", (("outbox", "mail"),)) in first
        assert gateway.calls.refusal() is not None  # models still loading: refused, starting
        await one_call(gateway.store, "sip-1")
        status, after = await scrape(client, METRICS)
        got = samples(after)
        key = (("end_reason", "hangup"), ("transport", "sip"))
        assert got["voicebot_calls_total", key] == 1
        assert got["voicebot_handoffs_total", (("reason", "caller_request"),)] == 1
        assert got["voicebot_calls_refused_total", (("reason", "starting"),)] == 1
        for stage in ("endpointing", "asr_queue", "asr", "dialogue", "tts_first_audio"):
            assert got["voicebot_stage_seconds_count", (("stage", stage),)] == 1
        total = got["voicebot_stage_seconds_sum", (("stage", "speech_end_to_first_audio"),)]
        assert abs(total - 0.999) < 1e-6  # 300 + 4 + 420 + 180 + 95 ms
        assert got["voicebot_asr_confidence_count", ()] == 1
        assert got["voicebot_events_total", (("event", "calls_refused"),)] == 1

    asyncio.run(main())


def test_a_restarted_gateway_closes_only_its_own_open_records(
    database_target: str | Path,
) -> None:
    async def main() -> None:
        db = Database(database_target)
        await db.open()
        mine, theirs = ObservedCallStore(db, "gw-a"), ObservedCallStore(db, "gw-b")
        await one_call(mine, "sip-done")
        await one_call(mine, "sip-live", end=None)  # gw-a is killed during this call
        await one_call(theirs, "sip-other", end=None)  # gw-b still runs this one
        handoffs = HandoffStore(db)
        assert await handoffs.insert(make_handoff("K7M42X", "sip-live"))
        try:
            assert await close_crashed_calls(db, "gw-a") == ["sip-live"]
            live = await mine.get_call("sip-live")
            assert live is not None and live.end_reason == "gateway_crashed"
            assert live.ended_at == "2099-01-01T00:00:00.000+00:00"  # the last thing recorded
            assert [t.seq for t in live.turns] == [1, 2]  # nothing stored is lost
            done = await mine.get_call("sip-done")
            assert done is not None and done.end_reason == "hangup"
            other = await theirs.get_call("sip-other")
            assert other is not None and other.end_reason is None and other.ended_at is None
            handoff = await handoffs.get("K7M42X")
            assert handoff is not None and handoff.status == "open"
            assert await close_crashed_calls(db, "gw-a") == []  # once
        finally:
            await db.close()

    asyncio.run(main())
