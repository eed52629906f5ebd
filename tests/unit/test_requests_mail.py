"""Outgoing e-mail against a real local SMTP server (aiosmtpd): down at first, then up, the
e-mail arrives exactly once with recipient, subject and body intact; temporary and permanent
refusals; the configuration check."""

from __future__ import annotations

import asyncio
import email
import email.policy
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from aiosmtpd.controller import Controller

from tests.support import free_port
from tests.unit.test_requests_api import AUTH, TOKEN, run_api
from voicebot.config import MailSettings, Settings, load_settings
from voicebot.errors import ConfigError
from voicebot.gateway import Gateway
from voicebot.mail.sender import MailSender
from voicebot.mail.smtp import build_message
from voicebot.store.db import Database
from voicebot.store.requests import RequestStore

SENDER = "buergertelefon@leverkusen.example"
FORM = {
    "kind": "form_delivery",
    "call_id": "CA1",
    "data": {"form": "Anmeldung einer Wohnung", "delivery": "email"},
    "email": {
        "to": "juergen.mueller@example.org",
        "subject": "Ihr Formular „Anmeldung“ – Bürgerbüro Leverkusen",
        "body": "Sehr geehrter Herr Müller,\n\nhier ist das Formular für die Anmeldung.\n"
        "Öffnungszeiten: Mo–Fr 8–12 Uhr. Straße: Friedrich-Ebert-Platz 1.\n\nGrüße",
    },
}


@dataclass
class Mailbox:
    """An aiosmtpd handler that keeps what it accepts; it can refuse DATA or recipients."""

    messages: list[tuple[str, list[str], EmailMessage]] = field(default_factory=list)
    refuse_data: int = 0  # answer this many DATA commands with 451
    unknown: set[str] = field(default_factory=set)  # recipients refused with 550

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if address in self.unknown:
            return "550 5.1.1 Unbekannter Empfänger"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
        self, server: Any, session: Any, envelope: Any
    ) -> str:
        if self.refuse_data > 0:
            self.refuse_data -= 1
            return "451 4.3.0 Bitte später noch einmal"
        msg = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), msg))
        return "250 Message accepted"


def mail_settings(tmp_path: Path, port: int, database: str | Path | None = None) -> Settings:
    mail = MailSettings(
        smtp_host="127.0.0.1",
        smtp_port=port,
        starttls=False,  # aiosmtpd here has no certificate
        from_address=SENDER,
        timeout_s=5,
        backoff_s=0.2,
        backoff_max_s=0.4,
    )
    if isinstance(database, str):
        return Settings(data_dir=tmp_path, api_token=TOKEN, mail=mail, database_url=database)
    return Settings(data_dir=tmp_path, api_token=TOKEN, mail=mail, database_path=database)


