"""Stored requests and their e-mail outbox: round trip, filters, done, claims and retention,
against SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import datetime, timedelta, timezone
from pathlib import Path

from voicebot.store.calls import CallRecord, CallStore, iso
from voicebot.store.db import Database
from voicebot.store.ids import ALPHABET, LENGTH
from voicebot.store.request_mail_states import mail_states
from voicebot.store.requests import MailDraft, RequestStore, ServiceRequest, request_to_json

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=timezone.utc)
SPERRMUELL = {
    "street": "Friedrich-Ebert-Platz",
    "house_number": "1a",
    "postcode": "51373",
    "items": ["Sofa", "zwei Stühle", "Kühlschrank"],
    "preferred_date": "2026-12-07",
    "name": "Jürgen Müller",
    "phone": "0214 1234567",
}


def new_request(
    kind: str = "sperrmuell", call_id: str = "CA1", at: datetime = NOW
) -> ServiceRequest:
    return ServiceRequest(
        id="",
        kind=kind,
        call_id=call_id,
        created_at=iso(at),
        data=dict(SPERRMUELL),
        summary="Sperrmüll: Sofa, zwei Stühle, Kühlschrank; Wunschtermin 7.12.",
    )


def test_round_trip_filters_and_done(database_target: str | Path) -> None:
    async def scenario() -> None:
        db = Database(database_target)
        await CallStore(db).open()
        await CallStore(db).start_call(CallRecord("CA1", "sip", "de", iso(NOW), caller="+49214"))
        store = RequestStore(db)
        mail = MailDraft("juergen@example.org", "Ihr Formular „Wohngeld“", "Grüße aus Köln")
        first = await store.insert(new_request(), mail, "not_configured")
        assert len(first.id) == LENGTH and set(first.id) <= set(ALPHABET)
        assert first.caller == "+49214", "the caller's number comes from the call record"
        second = await store.insert(
            dataclasses.replace(
                new_request("appointment", "CA2", NOW + timedelta(minutes=1)), caller="+4930"
            )
        )
        assert second.id != first.id and second.caller == "+4930"
        third = await store.insert(new_request("form_delivery", "CA9", NOW + timedelta(minutes=2)))
        assert third.caller is None, "a call the gateway never saw has no number"

        got = await store.get(first.id)
        assert got == first and got.data["items"][2] == "Kühlschrank"
        assert request_to_json(got)["kind_label"].startswith("Sperrmüll")
        assert await store.get("ZZZZZZ") is None
        assert [r.id for r in await store.recent()] == [third.id, second.id, first.id]
        assert [r.id for r in await store.recent(kind="sperrmuell")] == [first.id]
        assert [r.id for r in await store.recent(limit=1)] == [third.id]

        done = await store.mark_done(second.id, NOW + timedelta(hours=1), "anna", "Termin am 3.12.")
        assert done is not None and done.status == "done" and done.done_by == "anna"
        again = await store.mark_done(second.id, NOW + timedelta(hours=2), "ben", "später")
        assert again == done, "marking done twice changes nothing"
        assert await store.mark_done("ZZZZZZ", NOW) is None
        assert [r.id for r in await store.recent(status="open")] == [third.id, first.id]
        assert [r.id for r in await store.recent("appointment", "done")] == [second.id]

        outbox = await store.outbox(request_id=first.id)
        assert len(outbox) == 1
        entry = outbox[0]
        assert (entry["state"], entry["attempts"], entry["channel"]) == (
            "not_configured",
            0,
            "email",
        )
        assert entry["subject"] == "Ihr Formular „Wohngeld“" and entry["body"] == "Grüße aus Köln"
        assert await store.outbox(state="pending") == []
        assert await store.claim_due(NOW + timedelta(days=1), NOW + timedelta(days=2)) == []
        assert await store.next_due() is None, "not_configured entries are never sent"
        await db.close()

    asyncio.run(scenario())


def test_outbox_claims_retries_and_marks_sent_once(database_target: str | Path) -> None:
    async def scenario() -> None:
        db = Database(database_target)
        await db.open()
        store = RequestStore(db)
        request = await store.insert(new_request(), MailDraft("a@example.org", "Betreff", "Text"))
        entry_id = (await store.outbox())[0]["id"]
        assert await store.next_due() == iso(NOW)
        claimed = await store.claim_due(NOW, NOW + timedelta(minutes=1))
        assert [e["id"] for e in claimed] == [entry_id]
        assert await store.claim_due(NOW, NOW + timedelta(minutes=1)) == [], "claimed already"
        await store.mark_retry(entry_id, "ConnectionRefusedError", NOW + timedelta(seconds=4))
        assert await store.claim_due(NOW + timedelta(seconds=1), NOW) == [], "not due yet"
        later = NOW + timedelta(seconds=5)
        assert [e["attempts"] for e in await store.claim_due(later, later)] == [1]
        assert await store.mark_sent(entry_id, later)
        assert not await store.mark_sent(entry_id, later), "sent once"
        (entry,) = await store.outbox(state="sent")
        assert entry["request_id"] == request.id and entry["attempts"] == 2
        assert entry["sent_at"] == iso(later) and entry["last_error"] is None

        await store.insert(new_request(), MailDraft("b@example.org", "Betreff", "Text"))
        refused = (await store.outbox(state="pending"))[0]["id"]
        await store.mark_failed(refused, "recipient refused: 550 no such user")
        (failed,) = await store.outbox(state="failed")
        assert failed["last_error"].startswith("recipient refused") and failed["attempts"] == 1
        assert await store.next_due() is None
        await db.close()

    asyncio.run(scenario())


def test_retention_purges_requests_and_their_outbox(database_target: str | Path) -> None:
    async def scenario() -> None:
        db = Database(database_target)
        await db.open()
        store = RequestStore(db)
        old = await store.insert(new_request(at=NOW), MailDraft("a@example.org", "S", "B"))
        new = await store.insert(
            new_request(at=NOW + timedelta(days=20)), MailDraft("b@example.org", "S", "B")
        )
        assert await store.purge_older_than(NOW) == 0
        assert await store.purge_older_than(NOW + timedelta(days=10)) == 1
        assert await store.get(old.id) is None and await store.get(new.id) is not None
        assert [e["recipient"] for e in await store.outbox()] == ["b@example.org"]
        assert await store.purge_older_than(NOW + timedelta(days=40)) == 1
        assert await store.outbox() == [] and await store.recent() == []
        await db.close()

    asyncio.run(scenario())


def test_gateway_retention_job_purges_requests(database_target: str | Path, tmp_path: Path) -> None:
    from voicebot.config import Settings
    from voicebot.gateway import Gateway

    settings = Settings(data_dir=tmp_path, transcript_retention_days=30)
    if isinstance(database_target, str):
        settings = dataclasses.replace(settings, database_url=database_target)
    else:
        settings = dataclasses.replace(settings, database_path=database_target)

    async def scenario() -> tuple[int, int, object, int]:
        gateway = Gateway(settings)
        await gateway.store.open()
        now = datetime.now(timezone.utc)
        stored = await gateway.requests.insert(
            new_request(at=now), MailDraft("a@example.org", "S", "B"), "not_configured"
        )
        kept = await gateway.purge_expired(now + timedelta(days=29))
        purged = await gateway.purge_expired(now + timedelta(days=31))
        left = await gateway.requests.get(stored.id)
        outbox = len(await gateway.requests.outbox())
        await gateway.store.close()
        return kept, purged, left, outbox

    kept, purged, left, outbox = asyncio.run(scenario())
    assert (kept, purged, left, outbox) == (0, 1, None, 0)


def test_requests_of_a_call_and_mail_states_in_one_query(database_target: str | Path) -> None:
    async def scenario() -> None:
        db = Database(database_target)
        await CallStore(db).open()
        store = RequestStore(db)
        mail = MailDraft("juergen@example.org", "Ihr Formular", "Guten Tag")
        first = await store.insert(new_request(call_id="CA1"), mail, "not_configured")
        second = await store.insert(new_request("appointment", "CA1", NOW + timedelta(hours=1)))
        other = await store.insert(new_request("form_delivery", "CA2"), mail, "pending")
        of_call = await store.recent(call_id="CA1")
        assert [r.id for r in of_call] == [second.id, first.id]
        states = await mail_states(store, [first.id, second.id, other.id])
        assert states == {first.id: ["not_configured"], other.id: ["pending"]}
        assert await mail_states(store, []) == {}
        await db.close()

    asyncio.run(scenario())
