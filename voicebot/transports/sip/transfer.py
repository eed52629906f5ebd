"""Blind transfer with REFER (RFC 3515) on the loop: send it, follow its NOTIFYs, in time.

What the REFER looks like and what each answer means is in `voicebot.protocol.sip.refer`; here
the REFER goes out in the call's dialog and the NOTIFYs' sipfrag statuses arrive in a queue.
A 2xx sipfrag means the caller is connected elsewhere (the call then ends with a BYE); a
failing sipfrag, a refused REFER or no final NOTIFY within the timeout means it failed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from voicebot.protocol.sip.dialog import Dialog
from voicebot.protocol.sip.message import SipRequest, SipResponse
from voicebot.protocol.sip.refer import refer_answered, refer_request, sipfrag_outcome

log = logging.getLogger(__name__)

SendRequest = Callable[[SipRequest], Awaitable[SipResponse | None]]


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
    log.info("REFER %s to %s (handoff %s)", dialog.call_id, target, handoff_id)
    failed = refer_answered(await send(refer_request(dialog, target, handoff_id, referred_by)))
    if failed is not None:
        return failed
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
        outcome = sipfrag_outcome(status)
        if outcome is not None:
            return outcome
