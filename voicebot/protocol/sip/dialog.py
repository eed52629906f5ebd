"""The UA core: request checks (RFC 3261 §8.2), dialogs (§12), 2xx retransmission (§13.3.1.4).

`check_request` decides, in §8.2 order, whether the UAS may process a request or must refuse
it (and with which headers); `check_response` tells a UAC which responses to drop. A `Dialog`
holds Call-ID, tags, CSeq counters, route set and remote target, checks in-dialog requests and
builds ours (BYE, REFER, ACK for a 2xx). `Invite2xxRetransmitter` resends the UAS's 2xx until
the ACK arrives and after 64*T1 without one asks for a BYE. Everything runs on the caller's clock.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field

from voicebot.errors import ProtocolError
from voicebot.protocol.sip import headers as hp
from voicebot.protocol.sip import values as hv
from voicebot.protocol.sip.headers import (
    Headers,
    NameAddr,
    Via,
    parse_contacts,
    parse_name_addr,
    parse_uri,
)
from voicebot.protocol.sip.message import (
    SIP_VERSION,
    SipRequest,
    SipResponse,
    new_branch,
    response_for,
)
from voicebot.protocol.sip.transaction import (
    Action,
    SendRequest,
    Terminated,
    Timeout,
    Timers,
    Transmit,
)

KNOWN_METHODS = frozenset(
    {"INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "REGISTER", "PRACK", "SUBSCRIBE", "NOTIFY",
     "PUBLISH", "INFO", "REFER", "MESSAGE", "UPDATE"}
)  # fmt: skip
_SINGLE = ("From", "To", "Call-ID", "CSeq", "Max-Forwards", "Content-Length", "Content-Type",
           "Expires", "Date", "Refer-To")  # fmt: skip


@dataclass(frozen=True)
class UasPolicy:
    """What this UAS implements; `check_request` rejects what lies outside it.

    `max_forwards_zero_status` is None for a UAS (RFC 4475 §3.3.11: an endpoint processes a
    request with Max-Forwards 0 as if it were positive); set it to 483 where the gateway would
    forward the request (a proxy or B2BUA leg).
    """

    methods: frozenset[str] = frozenset(
        {"INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "NOTIFY", "INFO"}
    )
    extensions: frozenset[str] = frozenset()
    schemes: frozenset[str] = frozenset({"sip", "sips"})
    content_types: frozenset[str] = frozenset({"application/sdp"})
    body_methods: frozenset[str] = frozenset({"INVITE"})
    max_forwards_zero_status: int | None = None

    def capability_headers(self) -> tuple[tuple[str, str], ...]:
        """Allow, Accept, Accept-Encoding and Supported for a 200 to OPTIONS (§11.2)."""
        return (
            ("Allow", ", ".join(sorted(self.methods))),
            ("Accept", ", ".join(sorted(self.content_types))),
            ("Accept-Encoding", "identity"),
            ("Supported", ", ".join(sorted(self.extensions))),
        )


@dataclass(frozen=True)
class Rejection:
    """Why a request must be refused: the status and the headers the response must carry."""

    status: int
    reason: str
    headers: tuple[tuple[str, str], ...] = ()

    def response(self, request: SipRequest, to_tag: str | None = None) -> SipResponse:
        """Build the error response (never send one for ACK: RFC 3261 §17.2.1)."""
        return response_for(request, self.status, None, self.headers, to_tag=to_tag)


def _syntax(request: SipRequest) -> None:
    """Raise ProtocolError(400) unless the mandatory headers are present, single and valid."""
    h = request.headers
    for name in ("Via", "From", "To", "Call-ID", "CSeq"):  # Max-Forwards: RFC 2543 peers omit it
        if name not in h:
            raise ProtocolError(f"mandatory header {name} is missing", 400)
    for name in _SINGLE:
        if len(h.get_all(name)) > 1 or len(h.values(name)) > 1 and name != "Date":
            raise ProtocolError(f"{name} must appear once, with one value", 400)
    uri = hp.parse_uri(request.uri)
    if uri.headers or uri.is_sip and (uri.param("method") is not None):
        raise ProtocolError("Request-URI must not carry headers or a method parameter", 400)
    request.vias, request.from_addr, request.to_addr  # noqa: B018 - parse for errors
    hv.parse_call_id(request.call_id)
    if request.cseq.method != request.method:
        raise ProtocolError(f"CSeq method {request.cseq.method} != {request.method}", 400)
    if (mf := h.get("Max-Forwards")) is not None:
        hv.parse_max_forwards(mf)
    for value in h.get_all("Contact"):
        hp.parse_contacts(value)
    for name in ("Route", "Record-Route"):
        for value in h.values(name):
            hp.parse_name_addr(value, name)
    if (date := h.get("Date")) is not None and not hv.is_valid_date(date):
        raise ProtocolError(f"Date {date!r} is not an RFC 1123 date in GMT", 400)
    for name in ("Require", "Proxy-Require", "Supported", "Content-Encoding"):
        for value in h.get_all(name):
            hv.parse_token_list(value, name)
    if (ctype := h.get("Content-Type")) is not None:
        hv.parse_media_type(ctype)
    hv.accepts(_accept_value(h), "application/sdp")  # raises on a malformed Accept
    if (expires := h.get("Expires")) is not None and not expires.strip().isdigit():
        raise ProtocolError(f"Expires {expires!r} is not a number", 400)


def check_request(request: SipRequest, policy: UasPolicy | None = None) -> Rejection | None:
    """Validate an incoming request in RFC 3261 §8.2 order; None means: go ahead.

    400 malformed or missing mandatory headers, CSeq/method mismatch; 505 version; 483 when
    the policy says so; 501 unknown method, 405 known but not implemented (with Allow); 416
    Request-URI scheme; 420 unknown Require (with Unsupported); 415 body type or encoding
    (with Accept/Accept-Encoding); 406 when Accept rules out the SDP an INVITE answer carries.
    """
    if request.version != SIP_VERSION:
        return Rejection(505, f"SIP version {request.version} is not supported")
    try:
        _syntax(request)
        return _semantics(request, policy or UasPolicy())
    except ProtocolError as exc:
        return Rejection(400, exc.reason)


def _semantics(request: SipRequest, policy: UasPolicy) -> Rejection | None:
    """The §8.2.1-§8.2.3 checks on a syntactically valid request."""
    h = request.headers
    mf = h.get("Max-Forwards")
    if mf is not None and hv.parse_max_forwards(mf) == 0 and policy.max_forwards_zero_status:
        return Rejection(policy.max_forwards_zero_status, "Max-Forwards is 0")
    if request.method not in policy.methods:
        allow = policy.capability_headers()[:1]
        if request.method not in KNOWN_METHODS:
            return Rejection(501, f"method {request.method} is not implemented", allow)
        return Rejection(405, f"method {request.method} is not allowed here", allow)
    if hp.parse_uri(request.uri).scheme not in policy.schemes:
        return Rejection(416, f"Request-URI scheme of {request.uri!r} is not supported")
    if request.method not in ("ACK", "CANCEL"):
        required = [t for v in h.get_all("Require") for t in hv.parse_token_list(v, "Require")]
        unknown = [t for t in required if t.lower() not in policy.extensions]
        if unknown:
            return Rejection(420, "unsupported extension", (("Unsupported", ", ".join(unknown)),))
    if request.method in policy.body_methods:
        accept = ", ".join(sorted(policy.content_types))
        encoding = [e.lower() for e in h.values("Content-Encoding") if e]
        if any(e != "identity" for e in encoding):
            return Rejection(
                415, "unsupported Content-Encoding", (("Accept-Encoding", "identity"),)
            )
        if request.body:
            ctype = hv.parse_media_type(h.get("Content-Type") or "application/sdp")[0]
            if ctype not in policy.content_types:
                return Rejection(415, f"unsupported body type {ctype}", (("Accept", accept),))
        if not hv.accepts(_accept_value(h), "application/sdp"):
            return Rejection(406, "Accept rules out application/sdp", (("Accept", accept),))
    return None


def _accept_value(headers: Headers) -> str | None:
    """Return all Accept lines joined, or None when there is no Accept header."""
    values = headers.get_all("Accept")
    return ", ".join(values) if values else None


def check_response(response: SipResponse) -> None:
    """Raise ProtocolError when a UAC must discard this response (RFC 3261 §8.1.3.3, §18.1.2)."""
    h = response.headers
    for name in ("From", "To", "Call-ID", "CSeq"):
        if len(h.get_all(name)) != 1:
            raise ProtocolError(f"response needs exactly one {name}", 400)
    vias = response.vias
    if len(vias) != 1:
        raise ProtocolError(f"response has {len(vias)} Via values; a UAC needs exactly one", 400)
    response.cseq, response.from_addr, response.to_addr  # noqa: B018 - parse for errors


DialogId = tuple[str, str, str]
TARGET_REFRESH = frozenset({"INVITE", "UPDATE", "SUBSCRIBE", "NOTIFY", "REFER"})


def _bare(addr: NameAddr) -> NameAddr:
    """The address without header parameters (the tag is added per request)."""
    return NameAddr(addr.uri, addr.display_name)


def _remote_target(request_or_response: SipRequest | SipResponse, fallback: NameAddr) -> str:
    """The first Contact URI, or (RFC 2543 peers without Contact) the fallback's URI."""
    for value in request_or_response.headers.get_all("Contact"):
        contacts = parse_contacts(value)
        if contacts:
            return str(contacts[0].uri)
    return str(fallback.uri)