async def wait_for(check: Any, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


def test_down_smtp_server_gets_the_email_once_when_it_is_up(
    tmp_path: Path, database_target: str | Path
) -> None:
    port = free_port()
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    settings = mail_settings(tmp_path, port, database_target)
    seen: dict[str, Any] = {}

    async def scenario(client: TestClient[web.Request, web.Application], gw: Gateway) -> None:
        # a second gateway on the same database must not send it again
        other = MailSender(settings.mail, gw.requests)
        other.start()
        resp = await client.post("/api/requests", json=FORM, headers=AUTH)
        assert resp.status == 201
        stored = await resp.json()
        assert stored["outbox"][0]["state"] == "pending"

        async def failed_twice() -> bool:
            (entry,) = await gw.requests.outbox()
            return bool(entry["attempts"] >= 2)

        await wait_for(failed_twice)
        (entry,) = await gw.requests.outbox()
        assert entry["state"] == "pending" and "Connection" in entry["last_error"]
        await asyncio.to_thread(controller.start)
        try:

            async def sent() -> bool:
                return bool(await gw.requests.outbox(state="sent"))

            await wait_for(sent)
            await asyncio.sleep(1.0)  # time for any duplicate to arrive
        finally:
            await other.stop()
            await asyncio.to_thread(controller.stop)
        got = await (await client.get(f"/api/requests/{stored['id']}", headers=AUTH)).json()
        seen.update(got["outbox"][0])

    run_api(tmp_path, scenario, settings)
    assert len(mailbox.messages) == 1, "delivered exactly once"
    mail_from, rcpt_tos, msg = mailbox.messages[0]
    assert mail_from == SENDER and rcpt_tos == [FORM["email"]["to"]]
    assert msg["To"] == FORM["email"]["to"] and msg["From"] == SENDER
    assert msg["Subject"] == FORM["email"]["subject"], "umlauts and quotes intact"
    text = msg.get_content().replace("\r\n", "\n")  # SMTP carries lines with CRLF
    assert text.rstrip("\n") == FORM["email"]["body"], "umlauts, dashes and lines intact"
    assert msg.get_content_charset() == "utf-8"
    assert seen["state"] == "sent" and seen["attempts"] >= 3 and seen["last_error"] is None
    assert seen["sent_at"] and msg["Message-ID"].startswith(f"<voicebot-outbox-{seen['id']}-")


def test_temporary_refusal_is_retried_and_unknown_recipient_fails(tmp_path: Path) -> None:
    port = free_port()
    mailbox = Mailbox(refuse_data=2, unknown={"niemand@example.org"})
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    settings = mail_settings(tmp_path, port)
    controller.start()

    async def scenario(client: TestClient[web.Request, web.Application], gw: Gateway) -> None:
        await client.post("/api/requests", json=FORM, headers=AUTH)
        unknown = {**FORM, "email": {**FORM["email"], "to": "niemand@example.org"}}
        await client.post("/api/requests", json=unknown, headers=AUTH)

        async def settled() -> bool:
            return not await gw.requests.outbox(state="pending")

        await wait_for(settled)
        (sent,) = await gw.requests.outbox(state="sent")
        (failed,) = await gw.requests.outbox(state="failed")
        assert sent["recipient"] == FORM["email"]["to"] and sent["attempts"] == 3
        assert failed["recipient"] == "niemand@example.org" and failed["attempts"] == 1
        assert "550" in failed["last_error"] and "Unbekannter" in failed["last_error"]
        listed = await (await client.get("/api/outbox?state=failed", headers=AUTH)).json()
        assert [e["id"] for e in listed] == [failed["id"]]

    try:
        run_api(tmp_path, scenario, settings)
    finally:
        controller.stop()
    assert len(mailbox.messages) == 1


def test_a_stopped_sender_keeps_pending_mail_for_the_next_start(tmp_path: Path) -> None:
    settings = mail_settings(tmp_path, free_port())

    async def scenario() -> dict[str, Any]:
        db = Database(tmp_path / "v.db")
        await db.open()
        store = RequestStore(db)
        sender = MailSender(settings.mail, store)
        sender.start()
        await sender.stop()  # the gateway stops before anything was sent
        from voicebot.store.requests import MailDraft, ServiceRequest

        stored = await store.insert(
            ServiceRequest("", "form_delivery", "CA1", "2026-11-24T10:00:00.000+00:00"),
            MailDraft("a@example.org", "Betreff", "Text"),
        )
        (entry,) = await store.outbox(request_id=stored.id)
        await db.close()
        return entry

    entry = asyncio.run(scenario())
    assert entry["state"] == "pending" and entry["attempts"] == 0


def test_message_is_utf8_quoted_printable_with_an_idna_domain() -> None:
    entry = {
        "id": 7,
        "request_id": "K7M42X",
        "recipient": "anna@müller.example",
        "subject": "Grüße",
        "body": "Schöne Grüße\n",
        "created_at": "2026-11-24T10:00:00.000+00:00",
    }
    msg = build_message(MailSettings(smtp_host="x", from_address=SENDER), entry)
    raw = msg.as_bytes()
    assert b"To: anna@xn--mller-kva.example" in raw
    assert b"Subject: =?utf-8?" in raw and b"Content-Transfer-Encoding: quoted-printable" in raw
    assert msg["Message-ID"] == "<voicebot-outbox-7-K7M42X@leverkusen.example>"
    assert all(byte < 128 for byte in raw), "7-bit clean for any relay"


def test_mail_settings_from_environment_and_the_from_address_check(tmp_path: Path) -> None:
    settings = load_settings(
        None,
        env={
            "VOICEBOT_MAIL_SMTP_HOST": "mail.leverkusen.example",
            "VOICEBOT_MAIL_SMTP_PORT": "25",
            "VOICEBOT_MAIL_STARTTLS": "false",
            "VOICEBOT_MAIL_USERNAME": "voicebot",
            "VOICEBOT_MAIL_PASSWORD": "geheim",
            "VOICEBOT_MAIL_FROM_ADDRESS": SENDER,
        },
    )
    assert settings.mail.smtp_host == "mail.leverkusen.example" and settings.mail.smtp_port == 25
    assert settings.mail.starttls is False and settings.mail.password == "geheim"
    from voicebot.config import describe_settings

    shown = {name: value for name, _, value in describe_settings(settings)}
    assert shown["VOICEBOT_MAIL_PASSWORD"] == "***"
    assert shown["VOICEBOT_MAIL_SMTP_HOST"] == "mail.leverkusen.example"
    no_from = Settings(data_dir=tmp_path, mail=MailSettings(smtp_host="mail.example"))
    with pytest.raises(ConfigError, match="VOICEBOT_MAIL_FROM_ADDRESS"):
        Gateway(no_from)
    assert Gateway(Settings(data_dir=tmp_path)).mailer.new_entry_state == "not_configured"


def test_smtp_login_and_a_wrong_password_is_retried_not_dropped(tmp_path: Path) -> None:
    from aiosmtpd.smtp import AuthResult, LoginPassword

    def authenticator(
        server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
            b"voicebot",
            b"geheim-123",
        )
        return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535

    port = free_port()
    mailbox = Mailbox()
    controller = Controller(
        mailbox,
        hostname="127.0.0.1",
        port=port,
        authenticator=authenticator,
        auth_require_tls=False,  # only here: no certificate for STARTTLS
    )
    base = mail_settings(tmp_path, port, tmp_path / "v.db").mail
    wrong = MailSettings(**{**base.__dict__, "username": "voicebot", "password": "falsch"})
    umlaut = MailSettings(**{**base.__dict__, "username": "voicebot", "password": "fälsch"})
    right = MailSettings(**{**base.__dict__, "username": "voicebot", "password": "geheim-123"})
    controller.start()

    async def scenario() -> list[dict[str, Any]]:
        db = Database(tmp_path / "v.db")
        await db.open()
        store = RequestStore(db)
        from voicebot.store.calls import utc_now
        from voicebot.store.requests import MailDraft, ServiceRequest

        await store.insert(
            ServiceRequest("", "form_delivery", "CA1", utc_now()),
            MailDraft("a@example.org", "Betreff", "Text"),
        )
        assert await MailSender(wrong, store).run_once() == 0
        (entry,) = await store.outbox(state="pending")
        assert entry["last_error"].startswith("login refused (535") and entry["attempts"] == 1
        assert "VOICEBOT_MAIL_PASSWORD" in entry["last_error"]
        await asyncio.sleep(0.3)  # the first retry is due after 0.2 s
        assert await MailSender(umlaut, store).run_once() == 0
        (entry,) = await store.outbox(state="pending")
        assert "only ASCII" in entry["last_error"] and entry["attempts"] == 2
        await asyncio.sleep(0.5)  # the second retry is due after 0.4 s
        assert await MailSender(right, store).run_once() == 1
        entries = await store.outbox()
        await db.close()
        return entries

    try:
        (entry,) = asyncio.run(scenario())
    finally:
        controller.stop()
    assert entry["state"] == "sent" and entry["attempts"] == 3
    assert len(mailbox.messages) == 1
