"""Blind transfer with REFER (RFC 3515): Refer-To with the handoff id, NOTIFY sipfrag progress.

The caller's UA is asked to call the department's target; it answers 202 and then reports the
new call's progress in NOTIFYs whose body is a message/sipfrag status line. A 2xx sipfrag means
the caller is connected elsewhere (we then send BYE); a 3xx-6xx sipfrag, a REFER refused with
a final status >= 300, or no final NOTIFY in time means the transfer failed.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from urllib.parse import quote

from voicebot.protocol.sip.dialog import Dialog
from voicebot.protocol.sip.message import SipRequest, SipResponse

log = logging.getLogger(__name__)

HANDOFF_HEADER = "X-Voicebot-Handoff"
_SIPFRAG_RE = re.compile(rb"\s*SIP/2\.0\s+([1-6][0-9][0-9])\b")
SendRequest = Callable[[SipRequest], Awaitable[SipResponse | None]]


def refer_to_uri(target: str, handoff_id: str) -> str:
    """The target URI with the handoff id as an escaped URI header (`?X-Voicebot-Handoff=`)."""
    uri = target.strip().removeprefix("<").removesuffix(">")
    if ":" not in uri.split("@")[0]:
        uri = "sip:" + uri
    sep = "&" if "?" in uri else "?"
    return f"{uri}{sep}{HANDOFF_HEADER}={quote(handoff_id, safe='')}"


def sipfrag_status(body: bytes) -> int | None:
    """The status code of a message/sipfrag body's status line, or None."""
    m = _SIPFRAG_RE.match(body)
    return int(m.group(1)) if m else None


async def blind_transfer(
    dialog: Dialog,
    send: SendRequest,
    progress: asyncio.Queue[int],
    *,
    target: str,
    handoff_id: str,
    referred_by: str,
    timeout_s: float,
) -> tuple[bool, str]:
    """Sends the REFER and follows its NOTIFYs: (transferred?, why) for the call record."""
    refer = dialog.create_refer(refer_to_uri(target, handoff_id), referred_by=referred_by)
    log.info("REFER %s to %s (handoff %s)", dialog.call_id, target, handoff_id)
    response = await send(refer)
    if response is None:
        return False, "REFER not answered"
    if response.status >= 300:
        return False, f"REFER refused with {response.status}"
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        left = deadline - loop.time()
        if left <= 0:
            return False, "no final NOTIFY in time"
        try:
            status = await asyncio.wait_for(progress.get(), left)
        except asyncio.TimeoutError:
            return False, "no final NOTIFY in time"
        if status < 200:
            continue
        if status < 300:
            return True, f"sipfrag {status}"
        return False, f"transfer failed with sipfrag {status}"