def _route_set(message: SipRequest | SipResponse) -> list[str]:
    """Every Record-Route value, top first, as name-addr text."""
    return [str(parse_name_addr(v, "Record-Route")) for v in message.headers.values("Record-Route")]


@dataclass
class Dialog:
    """One dialog's state; `local_via` is our transport and sent-by (branch added per request)."""

    call_id: str
    local_tag: str
    remote_tag: str | None
    local_uri: NameAddr
    remote_uri: NameAddr
    remote_target: str
    local_contact: str
    local_via: Via
    route_set: list[str] = field(default_factory=list)
    local_seq: int = field(default_factory=lambda: secrets.randbelow(2**16) + 1)
    remote_seq: int | None = None
    state: str = "confirmed"

    @classmethod
    def as_uas(
        cls, invite: SipRequest, local_tag: str, local_contact: str, local_via: Via
    ) -> Dialog:
        """The dialog our 2xx (or 101-199 with a tag) to `invite` creates (§12.1.1)."""
        from_addr = invite.from_addr
        return cls(
            call_id=invite.call_id,
            local_tag=local_tag,
            remote_tag=from_addr.tag,  # None for RFC 2543 peers
            local_uri=_bare(invite.to_addr),
            remote_uri=_bare(from_addr),
            remote_target=_remote_target(invite, from_addr),
            local_contact=local_contact,
            local_via=local_via,
            route_set=_route_set(invite),
            remote_seq=invite.cseq.seq,
        )

    @classmethod
    def as_uac(cls, request: SipRequest, response: SipResponse, local_contact: str) -> Dialog:
        """The dialog a 2xx to our INVITE creates (§12.1.2): route set reversed."""
        from_addr, to_addr = request.from_addr, response.to_addr
        return cls(
            call_id=request.call_id,
            local_tag=from_addr.tag or "",
            remote_tag=to_addr.tag,
            local_uri=_bare(from_addr),
            remote_uri=_bare(to_addr),
            remote_target=_remote_target(response, to_addr),
            local_contact=local_contact,
            local_via=Via(request.top_via.transport, request.top_via.host, request.top_via.port),
            route_set=_route_set(response)[::-1],
            local_seq=request.cseq.seq,
        )

    @property
    def id(self) -> DialogId:
        """(Call-ID, local tag, remote tag) identifies the dialog (§12)."""
        return (self.call_id, self.local_tag, self.remote_tag or "")

    def matches(self, request: SipRequest) -> bool:
        """Tell whether an incoming request belongs to this dialog."""
        try:
            return (request.call_id, request.to_addr.tag or "", request.from_addr.tag or "") == (
                self.id
            )
        except ProtocolError:
            return False

    def receive_request(self, request: SipRequest) -> Rejection | None:
        """Check an in-dialog request (§12.2.2): old CSeq is a 500; refresh the target."""
        if request.method in ("ACK", "CANCEL"):
            return None
        seq = request.cseq.seq
        if self.remote_seq is not None and seq <= self.remote_seq:
            return Rejection(500, "CSeq lower than the dialog's", (("Retry-After", "1"),))
        self.remote_seq = seq
        if request.method in TARGET_REFRESH and "Contact" in request.headers:
            self.remote_target = _remote_target(request, self.remote_uri)
        if request.method == "BYE":
            self.state = "terminated"
        return None

    def create_request(
        self,
        method: str,
        *,
        branch: str | None = None,
        extra_headers: Iterable[tuple[str, str]] = (),
        body: bytes = b"",
        content_type: str | None = None,
        cseq: int | None = None,
    ) -> SipRequest:
        """Build an in-dialog request (§12.2.1.1): loose or strict routing, next local CSeq."""
        if cseq is None:
            self.local_seq += 1
            cseq = self.local_seq
        uri, routes = self.remote_target, list(self.route_set)
        if routes and parse_name_addr(routes[0], "Route").uri.param("lr") is None:
            uri = str(parse_name_addr(routes[0], "Route").uri)  # strict router (RFC 2543)
            routes = routes[1:] + [f"<{self.remote_target}>"]
        via = Via(
            self.local_via.transport,
            self.local_via.host,
            self.local_via.port,
            (*self.local_via.params, ("branch", branch or new_branch())),
        )
        remote = self.remote_uri
        if self.remote_tag is not None:
            remote = remote.with_param("tag", self.remote_tag)
        fields = [
            ("Via", str(via)),
            ("Max-Forwards", "70"),
            ("From", str(self.local_uri.with_param("tag", self.local_tag))),
            ("To", str(remote)),
            ("Call-ID", self.call_id),
            ("CSeq", f"{cseq} {method}"),
            *(("Route", r) for r in routes),
        ]
        if method not in ("BYE", "ACK", "CANCEL"):
            fields.append(("Contact", f"<{self.local_contact}>"))
        fields.extend(extra_headers)
        if content_type is not None:
            fields.append(("Content-Type", content_type))
        if method == "BYE":
            self.state = "terminated"
        return SipRequest(method, uri, Headers(tuple(fields)), body)

    def create_bye(
        self, *, branch: str | None = None, extra_headers: Iterable[tuple[str, str]] = ()
    ) -> SipRequest:
        """Build a BYE; the dialog counts as terminated from now on."""
        return self.create_request("BYE", branch=branch, extra_headers=extra_headers)

    def create_refer(
        self,
        refer_to: str,
        *,
        referred_by: str | None = None,
        extra_headers: Iterable[tuple[str, str]] = (),
        branch: str | None = None,
    ) -> SipRequest:
        """Build a REFER (RFC 3515) asking the peer to call `refer_to` (a SIP URI)."""
        parse_uri(refer_to)  # fail early on a bad target
        fields = [("Refer-To", f"<{refer_to}>")]
        if referred_by is not None:
            fields.append(("Referred-By", f"<{referred_by}>"))
        return self.create_request("REFER", branch=branch, extra_headers=[*fields, *extra_headers])

    def create_ack(self, invite_cseq: int, *, branch: str | None = None) -> SipRequest:
        """Build the ACK for a 2xx to our INVITE (§13.2.2.4): the INVITE's CSeq number."""
        return self.create_request("ACK", branch=branch, cseq=invite_cseq)


