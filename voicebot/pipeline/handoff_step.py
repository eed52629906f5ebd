"""The end of a call handed to a person: store the handoff, say its id, transfer or call back."""

from __future__ import annotations

import logging

from voicebot.handoff.service import HandoffService
from voicebot.pipeline.dialogue import CallContext
from voicebot.pipeline.directives import Outcome, Voice
from voicebot.pipeline.playback import Playback
from voicebot.pipeline.playout import MediaSink

log = logging.getLogger(__name__)


async def hand_off(
    service: HandoffService,
    call: CallContext,
    outcome: Outcome,
    voice: Voice,
    playback: Playback,
    sink: MediaSink,
) -> None:
    """Stores the handoff, tells the caller its id, then transfers or books a callback;
    `outcome` records the department and, if it came to that, callback or transfer_failed."""
    try:
        handoff = await service.create(
            call.call_id,
            call.caller,
            voice.language,
            outcome.department,
            outcome.handoff_reason,
            callback_requested=outcome.handoff_kind == "callback",
            target=outcome.handoff_target,
        )
    except Exception as exc:  # noqa: BLE001 - the caller is still handed over
        log.error("call %s: the handoff was not stored: %s", call.call_id, exc)
        return
    outcome.department = handoff.department
    text, spoken = service.announcement(handoff, voice.language)
    await playback.say_to_the_end(text, spoken, voice.language, voice.length_scale)
    if handoff.kind == "callback":
        outcome.reason = "callback"  # nobody to transfer to: the platform just hangs up
        return
    target = handoff.target or service.target_for(handoff.department, outcome.handoff_target)
    if not await sink.transfer(target, handoff.handoff_id):
        await service.transfer_failed(handoff)
        text = service.transfer_failed_prompt(voice.language)
        await playback.say_to_the_end(text, text, voice.language, voice.length_scale)
        outcome.reason = "transfer_failed"
