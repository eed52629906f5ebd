"""Creating handoffs for calls, the transfer hook, and the agents' accept/close actions.

A handoff is created when Rasa sends `custom.handoff` or a fault forces one. Within service
hours the call is transferred to the department's target: the office's transfer target from
the catalogue (which Rasa sends with the department), else the configured `[handoff] targets`,
else the default target. Outside them the caller is told that nobody is available and a
callback request (same record, kind "callback") is stored.
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import datetime, timezone

import aiohttp

from voicebot.config import Settings
from voicebot.handoff.events import Hub
from voicebot.handoff.hours import ServiceHours
from voicebot.handoff.record import handoff_to_json, summarise, transcript_of
from voicebot.handoff.signing import EVENT_HEADER, signed_headers
from voicebot.handoff.webhook import WebhookDispatcher
from voicebot.services.dialogue import DialogueError, RasaClient, TrackerSummary
from voicebot.store.calls import CallStore, iso
from voicebot.store.handoffs import Handoff, HandoffStore
from voicebot.store.ids import display_id, new_handoff_id, spell_id

log = logging.getLogger(__name__)
ID_ATTEMPTS = 20
CREATED_EVENT = "handoff.created"
CALLBACK_REQUEST = "callback_request"  # the reason Rasa's callback form sends

ANNOUNCE = {
    "de": {
        "transfer": "Ihre Vorgangsnummer lautet {display}. Bitte bleiben Sie am Apparat.",
        "transfer_spoken": "Ihre Vorgangsnummer lautet: {spelled}. Bitte bleiben Sie am Apparat.",
        "callback": (
            "Leider ist gerade niemand erreichbar. Wir sind {hours} für Sie da. "
            "Ich habe Ihren Rückrufwunsch gespeichert, Vorgangsnummer {display}. "
            "Wir rufen Sie so bald wie möglich zurück. Auf Wiederhören!"
        ),
        "callback_spoken": (
            "Leider ist gerade niemand erreichbar. Wir sind {hours} für Sie da. "
            "Ich habe Ihren Rückrufwunsch gespeichert. Ihre Vorgangsnummer lautet: {spelled}. "
            "Wir rufen Sie so bald wie möglich zurück. Auf Wiederhören!"
        ),
        "callback_confirmed": (
            "Ihr Rückrufwunsch ist gespeichert, Vorgangsnummer {display}. Auf Wiederhören!"
        ),
        "callback_confirmed_spoken": (
            "Ihr Rückrufwunsch ist gespeichert. Ihre Vorgangsnummer lautet: {spelled}. "
            "Auf Wiederhören!"
        ),
        "transfer_failed": (
            "Die Weiterleitung ist leider gerade nicht möglich. Ihr Anliegen ist unter Ihrer "
            "Vorgangsnummer gespeichert, und wir rufen Sie zurück. Auf Wiederhören!"
        ),
    },
    "en": {
        "transfer": "Your reference number is {display}. Please hold the line.",
        "transfer_spoken": "Your reference number is: {spelled}. Please hold the line.",
        "callback": (
            "Unfortunately nobody is available right now. I have stored your callback request, "
            "reference number {display}. We will call you back as soon as possible. Goodbye!"
        ),
        "callback_spoken": (
            "Unfortunately nobody is available right now. I have stored your callback request. "
            "Your reference number is: {spelled}. We will call you back as soon as possible. "
            "Goodbye!"
        ),
        "callback_confirmed": (
            "Your callback request is stored, reference number {display}. Goodbye!"
        ),
        "callback_confirmed_spoken": (
            "Your callback request is stored. Your reference number is: {spelled}. Goodbye!"
        ),
        "transfer_failed": (
            "Unfortunately the transfer is not possible right now. Your request is stored under "
            "your reference number and we will call you back. Goodbye!"
        ),
    },
}


class HandoffService:
    """Everything the gateway does with handoffs; one per gateway."""

    def __init__(
        self,
        settings: Settings,
        store: HandoffStore,
        calls: CallStore,
        rasa: RasaClient,
        http: aiohttp.ClientSession,
        hub: Hub,
        webhooks: WebhookDispatcher | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.hub = hub
        self.hours = ServiceHours.parse(settings.handoff.service_hours, settings.handoff.timezone)
        self._calls = calls
        self._rasa = rasa
        self._http = http
        self._webhooks = webhooks

    # ---- creation --------------------------------------------------------------------------
    def department_of(self, department: str | None) -> str:
        """The named department, or the configured default for "default"/none."""
        if not department or department == "default":
            return self.settings.default_department
        return department

    def agents_available(self, now: datetime | None = None) -> bool:
        """Whether it is within the service hours (a handoff is transferred, not a callback)."""
        return self.hours.is_open(now or datetime.now(timezone.utc))

    def hours_de(self) -> str:
        """The service hours for speech: "montags bis freitags von 8 Uhr bis 18 Uhr"."""
        return self.hours.describe_de()

    def target_for(self, department: str, catalogue_target: str | None = None) -> str:
        """Where a department's calls go: the catalogue's target (a SIP URI as it is, a queue
        name through `targets`), else the department's configured target, else the default."""
        targets = self.settings.handoff.targets
        if catalogue_target:
            if catalogue_target.startswith(("sip:", "sips:", "tel:")):
                return catalogue_target
            if catalogue_target in targets:
                return targets[catalogue_target]
            log.warning(
                "handoff target %r is neither a URI nor a configured queue", catalogue_target
            )
        return targets.get(department) or self.settings.handoff.default_target

    async def create(
        self,
        call_id: str,
        caller: str | None,
        language: str,
        department: str | None,
        reason: str | None,
        now: datetime | None = None,
        *,
        callback_requested: bool = False,
        target: str | None = None,
    ) -> Handoff:
        """Reads the transcript and the tracker, stores the handoff, notifies console and CRM.

        Outside the service hours, or when the caller asked for a callback (the callback
        form), it is a callback request with the number from the tracker (else the caller's).
        `target`: the office's transfer target from the catalogue (see `target_for`).
        """
        now = now or datetime.now(timezone.utc)
        tracker, call = await asyncio.gather(self._tracker(call_id), self._calls.get_call(call_id))
        transcript = transcript_of(call.turns if call else [])
        reason = reason or "unspecified"
        topic, summary = summarise(transcript, reason)
        last_caller = [t for t in transcript if t["speaker"] == "caller" and t["intent"]]
        last_intent = tracker.intent or (last_caller[-1]["intent"] if last_caller else None)
        confidence = tracker.intent_confidence
        if tracker.intent is None and last_caller:
            confidence = last_caller[-1]["intent_confidence"]
        open_now = self.hours.is_open(now) and not callback_requested
        dept = self.department_of(department)
        slots = tracker.slots
        handoff = Handoff(
            handoff_id="",
            call_id=call_id,
            kind="transfer" if open_now else "callback",
            status="open",
            created_at=iso(now),
            updated_at=iso(now),
            language=language,
            reason=reason,
            department=dept,
            topic=str(slots.get("callback_topic") or topic),
            summary=summary,
            caller=caller,
            callback_number=None
            if open_now
            else (str(slots.get("callback_number") or "") or caller),
            target=self.target_for(dept, target) if open_now else None,
            last_intent=last_intent,
            last_intent_confidence=round(confidence, 3) if confidence is not None else None,
            slots=slots,
            transcript=transcript,
        )
        for _ in range(ID_ATTEMPTS):
            handoff.handoff_id = new_handoff_id()
            webhook = None
            if self._webhooks is not None and self._webhooks.enabled:
                body = {"event": CREATED_EVENT, "handoff": handoff_to_json(handoff)}
                webhook = (CREATED_EVENT, json.dumps(body, ensure_ascii=False))
            if await self.store.insert(handoff, webhook):
                break
        else:  # pragma: no cover - 387 million ids
            raise RuntimeError("no free handoff id found; purge old handoffs")
        log.info(
            "call %s: handoff %s (%s, %s, %s)",
            call_id,
            handoff.handoff_id,
            handoff.kind,
            dept,
            reason,
        )
        self.hub.publish({"type": "created", "handoff_id": handoff.handoff_id})
        if self._webhooks is not None:
            self._webhooks.wake()
        return handoff

    async def _tracker(self, call_id: str) -> TrackerSummary:
        """Rasa's view of the call (slots, last intent); empty when Rasa is down."""
        try:
            return await self._rasa.tracker(call_id)
        except DialogueError as exc:
            log.warning("call %s: handoff without tracker slots: %s", call_id, exc)
            return TrackerSummary(None, None, {})

    # ---- what the caller hears -------------------------------------------------------------
    def announcement(self, handoff: Handoff, language: str) -> tuple[str, str]:
        """(text for the transcript, text for the TTS) telling the caller the handoff id."""
        texts = ANNOUNCE.get(language, ANNOUNCE["de"])
        values = {
            "display": display_id(handoff.handoff_id),
            "spelled": spell_id(handoff.handoff_id, language),
            "hours": self.hours.describe_de(),
        }
        kind = handoff.kind
        if kind == "callback" and handoff.reason == CALLBACK_REQUEST:
            kind = "callback_confirmed"  # the caller went through the callback form
        return texts[kind].format(**values), texts[f"{kind}_spoken"].format(**values)

    def transfer_failed_prompt(self, language: str) -> str:
        """What the caller hears when the platform did not take the transfer."""
        return ANNOUNCE.get(language, ANNOUNCE["de"])["transfer_failed"]

    async def transfer_failed(self, handoff: Handoff) -> None:
        """Marks a handoff whose transfer failed, so agents call back."""
        await self.store.mark_transfer_failed(handoff.handoff_id, datetime.now(timezone.utc))
        self.hub.publish({"type": "transfer_failed", "handoff_id": handoff.handoff_id})

    # ---- the transfer hook (WebSocket transports) ------------------------------------------
    async def request_transfer(
        self, target: str, handoff_id: str, *, call_id: str, stream_id: str | None
    ) -> bool:
        """POSTs the signed transfer request to the platform's hook; True when it took it."""
        cfg = self.settings.handoff
        if not cfg.transfer_hook_url:
            return True  # the platform transfers on its own when the stream closes "handoff"
        handoff = await self.store.get(handoff_id)
        body = {
            "event": "transfer",
            "handoff_id": handoff_id,
            "call_id": call_id,
            "stream_id": stream_id,
            "department": handoff.department if handoff else None,
            "target": target,
            "caller": handoff.caller if handoff else None,
        }
        data = json.dumps(body, ensure_ascii=False).encode()
        secret = cfg.transfer_hook_secret  # its own key: the CRM's is never reused
        timeout = aiohttp.ClientTimeout(total=cfg.transfer_hook_timeout_s)
        for attempt in (1, 2):
            headers = signed_headers(secret, data)
            headers[EVENT_HEADER] = "transfer"
            try:
                async with self._http.post(
                    cfg.transfer_hook_url, data=data, headers=headers, timeout=timeout
                ) as resp:
                    if 200 <= resp.status < 300:
                        return True
                    problem = f"HTTP {resp.status}"
            except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                problem = f"{type(exc).__name__} {exc}".strip()
            log.warning(
                "call %s: transfer hook attempt %d for %s failed: %s",
                call_id,
                attempt,
                handoff_id,
                problem,
            )
        return False

    # ---- agents ----------------------------------------------------------------------------
    async def accept(self, handoff_id: str, agent: str) -> tuple[str, Handoff | None]:
        """An agent takes a handoff: ("ok" | "not_found" | "conflict", handoff)."""
        result = await self.store.accept(handoff_id, agent, datetime.now(timezone.utc))
        if result[0] == "ok":
            self.hub.publish({"type": "accepted", "handoff_id": handoff_id, "agent": agent})
        return result

    async def close(self, handoff_id: str, agent: str, note: str) -> tuple[str, Handoff | None]:
        """The accepting agent closes a handoff with a note."""
        result = await self.store.close(handoff_id, agent, note, datetime.now(timezone.utc))
        if result[0] == "ok":
            self.hub.publish({"type": "closed", "handoff_id": handoff_id, "agent": agent})
        return result
