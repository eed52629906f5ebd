"""One e-mail over SMTP with the standard library's smtplib. Blocking: call it in a thread.

The message is plain text, UTF-8 and quoted-printable (umlauts survive any relay, with or
without 8BITMIME), with a Message-ID derived from the outbox entry, so a retry after a lost
answer carries the same id and the recipient's server can drop the duplicate.
"""

from __future__ import annotations

import re
import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

from voicebot.config import MailSettings

# One address, no display name: an ASCII local part (RFC 5322 atext and dots), and a dotted
# domain that may be internationalised (sent in IDNA form) but holds no space, control or special.
LOCAL_PART = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}"
DOMAIN_LABELS = r"[^\s\x00-\x1f\x7f@<>()\[\],;:\"\\]+"
ADDRESS = re.compile(rf"{LOCAL_PART}@{DOMAIN_LABELS}\.{DOMAIN_LABELS}")
MAX_ADDRESS = 254


@dataclass(frozen=True)
class SendFailure:
    """Why an e-mail was not accepted; `permanent` when trying again cannot help."""

    error: str
    permanent: bool = False


def is_address(text: str) -> bool:
    """Whether `text` is one plain e-mail address that `to_ascii_address` can send to."""
    if len(text) > MAX_ADDRESS or not ADDRESS.fullmatch(text):
        return False
    try:
        to_ascii_address(text)
    except UnicodeError:
        return False
    return True


def to_ascii_address(address: str) -> str:
    """The address with an internationalised domain in IDNA form ("müller.de" -> "xn--...")."""
    local, _, domain = address.rpartition("@")
    return f"{local}@{domain.encode('idna').decode('ascii')}"


def build_message(settings: MailSettings, entry: dict[str, Any]) -> EmailMessage:
    """The e-mail for one outbox entry (recipient, subject, body, created_at, id)."""
    sender = settings.from_address or ""
    domain = sender.rpartition("@")[2] or "localhost"
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to_ascii_address(entry["recipient"])
    msg["Subject"] = entry["subject"]
    msg["Date"] = format_datetime(datetime.fromisoformat(entry["created_at"]))
    msg["Message-ID"] = f"<voicebot-outbox-{entry['id']}-{entry['request_id'] or 'none'}@{domain}>"
    msg.set_content(entry["body"], charset="utf-8", cte="quoted-printable")
    return msg


def send_blocking(settings: MailSettings, msg: EmailMessage) -> SendFailure | None:
    """Delivers one message to the configured server; None when it was accepted."""
    try:
        with smtplib.SMTP(
            settings.smtp_host or "", settings.smtp_port, timeout=settings.timeout_s
        ) as smtp:
            smtp.ehlo()
            if settings.starttls:
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if settings.username:
                smtp.login(settings.username, settings.password or "")
            smtp.send_message(msg)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        detail = "; ".join(f"{code} {_text(reply)}" for code, reply in exc.recipients.values())
        return SendFailure(f"recipient refused: {detail}", permanent=all(c >= 500 for c in codes))
    except smtplib.SMTPDataError as exc:
        return SendFailure(
            f"message refused: {exc.smtp_code} {_text(exc.smtp_error)}",
            permanent=exc.smtp_code >= 500,
        )
    except smtplib.SMTPAuthenticationError as exc:
        return SendFailure(
            f"login refused ({exc.smtp_code} {_text(exc.smtp_error)}): check "
            "VOICEBOT_MAIL_USERNAME and VOICEBOT_MAIL_PASSWORD"
        )
    except smtplib.SMTPNotSupportedError as exc:
        return SendFailure(
            f"{exc}: the server offers no STARTTLS (or AUTH); set VOICEBOT_MAIL_STARTTLS=false "
            "only for a relay inside a trusted network"
        )
    except smtplib.SMTPResponseException as exc:
        return SendFailure(f"SMTP {exc.smtp_code} {_text(exc.smtp_error)}")
    except UnicodeEncodeError:
        return SendFailure(
            "smtplib sends only ASCII user names and passwords: change VOICEBOT_MAIL_USERNAME "
            "or VOICEBOT_MAIL_PASSWORD"
        )
    except (smtplib.SMTPException, OSError) as exc:
        text = str(exc)
        return SendFailure(f"{type(exc).__name__}: {text}" if text else type(exc).__name__)
    return None


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
