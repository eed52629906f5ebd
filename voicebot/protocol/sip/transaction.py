"""RFC 3261 §17 transactions as clock-free state machines (with RFC 6026's Accepted state).

Nothing here reads a clock or touches a socket. The owner passes `now` (seconds, any monotonic
origin) into every call, calls `on_timer(now)` once `next_deadline()` has passed, and carries out
the returned actions in order: `Transmit` the bytes to the transaction's peer, `Deliver` the
message to the transaction user, report `Timeout`, and forget the transaction on `Terminated`.
Over reliable transports (TCP) the retransmission timers (A, E, G) never run and the wait
timers D, I, J, K are zero, so the transaction ends as soon as it is complete.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

from voicebot.protocol.sip.headers import Headers
from voicebot.protocol.sip.message import (
    BRANCH_COOKIE,
    SipMessage,
    SipRequest,
    SipResponse,
    response_for,
)


@dataclass(frozen=True)
class Timers:
    """RFC 3261 timer base values in seconds (§17.1.1.1, Table 4)."""

    t1: float = 0.5
    t2: float = 4.0
    t4: float = 5.0
    d: float = 32.0

    @property
    def timeout(self) -> float:
        """64*T1: Timers B, F, H and (for UDP) J, L, M."""
        return 64 * self.t1


@dataclass(frozen=True)
class Transmit:
    """Send these bytes to the transaction's peer."""

    data: bytes


@dataclass(frozen=True)
class Deliver:
    """Pass this message up to the transaction user."""

    message: SipMessage


@dataclass(frozen=True)
class SendRequest:
    """The transaction user should send this request in a new client transaction."""

    request: SipRequest


@dataclass(frozen=True)
class Timeout:
    """A timer ran out before the peer answered (`timer` names it: B, F, H, 2xx, transport)."""

    timer: str = ""


@dataclass(frozen=True)
class Terminated:
    """The transaction is over; drop it from the table."""

    reason: str


Action: TypeAlias = Transmit | Deliver | SendRequest | Timeout | Terminated
TransactionKey: TypeAlias = tuple[str, ...]


def _rfc3261_branch(branch: str | None) -> bool:
    """Tell whether a branch carries an RFC 3261 transaction id (cookie plus something)."""
    return branch is not None and branch.startswith(BRANCH_COOKIE) and branch != BRANCH_COOKIE


def server_key(request: SipRequest) -> TransactionKey:
    """The server transaction a request belongs to (§17.2.3); ACK maps to its INVITE's.

    RFC 2543 peers (no branch, or a bare magic cookie as in RFC 4475 §3.2.1) are matched on
    Request-URI, From tag, Call-ID, CSeq number and the top Via.
    """
    via = request.top_via
    method = "INVITE" if request.method == "ACK" else request.method
    if _rfc3261_branch(via.branch):
        sent_by = f"{via.host.lower()}:{via.port or ''}"
        return ("3261", via.branch or "", sent_by, method)
    cseq = request.cseq
    tag = request.from_addr.tag or ""
    return ("2543", request.uri, tag, request.call_id, str(cseq.seq), str(via), method)


def cancelled_key(cancel: SipRequest) -> TransactionKey:
    """The key of the INVITE server transaction a CANCEL refers to (§9.2)."""
    return (*server_key(cancel)[:-1], "INVITE")


def client_key(message: SipMessage) -> TransactionKey:
    """The client transaction a response (or our own request) belongs to (§17.1.3)."""
    method = message.method if isinstance(message, SipRequest) else message.cseq.method
    return (message.top_via.branch or "", method)


class _Transaction:
    """Timer bookkeeping shared by the four state machines."""

    def __init__(self, request: SipRequest, reliable: bool, timers: Timers, state: str) -> None:
        """Remember the request, transport kind and timer values."""
        self.request = request
        self.reliable = reliable
        self.timers = timers
        self.state = state
        self._deadlines: dict[str, float] = {}
        self._interval = timers.t1

    @property
    def terminated(self) -> bool:
        """Tell whether the transaction is over."""
        return self.state == "terminated"

    def next_deadline(self) -> float | None:
        """When `on_timer` must be called next, or None when no timer runs."""
        return min(self._deadlines.values(), default=None)

    def on_timer(self, now: float) -> list[Action]:
        """Fire every timer due at `now`, earliest first; rescheduling is drift-free."""
        out: list[Action] = []
        while due := [(t, name) for name, t in self._deadlines.items() if t <= now]:
            when, name = min(due)
            del self._deadlines[name]
            out += self._fire(name, when)
        return out

    def on_transport_error(self) -> list[Action]:
        """The transport could not send: report it and end (§17.1.4, §17.2.4)."""
        return [Timeout("transport"), *self._end("transport error")]

    def _fire(self, name: str, when: float) -> list[Action]:
        """Handle one expired timer."""
        raise NotImplementedError

    def _start(self, name: str, when: float) -> None:
        """Set (or reset) a timer."""
        self._deadlines[name] = when

    def _retransmit(self, name: str, when: float, cap: float | None, data: bytes) -> list[Action]:
        """Resend `data` and restart timer `name` with a doubled interval, capped at `cap`."""
        self._interval = 2 * self._interval if cap is None else min(2 * self._interval, cap)
        self._start(name, when + self._interval)
        return [Transmit(data)]

    def _end(self, reason: str) -> list[Action]:
        """Move to Terminated and stop every timer."""
        self.state = "terminated"
        self._deadlines.clear()
        return [Terminated(reason)]

    def _wait(self, name: str, now: float, duration: float, reason: str) -> list[Action]:
        """Start a wait timer, or end at once when it is zero (reliable transports)."""
        if self.reliable or duration <= 0:
            return self._end(reason)
        self._start(name, now + duration)
        return []


