"""Creating handoffs: transcript, summary, service hours (callback), targets, transfer hook."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import aiohttp
import pytest

from tests.support import HookReceiver, free_port
from voicebot.config import HandoffSettings, RasaSettings, Settings
from voicebot.handoff.events import Hub
from voicebot.handoff.service import HandoffService
from voicebot.handoff.signing import verify
from voicebot.services.dialogue import RasaClient
from voicebot.store.calls import CallRecord, CallStore, TurnRecord, utc_now
from voicebot.store.db import Database
from voicebot.store.handoffs import Handoff, HandoffStore

TUESDAY_10 = datetime(2026, 11, 24, 9, 0, tzinfo=timezone.utc)  # 10:00 in Berlin
TUESDAY_22 = datetime(2026, 11, 24, 21, 0, tzinfo=timezone.utc)  # 22:00 in Berlin


@pytest.fixture
def platform() -> Iterator[HookReceiver]:
    receiver = HookReceiver().start()
    yield receiver
    receiver.stop()


def make_settings(tmp_path: Path, **handoff: object) -> Settings:
    base = HandoffSettings(
        service_hours="Mo-Fr 08:00-18:00",
        targets={"buergerbuero": "sip:buergerbuero@pbx.local"},
        default_target="sip:zentrale@pbx.local",
    )
    return Settings(
        data_dir=tmp_path,
        handoff=dataclasses.replace(base, **handoff),  # type: ignore[arg-type]
        rasa=RasaSettings(url=f"http://127.0.0.1:{free_port()}", timeout_s=2),  # Rasa down
    )


async def create(
    settings: Settings,
    when: datetime,
    department: str | None = "buergerbuero",
    reason: str = "caller_request",
    callback_requested: bool = False,
    target: str | None = None,
) -> tuple[Handoff, HandoffService, Hub]:
    db = Database(settings.data_dir / "voicebot.db")
    calls = CallStore(db)
    await calls.open()
    await calls.start_call(CallRecord("CA1", "twilio", "de", utc_now(), caller="+4921499"))
    await calls.add_turn(TurnRecord("CA1", 1, "bot", "Guten Tag!"))
    await calls.add_turn(
        TurnRecord(
            "CA1",
            2,
            "caller",
            "Wann hat das Bürgerbüro geöffnet?",
            started_at=utc_now(),
            asr_confidence=0.71,
            intent="ask_opening_hours",
            intent_confidence=0.93,
        )
    )
    hub = Hub()
    async with aiohttp.ClientSession() as http:
        rasa = RasaClient(http, settings.rasa)
        service = HandoffService(settings, HandoffStore(db), calls, rasa, http, hub)
        with hub.subscribe() as events:
            handoff = await service.create(
                "CA1",
                "+4921499",
                "de",
                department,
                reason,
                when,
                callback_requested=callback_requested,
                target=target,
            )
            assert (await events.get())["handoff_id"] == handoff.handoff_id
    await calls.close()
    return handoff, service, hub


def test_within_service_hours_the_call_is_transferred(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    handoff, service, _ = asyncio.run(create(settings, TUESDAY_10))
    assert handoff.kind == "transfer" and handoff.status == "open"
    assert handoff.target == "sip:buergerbuero@pbx.local"
    assert handoff.caller == "+4921499" and handoff.callback_number is None
    assert handoff.last_intent == "ask_opening_hours" and handoff.last_intent_confidence == 0.93
    assert handoff.transcript[1]["text"] == "Wann hat das Bürgerbüro geöffnet?"
    assert handoff.transcript[1]["asr_confidence"] == 0.71
    assert handoff.summary.startswith("Öffnungszeiten: „Wann hat das Bürgerbüro")
    text, spoken = service.announcement(handoff, "de")
    spaced = " ".join(handoff.handoff_id)
    assert text == f"Ihre Vorgangsnummer lautet {spaced}. Bitte bleiben Sie am Apparat."
    assert handoff.handoff_id not in spoken and ", " in spoken  # spelt, one by one


def test_unknown_and_default_departments_go_to_the_default_queue(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    handoff, _, _ = asyncio.run(create(settings, TUESDAY_10, department="default"))
    assert handoff.department == "buergerbuero"  # Settings.default_department
    assert handoff.target == "sip:buergerbuero@pbx.local"
    handoff, _, _ = asyncio.run(create(settings, TUESDAY_10, department="kfz"))
    assert handoff.department == "kfz" and handoff.target == "sip:zentrale@pbx.local"


def test_the_catalogue_target_comes_first_then_the_configured_targets_then_the_default(
    tmp_path: Path,
) -> None:
    settings = make_settings(
        tmp_path, targets={"buergerbuero": "sip:bb@pbx.local", "queue-sta": "sip:q7@pbx.local"}
    )
    uri = "sip:standesamt@pbx.leverkusen.local"
    handoff, service, _ = asyncio.run(
        create(settings, TUESDAY_10, department="standesamt", target=uri)
    )
    assert handoff.department == "standesamt" and handoff.target == uri
    assert service.target_for("standesamt", "queue-sta") == "sip:q7@pbx.local"  # a queue name
    assert service.target_for("buergerbuero", "unknown-queue") == "sip:bb@pbx.local"
    assert service.target_for("buergerbuero", None) == "sip:bb@pbx.local"
    assert service.target_for("standesamt", None) == "sip:zentrale@pbx.local"


def test_outside_service_hours_a_callback_request_is_stored(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    handoff, service, _ = asyncio.run(create(settings, TUESDAY_22))
    assert handoff.kind == "callback" and handoff.status == "open" and handoff.target is None
    assert handoff.callback_number == "+4921499" and handoff.topic == "Öffnungszeiten"
    assert handoff.call_id == "CA1" and handoff.transcript, "the transcript is referenced"
    text, spoken = service.announcement(handoff, "de")
    assert "niemand erreichbar" in text and "Rückrufwunsch" in text
    assert "montags bis freitags von 8 Uhr bis 18 Uhr" in spoken
    assert " ".join(handoff.handoff_id) in text


def test_a_callback_the_caller_asked_for_is_never_transferred(tmp_path: Path) -> None:
    """Rasa's callback form ends with kind "callback": stored as a callback even if the
    service hours began in the meantime, and the caller hears a confirmation, not an apology."""
    settings = make_settings(tmp_path)
    handoff, service, _ = asyncio.run(
        create(settings, TUESDAY_10, reason="callback_request", callback_requested=True)
    )
    assert handoff.kind == "callback" and handoff.target is None
    assert handoff.callback_number == "+4921499"  # no tracker (Rasa down): the caller's number
    text, spoken = service.announcement(handoff, "de")
    spaced = " ".join(handoff.handoff_id)
    assert text == f"Ihr Rückrufwunsch ist gespeichert, Vorgangsnummer {spaced}. Auf Wiederhören!"
    assert "niemand erreichbar" not in spoken and handoff.handoff_id not in spoken
    assert service.agents_available(TUESDAY_10) and not service.agents_available(TUESDAY_22)
    assert service.hours_de() == "montags bis freitags von 8 Uhr bis 18 Uhr"


def test_transfer_hook_is_signed_and_failures_are_reported(
    tmp_path: Path, platform: HookReceiver
) -> None:
    settings = make_settings(
        tmp_path, transfer_hook_url=platform.url("/transfer"), transfer_hook_secret="hook"
    )

    async def scenario() -> tuple[bool, bool]:
        handoff, service, _ = await create(settings, TUESDAY_10)
        async with aiohttp.ClientSession() as http:
            service._http = http
            await service.store.db.open()
            ok = await service.request_transfer(
                str(handoff.target), handoff.handoff_id, call_id="CA1", stream_id="MZ1"
            )
            platform.fail_next["/transfer"] = 2  # both attempts fail
            failed = await service.request_transfer(
                str(handoff.target), handoff.handoff_id, call_id="CA1", stream_id="MZ1"
            )
            await service.transfer_failed(handoff)
            stored = await service.store.get(handoff.handoff_id)
            await service.store.db.close()
        assert stored is not None and stored.status == "transfer_failed"
        return ok, failed

    ok, failed = asyncio.run(scenario())
    assert ok and not failed
    first = platform.received("/transfer")[0]
    body = json.loads(first.body)
    assert body["target"] == "sip:buergerbuero@pbx.local" and body["call_id"] == "CA1"
    assert body["department"] == "buergerbuero" and len(body["handoff_id"]) == 6
    assert verify(
        "hook",
        first.headers["X-Voicebot-Timestamp"],
        first.body,
        first.headers["X-Voicebot-Signature"],
    )
    assert len(platform.received("/transfer")) == 3
