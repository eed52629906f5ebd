"""The pipeline's way back to a SIP caller: RTP frames, talk-spurts, blind transfer.

One `SipSink` per answered call is the `MediaSink` of its `CallSession`. A transfer is a REFER
in the call's dialog whose outcome (202 plus a 2xx sipfrag, or a refusal, a failing sipfrag,
no final NOTIFY within `[sip] transfer_timeout_s`) the session turns into the handoff's state.
The BYE is not sent from here: the call's lifecycle ends the call when the bot is done and
then hangs up through `SipCalls`, after the record is closed.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from voicebot.protocol.sip.message import SipRequest, SipResponse
from voicebot.transports.sip.call import SipCall
from voicebot.transports.sip.rtp import SAMPLE_RATE
from voicebot.transports.sip.transfer import blind_transfer

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Referrer:
    """What a sink needs to REFER its caller: the in-dialog send, who refers, how long to wait."""

    send: Callable[[SipCall, SipRequest], Awaitable[SipResponse | None]]
    referred_by: str
    timeout_s: float
    metrics: Counter[str]


class SipSink:
    """Audio, marks and transfer of one SIP call."""

    def __init__(self, call: SipCall, referrer: Referrer) -> None:
        self._call = call
        self._referrer = referrer
        self.closed_reason: str | None = None
        # the call's audio rate, fixed by its first SDP exchange: 16000 for G.722 (HD voice)
        self.sample_rate = call.rtp.sample_rate if call.rtp is not None else SAMPLE_RATE

    @property
    def on_hold(self) -> bool:
        """Whether the caller has put the call on hold (our side may not send): the bot then
        does not count the silence as a caller who says nothing."""
        rtp = self._call.rtp
        negotiated = rtp.negotiated if rtp is not None else None
        return negotiated is not None and not negotiated.send

    async def send_audio(self, frame: Any) -> None:
        """One paced 20 ms frame."""
        if self._call.rtp is not None and not self._call.ended:
            self._call.rtp.send_frame(frame)

    async def send_mark(self, name: str) -> None:
        """End of a bot utterance: the next frame starts a talk-spurt."""
        if self._call.rtp is not None:
            self._call.rtp.end_talk_spurt()

    async def clear(self) -> None:
        """Barge-in: nothing is buffered on our side; the next frame starts a talk-spurt."""
        if self._call.rtp is not None:
            self._call.rtp.end_talk_spurt()

    async def transfer(self, target: str, handoff_id: str) -> bool:
        """REFER the caller to `target` with the handoff id; False: the transfer failed."""
        call, referrer = self._call, self._referrer
        if call.dialog is None or call.ended:
            return False

        async def send(request: SipRequest) -> SipResponse | None:
            return await referrer.send(call, request)

        ok, why = await blind_transfer(
            call.dialog,
            send,
            call.refer_progress,
            target=target,
            handoff_id=handoff_id,
            referred_by=referrer.referred_by,
            timeout_s=referrer.timeout_s,
        )
        referrer.metrics["sip_transfers_ok" if ok else "sip_transfers_failed"] += 1
        log.info("call %s: transfer to %s: %s", call.invite.call_id, target, why)
        return ok

    async def close(self, reason: str) -> None:
        """The bot ends the call: noted; the lifecycle closes the record, then sends the BYE."""
        self.closed_reason = reason