class InviteServerTransaction(_Transaction):
    """INVITE server transaction (§17.2.1, RFC 6026): Proceeding, Completed, Confirmed, Accepted."""

    def __init__(
        self,
        request: SipRequest,
        *,
        reliable: bool = False,
        timers: Timers | None = None,
        send_trying: bool = True,
    ) -> None:
        """Wrap a new INVITE; `start` delivers it and (by default) answers 100 Trying."""
        super().__init__(request, reliable, timers or Timers(), "proceeding")
        self.key = server_key(request)
        self._send_trying = send_trying
        self._last: bytes | None = None

    def start(self, now: float) -> list[Action]:
        """Deliver the INVITE to the TU and send 100 Trying right away (§17.2.1)."""
        out: list[Action] = [Deliver(self.request)]
        if self._send_trying:
            self._last = response_for(self.request, 100).to_bytes()
            out.append(Transmit(self._last))
        return out

    def receive(self, message: SipRequest, now: float) -> list[Action]:
        """Absorb a retransmitted INVITE (resending the last response) or take the ACK."""
        if message.method == "INVITE":
            resend = self.state in ("proceeding", "completed") and self._last is not None
            return [Transmit(self._last)] if resend and self._last else []
        if message.method != "ACK":
            return []
        if self.state == "accepted":  # an ACK for our 2xx reusing the INVITE branch
            return [Deliver(message)]
        if self.state == "completed":
            self.state = "confirmed"
            self._deadlines.clear()
            return self._wait("I", now, self.timers.t4, "ACK received")
        return []

    def send_response(self, response: SipResponse, now: float) -> list[Action]:
        """Send a response from the TU; 2xx moves to Accepted, 300-699 to Completed."""
        data = response.to_bytes()
        if self.state == "accepted" and 200 <= response.status < 300:
            return [Transmit(data)]  # the TU's own 2xx retransmissions pass through
        if self.state != "proceeding":
            raise ValueError(f"INVITE transaction in state {self.state} cannot send a response")
        self._last = data
        if response.status < 200:
            return [Transmit(data)]
        if response.status < 300:
            self.state = "accepted"
            self._start("L", now + self.timers.timeout)
            return [Transmit(data)]
        self.state = "completed"
        if not self.reliable:
            self._interval = self.timers.t1
            self._start("G", now + self.timers.t1)
        self._start("H", now + self.timers.timeout)
        return [Transmit(data)]

    def _fire(self, name: str, when: float) -> list[Action]:
        """Timer G resends the final response; H gives up on the ACK; I and L end."""
        if name == "G" and self._last is not None:
            return self._retransmit("G", when, self.timers.t2, self._last)
        if name == "H":
            return [Timeout("H"), *self._end("no ACK for the final response (Timer H)")]
        return self._end(f"Timer {name}")


class NonInviteServerTransaction(_Transaction):
    """Non-INVITE server transaction (§17.2.2): Trying, Proceeding, Completed."""

    def __init__(
        self, request: SipRequest, *, reliable: bool = False, timers: Timers | None = None
    ) -> None:
        """Wrap a new non-INVITE request; `start` delivers it."""
        super().__init__(request, reliable, timers or Timers(), "trying")
        self.key = server_key(request)
        self._last: bytes | None = None

    def start(self, now: float) -> list[Action]:
        """Deliver the request to the TU."""
        return [Deliver(self.request)]

    def receive(self, message: SipRequest, now: float) -> list[Action]:
        """A retransmitted request: absorbed in Trying, answered with the last response after."""
        if self.state in ("proceeding", "completed") and self._last is not None:
            return [Transmit(self._last)]
        return []

    def send_response(self, response: SipResponse, now: float) -> list[Action]:
        """Send a response from the TU; a final one starts Timer J."""
        if self.state not in ("trying", "proceeding"):
            raise ValueError(f"transaction in state {self.state} cannot send a response")
        self._last = response.to_bytes()
        out: list[Action] = [Transmit(self._last)]
        if response.status < 200:
            self.state = "proceeding"
            return out
        self.state = "completed"
        return out + self._wait("J", now, self.timers.timeout, "completed")

    def _fire(self, name: str, when: float) -> list[Action]:
        """Timer J ends the transaction."""
        return self._end("Timer J")


