"""The call lifecycle of the SIP UAS: INVITE to BYE, with CANCEL, re-INVITE and in-dialog requests.

A new INVITE passes credentials and admission, gets an RTP port and an SDP answer, rings for
`ring_ms` (while it holds a call slot as "pending"), then 200 OK, retransmitted until the ACK;
the `CallLifecycle` then starts its session, which gets the caller's audio and DTMF. A call the
far end or the server ends (BYE, CANCEL, no ACK, RTP silence, shutdown) goes through `end_call`;
a call the bot ends is ended by the lifecycle, which then calls `hang_up` (BYE). Each runs once
per call, and the record is closed before the BYE leaves.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import secrets
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

from voicebot.errors import ProtocolError
from voicebot.number_plan import call_entry
from voicebot.pipeline.call import CallInfo
from voicebot.protocol.sdp import SessionDescription, parse_sdp
from voicebot.protocol.sip.dialog import Dialog
from voicebot.protocol.sip.headers import Via, parse_uri
from voicebot.protocol.sip.message import SipRequest, SipResponse, response_for
from voicebot.protocol.sip.refer import sipfrag_status
from voicebot.protocol.sip.transaction import (
    InviteServerTransaction,
    cancelled_key,
)
from voicebot.protocol.sip.uas import capabilities
from voicebot.transports.sip.call import SipCall
from voicebot.transports.sip.endpoint import Peer, SipEndpoint, reply_address
from voicebot.transports.sip.rtp import PortAllocator, RtpCallbacks
from voicebot.transports.sip.sink import Referrer, SipSink
from voicebot.transports.sip.transactions import (
    Responder,
    TransactionTable,
)

if TYPE_CHECKING:
    from voicebot.config import Settings, SipSettings
    from voicebot.lifecycle import CallLifecycle
    from voicebot.transports.sip.access import AccessControl

log = logging.getLogger(__name__)


class Tasks:
    """Tasks owned by the SIP server: errors logged, the rest cancelled on stop."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()

    def spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        """Runs a coroutine as an owned task."""
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("SIP task failed", exc_info=task.exception())

    def cancel(self) -> None:
        """Cancels whatever still runs."""
        for task in list(self._tasks):
            task.cancel()


def dialled_user(req: SipRequest) -> str | None:
    """The number the caller dialled: the Request-URI user, else the To user, else None."""
    try:
        user = parse_uri(req.uri).user
    except ProtocolError:
        user = None
    if not user:
        try:
            user = req.to_addr.uri.user
        except ProtocolError:
            user = None
    return user or None


def call_info(call: SipCall, settings: Settings) -> CallInfo:
    """Who is calling from where, from the INVITE (the caller is the From user, if any); the
    dialled number picks the language and topic from the number plan (number_plan.py)."""
    req, peer = call.invite, call.peer
    try:
        caller = req.from_addr.uri.user
    except ProtocolError:
        caller = None
    dialled = dialled_user(req)
    language, topic = call_entry(settings.numbers.plan, dialled, settings.language)
    return CallInfo(
        call_id=req.call_id,
        transport="sip",
        language=language,
        caller=caller or None,
        stream_id=f"{peer.transport.lower()}:{peer.addr[0]}:{peer.addr[1]}",
        dialled=dialled,
        topic=topic,
    )


def contact_uri(address: str, settings: SipSettings, peer: Peer, request_uri: str) -> str:
    """Our Contact URI: with transport=tcp over TCP; over TLS the TLS port, and a sips: URI
    when the request's was one (RFC 3261 §8.1.1.8), else transport=tls."""
    if peer.transport == "TLS":
        where = f"voicebot@{address}:{settings.tls_port}"
        sips = request_uri.lower().startswith("sips:")
        return f"sips:{where}" if sips else f"sip:{where};transport=tls"
    suffix = ";transport=tcp" if peer.reliable else ""
    return f"sip:voicebot@{address}:{settings.port}{suffix}"