class Invite2xxRetransmitter:
    """Resends the UAS's 2xx every T1, 2*T1, ... capped at T2 until the ACK (§13.3.1.4).

    This runs over every transport, TCP included (§13.3.1.4: "independent of whatever
    transport protocols are used"), because a proxy on the way may be stateless. After
    64*T1 without an ACK it reports `Timeout("2xx")`, asks for a BYE through `SendRequest`
    when it knows the dialog (§13.3.1.4: the UAS SHOULD end the dialog) and ends.
    """

    def __init__(
        self,
        response: SipResponse,
        now: float,
        *,
        dialog: Dialog | None = None,
        timers: Timers | None = None,
    ) -> None:
        """Start after the first 2xx was sent (by the INVITE server transaction) at `now`."""
        self.timers = timers or Timers()
        self.dialog = dialog
        self.cseq = response.cseq.seq
        self.done = False
        self._data = response.to_bytes()
        self._interval = self.timers.t1
        self._next: float | None = now + self.timers.t1
        self._give_up = now + self.timers.timeout

    def next_deadline(self) -> float | None:
        """When `on_timer` must be called next, or None once finished."""
        if self.done:
            return None
        return self._give_up if self._next is None else min(self._next, self._give_up)

    def receive_ack(self, ack: SipRequest) -> bool:
        """Stop on the ACK for this 2xx (same CSeq number); tell whether it matched."""
        if ack.method != "ACK" or ack.cseq.seq != self.cseq or self.done:
            return False
        self.done = True
        return True

    def on_timer(self, now: float) -> list[Action]:
        """Resend when due; give up (Timeout, BYE, Terminated) after 64*T1."""
        out: list[Action] = []
        while not self.done and self._next is not None and self._next <= now:
            if self._next >= self._give_up:
                break
            out.append(Transmit(self._data))
            self._interval = min(2 * self._interval, self.timers.t2)
            self._next += self._interval
        if not self.done and now >= self._give_up:
            self.done = True
            out.append(Timeout("2xx"))
            if self.dialog is not None and self.dialog.state != "terminated":
                out.append(SendRequest(self.dialog.create_bye()))
            out.append(Terminated("no ACK for the 2xx"))
        return out