class NonInviteClientTransaction(_Transaction):
    """Non-INVITE client transaction (§17.1.2) for BYE, REFER, OPTIONS, REGISTER, ..."""

    def __init__(
        self, request: SipRequest, *, reliable: bool = False, timers: Timers | None = None
    ) -> None:
        """Wrap a request we send; `start` transmits it."""
        super().__init__(request, reliable, timers or Timers(), "trying")
        self.key = client_key(request)
        self._data = request.to_bytes()

    def start(self, now: float) -> list[Action]:
        """Send the request and start Timers E (UDP only) and F."""
        if not self.reliable:
            self._start("E", now + self.timers.t1)
        self._start("F", now + self.timers.timeout)
        return [Transmit(self._data)]

    def receive(self, message: SipResponse, now: float) -> list[Action]:
        """Take a response: 1xx to Proceeding, final to Completed (Timer K); later ones absorbed."""
        if self.state not in ("trying", "proceeding"):
            return []
        if message.status < 200:
            self.state = "proceeding"
            return [Deliver(message)]
        self.state = "completed"
        self._deadlines.clear()
        return [Deliver(message), *self._wait("K", now, self.timers.t4, "response received")]

    def _fire(self, name: str, when: float) -> list[Action]:
        """Timer E resends (interval doubling to T2, T2 once Proceeding); F times out; K ends."""
        if name == "E" and self.state == "proceeding":
            self._start("E", when + self.timers.t2)
            return [Transmit(self._data)]
        if name == "E":
            return self._retransmit("E", when, self.timers.t2, self._data)
        if name == "F":
            return [Timeout("F"), *self._end("no final response (Timer F)")]
        return self._end("Timer K")


class InviteClientTransaction(_Transaction):
    """INVITE client transaction (§17.1.1, RFC 6026): Calling, Proceeding, Completed, Accepted."""

    def __init__(
        self, request: SipRequest, *, reliable: bool = False, timers: Timers | None = None
    ) -> None:
        """Wrap an INVITE we send; `start` transmits it."""
        super().__init__(request, reliable, timers or Timers(), "calling")
        self.key = client_key(request)
        self._data = request.to_bytes()
        self._ack: bytes | None = None

    def start(self, now: float) -> list[Action]:
        """Send the INVITE and start Timers A (UDP only) and B."""
        if not self.reliable:
            self._start("A", now + self.timers.t1)
        self._start("B", now + self.timers.timeout)
        return [Transmit(self._data)]

    def receive(self, message: SipResponse, now: float) -> list[Action]:
        """Take a response; a 300-699 is acknowledged here, a 2xx is the TU's to ACK."""
        if self.state == "completed":
            return [Transmit(self._ack)] if self._ack and message.status >= 300 else []
        if self.state == "accepted":
            return [Deliver(message)] if 200 <= message.status < 300 else []
        if self.state not in ("calling", "proceeding"):
            return []
        if message.status < 200:
            self.state = "proceeding"
            self._deadlines.clear()
            return [Deliver(message)]
        self._deadlines.clear()
        if message.status < 300:
            self.state = "accepted"
            self._start("M", now + self.timers.timeout)
            return [Deliver(message)]
        self.state = "completed"
        self._ack = self._build_ack(message).to_bytes()
        done = self._wait("D", now, self.timers.d, "final response acknowledged")
        return [Deliver(message), Transmit(self._ack), *done]

    def _build_ack(self, response: SipResponse) -> SipRequest:
        """The ACK for a non-2xx final response (§17.1.1.3): same branch, To from the response."""
        h = self.request.headers
        fields = [("Via", h.get_all("Via")[0]), ("Max-Forwards", "70")]
        fields += [(name, h.get(name) or "") for name in ("From", "Call-ID")]
        fields.append(("To", response.headers.get("To") or h.get("To") or ""))
        fields.append(("CSeq", f"{self.request.cseq.seq} ACK"))
        fields += [("Route", value) for value in h.get_all("Route")]
        return SipRequest("ACK", self.request.uri, Headers(tuple(fields)))

    def _fire(self, name: str, when: float) -> list[Action]:
        """Timer A resends (doubling, no cap); B times out; D and M end."""
        if name == "A":
            return self._retransmit("A", when, None, self._data)
        if name == "B":
            return [Timeout("B"), *self._end("no response to INVITE (Timer B)")]
        return self._end(f"Timer {name}")


ServerTransaction: TypeAlias = InviteServerTransaction | NonInviteServerTransaction
ClientTransaction: TypeAlias = InviteClientTransaction | NonInviteClientTransaction


def server_transaction(
    request: SipRequest, *, reliable: bool = False, timers: Timers | None = None
) -> ServerTransaction:
    """Create the right server transaction for a new request (never for ACK, which has none)."""
    if request.method == "ACK":
        raise ValueError("ACK does not create a server transaction; hand it to the dialog")
    if request.method == "INVITE":
        return InviteServerTransaction(request, reliable=reliable, timers=timers)
    return NonInviteServerTransaction(request, reliable=reliable, timers=timers)


def client_transaction(
    request: SipRequest, *, reliable: bool = False, timers: Timers | None = None
) -> ClientTransaction:
    """Create the right client transaction for a request we send."""
    if request.method == "INVITE":
        return InviteClientTransaction(request, reliable=reliable, timers=timers)
    return NonInviteClientTransaction(request, reliable=reliable, timers=timers)
