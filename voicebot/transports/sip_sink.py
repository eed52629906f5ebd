"""The pipeline's way back to a SIP caller: RTP frames, talk-spurts, blind transfer, BYE.

One `SipSink` per answered call is the `MediaSink` of its `CallSession`. A transfer is a REFER
in the call's dialog whose outcome (202 plus a 2xx sipfrag, or a refusal, a failing sipfrag,
no final NOTIFY within `[sip] transfer_timeout_s`) the session turns into the handoff's state.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any

from voicebot.protocol.sip.message import SipRequest, SipResponse
from voicebot.transports.rtp import SAMPLE_RATE
from voicebot.transports.sip_refer import blind_transfer

if TYPE_CHECKING:
    from voicebot.transports.sip_call_state import SipCall
    from voicebot.transports.sip_calls import SipCalls

log = logging.getLogger(__name__)


class SipSink:
    """Audio, marks, transfer and hang-up of one SIP call."""

    sample_rate = SAMPLE_RATE

    def __init__(self, calls: SipCalls, call: SipCall) -> None:
        self._calls = calls
        self._call = call

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
        call, calls = self._call, self._calls
        if call.dialog is None or call.ended:
            return False

        async def send(request: SipRequest) -> SipResponse | None:
            return await calls.send_in_dialog(call, request)

        ok, why = await blind_transfer(
            call.dialog,
            send,
            call.refer_progress,
            target=target,
            handoff_id=handoff_id,
            referred_by=f"sip:voicebot@{calls.address}:{calls.settings.port}",
            timeout_s=calls.settings.transfer_timeout_s,
        )
        calls.metrics["sip_transfers_ok" if ok else "sip_transfers_failed"] += 1
        log.info("call %s: transfer to %s: %s", call.invite.call_id, target, why)
        return ok

    async def close(self, reason: str) -> None:
        """The bot ended the call (goodbye, handoff done): BYE once the dialogue stopped."""
        call, calls = self._call, self._calls

        async def close() -> None:
            if call.session is not None:
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(call.session.ended.wait(), 5)
            await calls.end_call(call, "bot_ended", send_bye=True)

        calls.spawn(close())
