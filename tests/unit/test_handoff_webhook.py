"""The CRM webhook: signed, retried with backoff while the CRM is down, delivered once.

The CRM is a real local HTTP server (tests.support.HookReceiver) that answers 503 while down.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from tests.support import HookReceiver, free_port
from voicebot.config import HandoffSettings, RasaSettings, Settings
from voicebot.handoff.events import Hub
from voicebot.handoff.service import HandoffService
from voicebot.handoff.signing import sign, signed_headers, verify
from voicebot.handoff.webhook import WebhookDispatcher, backoff_s
from voicebot.services.dialogue import RasaClient
from voicebot.store.calls import CallRecord, CallStore, TurnRecord, utc_now
from voicebot.store.db import Database
from voicebot.store.handoffs import HandoffStore

SECRET = "crm-secret"


@pytest.fixture
def crm() -> Iterator[HookReceiver]:
    receiver = HookReceiver().start()
    yield receiver
    receiver.stop()


def test_signature_covers_timestamp_and_body() -> None:
    body = b'{"handoff_id": "K7M42X"}'
    headers = signed_headers(SECRET, body, now=1_700_000_000)
    ts, sig = headers["X-Voicebot-Timestamp"], headers["X-Voicebot-Signature"]
    assert sig == sign(SECRET, 1_700_000_000, body) and sig.startswith("sha256=")
    assert verify(SECRET, ts, body, sig, now=1_700_000_100)
    assert not verify(SECRET, ts, body + b" ", sig, now=1_700_000_100), "body changed"
    assert not verify(SECRET, "1700000001", body, sig, now=1_700_000_100), "timestamp changed"
    assert not verify("other", ts, body, sig, now=1_700_000_100), "wrong secret"
    assert not verify(SECRET, ts, body, sig, now=1_700_001_000), "replayed too late"
    assert "X-Voicebot-Signature" not in signed_headers(None, body)


def test_backoff_doubles_up_to_the_cap() -> None:
    assert [backoff_s(n, 2.0, 30.0) for n in range(1, 7)] == [2, 4, 8, 16, 30, 30]


def settings_for(crm: HookReceiver, tmp_path: Path) -> Settings:
    handoff = HandoffSettings(
        service_hours="always",
        webhook_url=crm.url("/crm"),
        webhook_secret=SECRET,
        webhook_backoff_s=0.1,
        webhook_backoff_max_s=0.4,
        targets={"standesamt": "sip:standesamt@pbx.local"},
    )
    rasa = RasaSettings(url=f"http://127.0.0.1:{free_port()}", timeout_s=2)  # Rasa is down
    return Settings(data_dir=tmp_path, handoff=handoff, rasa=rasa)


def test_down_crm_gets_the_handoff_once_when_it_is_up_again(
    crm: HookReceiver, database_target: str | Path, tmp_path: Path
) -> None:
    crm.fail_next["/crm"] = 3
    settings = settings_for(crm, tmp_path)

    async def scenario() -> tuple[str, list[dict[str, object]]]:
        db = Database(database_target)
        calls, store = CallStore(db), HandoffStore(db)
        await calls.open()
        await calls.start_call(CallRecord("CA1", "twilio", "de", utc_now(), caller="+49214"))
        await calls.add_turn(TurnRecord("CA1", 1, "caller", "Ich brauche eine Geburtsurkunde."))
        async with aiohttp.ClientSession() as http:
            hub = Hub()
            # two gateways on one database: the entry must still be delivered once
            first = WebhookDispatcher(settings.handoff, store, http, hub)
            second = WebhookDispatcher(settings.handoff, store, http, hub)
            rasa = RasaClient(http, settings.rasa)
            service = HandoffService(settings, store, calls, rasa, http, hub, first)
            first.start()
            second.start()
            handoff = await service.create("CA1", "+49214", "de", "standesamt", "caller_request")
            deadline = time.monotonic() + 20
            while await store.outbox() and time.monotonic() < deadline:
                second.wake()
                await asyncio.sleep(0.05)
            await asyncio.sleep(1.0)  # time for any duplicate to show up
            await first.stop()
            await second.stop()
            outbox = await store.outbox(undelivered_only=False)
        await calls.close()
        return handoff.handoff_id, outbox

    handoff_id, outbox = asyncio.run(scenario())
    requests = crm.received("/crm")
    assert len(requests) == 4, "three failed attempts, then one delivery, nothing more"
    assert len(outbox) == 1 and outbox[0]["delivered_at"] and outbox[0]["attempts"] == 4
    delivered = requests[-1]
    assert verify(
        SECRET,
        delivered.headers["X-Voicebot-Timestamp"],
        delivered.body,
        delivered.headers["X-Voicebot-Signature"],
    )
    assert {r.headers["X-Voicebot-Delivery"] for r in requests} == {f"outbox-{outbox[0]['id']}"}
    payload = json.loads(delivered.body)
    assert payload["event"] == "handoff.created"
    handoff = payload["handoff"]
    assert handoff["handoff_id"] == handoff_id and handoff["department"] == "standesamt"
    assert handoff["target"] == "sip:standesamt@pbx.local"
    assert handoff["transcript"][0]["text"] == "Ich brauche eine Geburtsurkunde."