class SipCalls:
    """The calls of one SIP server, pending (ringing) and answered, and their tasks."""

    def __init__(
        self,
        settings: SipSettings,
        lifecycle: CallLifecycle,
        endpoint: SipEndpoint,
        transactions: TransactionTable,
        access: AccessControl,
    ) -> None:
        self.settings, self.lifecycle, self.metrics = settings, lifecycle, lifecycle.metrics
        self.endpoint, self.transactions, self.access = endpoint, transactions, access
        self.address = settings.advertised_address or settings.host
        self.preference = tuple(c.strip().upper() for c in settings.codec_preference.split(","))
        self.rtp_ports = PortAllocator(
            settings.rtp_host or settings.host,
            settings.rtp_port_min,
            settings.rtp_port_max,
            latching=settings.rtp_symmetric_latching,
        )
        self.answered: dict[tuple[str, str, str], SipCall] = {}  # by dialog id
        # INVITE transaction key -> call without a 200 OK yet. Invariant: a call leaves this
        # table in the same loop step in which the lifecycle starts counting it (start()).
        self.pending: dict[tuple[str, ...], SipCall] = {}
        self._tasks = Tasks()
        self.spawn = self._tasks.spawn
        self.referrer = Referrer(
            self.send_in_dialog,
            f"sip:voicebot@{self.address}:{settings.port}",
            settings.transfer_timeout_s,
            self.metrics,
        )

    async def close(self) -> None:
        """Ends every call (BYE where answered) and cancels the remaining tasks."""
        for call in list(self.answered.values()) + list(self.pending.values()):
            await self.end_call(call, "gateway_shutdown", send_bye=True)
        self._tasks.cancel()

    def uses(self, conn: object) -> bool:
        """Whether a live call signals over this (TCP) connection."""
        calls = [*self.answered.values(), *self.pending.values()]
        return any(call.peer.conn is conn for call in calls)

    def contact(self, call: SipCall) -> str:
        """Our Contact URI in a call (`contact_uri`)."""
        return contact_uri(self.address, self.settings, call.peer, call.invite.uri)

    # ---- a new call --------------------------------------------------------------------------
    def new_call(
        self, req: SipRequest, tx: InviteServerTransaction, respond: Responder, peer: Peer
    ) -> None:
        """An INVITE outside a dialog: refused, or pending while it is answered."""
        refusal = self.access.credentials_refusal(req) or self.access.admission_refusal(
            req, peer, ringing=len(self.pending)
        )
        if refusal is not None:
            respond(refusal)
            return
        try:
            offer = parse_sdp(req.body) if req.body else None
        except ProtocolError as exc:
            respond(response_for(req, exc.status, exc.reason[:80]))
            return
        if offer is None:
            respond(response_for(req, 488, "An SDP offer is required"))
            return
        call = SipCall(req, tx, respond, peer, secrets.token_hex(6), srtp_mode=self.settings.srtp)
        self.pending[tx.key] = call
        self.spawn(self._answer(call, offer))

    async def _answer(self, call: SipCall, offer: SessionDescription) -> None:
        req, respond = call.invite, call.respond
        try:
            call.rtp = await self.rtp_ports.open(self.metrics, self.settings.rtp_timeout_s)
            answer, negotiated = call.sdp_answer(offer, self.address, self.preference)
        except ProtocolError as exc:
            respond(response_for(req, exc.status, exc.reason[:80], to_tag=call.local_tag))
            await self.end_call(call, "refused", send_bye=False)
            return
        except OSError as exc:
            log.error("SIP call refused: %s", exc)
            respond(response_for(req, 503, "No RTP Port", (("Retry-After", "5"),)))
            await self.end_call(call, "refused", send_bye=False)
            return
        if call.ended:  # cancelled while the port was being opened
            await call.rtp.close()
            return
        call.rtp.negotiate(negotiated)
        contact = (("Contact", f"<{self.contact(call)}>"),)
        if self.settings.ring_ms > 0:
            respond(response_for(req, 180, to_tag=call.local_tag, extra_headers=contact))
            await asyncio.sleep(self.settings.ring_ms / 1000)
        if call.cancelled or call.ended:
            return
        self.pending.pop(call.tx.key, None)
        ok = call.ok(req, answer, self.contact(call))
        respond(ok)
        port = self.settings.tls_port if call.peer.transport == "TLS" else self.settings.port
        via = Via(call.peer.transport, self.address, port, (("rport", None),))
        call.dialog = Dialog.as_uas(req, call.local_tag, self.contact(call), via)
        self.answered[call.dialog.id] = call
        self._start_retransmit(call, ok)
        await self._start_session(call)

    def _start_retransmit(self, call: SipCall, ok: SipResponse) -> None:
        """Retransmits the 2xx until its ACK arrives; no ACK ends the call."""
        reply_to = reply_address(call.invite, call.peer)

        def no_ack() -> None:
            log.warning("call %s: no ACK for the 200 OK", call.invite.call_id)
            self.spawn(self.end_call(call, "no_ack", send_bye=True))

        call.retransmit_ok(ok, lambda data: self.endpoint.send(call.peer, data, reply_to), no_ack)

    async def _start_session(self, call: SipCall) -> None:
        assert call.rtp is not None
        info = call_info(call, self.lifecycle.settings)
        hang_up = functools.partial(self.hang_up, call)
        try:
            live = await self.lifecycle.start(info, SipSink(call, self.referrer), hang_up)
        except Exception:  # noqa: BLE001 - the lifecycle freed the slot; here the call ends
            await self.end_call(call, "error", send_bye=True)
            return
        call.live = live
        if call.ended:  # BYE or CANCEL while the call record was being written
            await live.end(call.end_reason or "hangup")
            return
        call.rtp.start(
            RtpCallbacks(
                audio=live.session.feed_audio,
                dtmf=live.session.feed_dtmf,
                silence_timeout=lambda: self.spawn(self.end_call(call, "abandoned", send_bye=True)),
            )
        )
        log.info("SIP call %s answered (caller %s, %s)", info.call_id, info.caller, info.stream_id)

    async def end_call(self, call: SipCall, reason: str, *, send_bye: bool) -> None:
        """The far end or the server ends a call, once: media in stops, the lifecycle closes
        the record and frees the slot, then the BYE if asked."""
        if call.ended:
            return
        call.ended, call.end_reason = True, reason
        await self._stop_media(call)
        if call.live is not None:
            await call.live.end(reason)
        self._hang_up_dialog(call, reason, send_bye=send_bye)

    async def hang_up(self, call: SipCall, reason: str) -> None:
        """The lifecycle ended the call (the bot is done, shutdown), record closed: BYE."""
        if call.ended:
            return
        call.ended, call.end_reason = True, reason
        await self._stop_media(call)
        self._hang_up_dialog(call, reason, send_bye=True)

    async def _stop_media(self, call: SipCall) -> None:
        self.pending.pop(call.tx.key, None)
        if call.retransmit is not None:
            call.retransmit.cancel()
        if call.rtp is not None:
            await call.rtp.close()

    def _hang_up_dialog(self, call: SipCall, reason: str, *, send_bye: bool) -> None:
        if send_bye and call.dialog is not None and call.dialog.state != "terminated":
            self.send_in_dialog(call, call.dialog.create_bye())
        if call.dialog is not None:
            self.answered.pop(call.dialog.id, None)
        rtp = call.rtp
        log.info(
            "SIP call %s ended: %s (RTP in %d, out %d)",
            call.invite.call_id, reason, rtp.received if rtp else 0, rtp.sent if rtp else 0,
        )  # fmt: skip

    # ---- requests about existing calls -------------------------------------------------------
    def cancel(self, cancel: SipRequest, respond: Responder) -> None:
        """200 for the CANCEL, then 487 for the INVITE if it is still unanswered (§9.2)."""
        call = self.pending.get(cancelled_key(cancel))
        if call is None:
            respond(response_for(cancel, 481))
            return
        respond(response_for(cancel, 200))
        if not call.cancelled and call.tx.state == "proceeding":
            call.cancelled = True
            self.metrics["sip_cancelled"] += 1
            call.respond(response_for(call.invite, 487, to_tag=call.local_tag))
            self.spawn(self.end_call(call, "cancelled", send_bye=False))

    def in_dialog(self, req: SipRequest, respond: Responder) -> None:
        """BYE, re-INVITE, NOTIFY (REFER progress), OPTIONS and INFO inside a call's dialog."""
        call = self.answered.get((req.call_id, req.to_addr.tag or "", req.from_addr.tag or ""))
        if call is None or call.dialog is None or call.ended:
            respond(response_for(req, 481))
            return
        rejection = call.dialog.receive_request(req)
        if rejection is not None:
            respond(rejection.response(req))
            return
        if req.method == "BYE":
            respond(response_for(req, 200))
            self.spawn(self.end_call(call, "hangup", send_bye=False))
        elif req.method == "INVITE":
            self._reinvite(call, req, respond)
        elif req.method == "NOTIFY":
            respond(response_for(req, 200))
            status = sipfrag_status(req.body)
            if status is not None and "refer" in (req.header("Event") or "").lower():
                call.refer_progress.put_nowait(status)
        elif req.method == "OPTIONS":
            respond(response_for(req, 200, extra_headers=capabilities()))
        else:  # INFO
            respond(response_for(req, 200))

    def _reinvite(self, call: SipCall, req: SipRequest, respond: Responder) -> None:
        """A new offer (hold, resume, codec change) or none (we repeat our answer)."""
        try:
            answer = call.reanswer(req, self.address, self.preference)
        except ProtocolError as exc:
            respond(response_for(req, exc.status, exc.reason[:80]))
            return
        ok = call.ok(req, answer, self.contact(call))
        respond(ok)
        self._start_retransmit(call, ok)

    def ack(self, ack: SipRequest) -> None:
        """The ACK of a 2xx stops its retransmission."""
        try:
            call = self.answered.get((ack.call_id, ack.to_addr.tag or "", ack.from_addr.tag or ""))
        except ProtocolError:
            return
        if call is not None:
            call.acknowledged(ack)

    # ---- requests we send --------------------------------------------------------------------
    def send_in_dialog(
        self, call: SipCall, request: SipRequest
    ) -> asyncio.Future[SipResponse | None]:
        """Sends an in-dialog request in a client transaction; the future gets the final answer."""
        dest = call.destination()

        def send(data: bytes) -> None:
            self.endpoint.send(call.peer, data, dest)

        return self.transactions.request(request, reliable=call.peer.reliable, send=send)
