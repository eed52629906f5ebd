"""Blind transfer with REFER (RFC 3515), sans I/O: the REFER request and what its answers mean.

The Refer-To URI carries the handoff id as an escaped URI header, so the department's phone
can show it. Progress arrives in NOTIFYs whose message/sipfrag body is a status line: 1xx is
still going, 2xx means the caller is connected elsewhere, 3xx-6xx means the transfer failed.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from voicebot.protocol.sip.dialog import Dialog
from voicebot.protocol.sip.message import SipRequest, SipResponse

HANDOFF_HEADER = "X-Voicebot-Handoff"
_SIPFRAG_RE = re.compile(rb"\s*SIP/2\.0\s+([1-6][0-9][0-9])\b")


def refer_to_uri(target: str, handoff_id: str) -> str:
    """The target URI with the handoff id as an escaped URI header (`?X-Voicebot-Handoff=`)."""
    uri = target.strip().removeprefix("<").removesuffix(">")
    if ":" not in uri.split("@")[0]:
        uri = "sip:" + uri
    sep = "&" if "?" in uri else "?"
    return f"{uri}{sep}{HANDOFF_HEADER}={quote(handoff_id, safe='')}"


def refer_request(dialog: Dialog, target: str, handoff_id: str, referred_by: str) -> SipRequest:
    """The in-dialog REFER that asks the caller's UA to call `target` with the handoff id."""
    return dialog.create_refer(refer_to_uri(target, handoff_id), referred_by=referred_by)


def sipfrag_status(body: bytes) -> int | None:
    """The status code of a message/sipfrag body's status line, or None."""
    m = _SIPFRAG_RE.match(body)
    return int(m.group(1)) if m else None


def refer_answered(response: SipResponse | None) -> tuple[bool, str] | None:
    """What the answer to the REFER says: None while the transfer may go on, else the
    failure and why (no answer, or a final status >= 300)."""
    if response is None:
        return False, "REFER not answered"
    if response.status >= 300:
        return False, f"REFER refused with {response.status}"
    return None


def sipfrag_outcome(status: int) -> tuple[bool, str] | None:
    """What one NOTIFY's sipfrag status says: None while provisional, else (transferred?, why)."""
    if status < 200:
        return None
    if status < 300:
        return True, f"sipfrag {status}"
    return False, f"transfer failed with sipfrag {status}"
