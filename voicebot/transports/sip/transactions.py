"""SIP transactions on the loop clock: the sans-I/O state machines, driven and kept by key.

The machines in `voicebot.protocol.sip.transaction` say what to send and when to wake them;
`MachineDriver` carries that out with one loop timer per machine. `TransactionTable` keeps the
live server and client transactions, so a retransmitted request reaches its transaction (and is
absorbed there) and a response reaches the request it answers. It counts the live server
transactions per source address, so that one source cannot hold unbounded state.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from typing import Any, Protocol

from voicebot.protocol.sip.message import SipRequest, SipResponse
from voicebot.protocol.sip.transaction import (
    Action,
    Deliver,
    Terminated,
    Timeout,
    TransactionKey,
    Transmit,
    client_key,
    client_transaction,
    server_key,
    server_transaction,
)

SendBytes = Callable[[bytes], None]
Responder = Callable[[SipResponse], None]


class StateMachine(Protocol):
    """What a driver needs of a sans-I/O machine: its next wake-up and what to do then."""

    def next_deadline(self) -> float | None: ...
    def on_timer(self, now: float) -> list[Action]: ...


def loop_time() -> float:
    """The running loop's clock, the time base of every machine."""
    return asyncio.get_running_loop().time()


class MachineDriver:
    """Runs one state machine on the loop clock: executes its actions, one timer at a time."""

    def __init__(
        self,
        machine: StateMachine,
        send: SendBytes,
        on_event: Callable[[Action], None],
        on_end: Callable[[], None],
    ) -> None:
        self.machine, self._send, self._on_event, self._on_end = machine, send, on_event, on_end
        self._loop = asyncio.get_running_loop()
        self._handle: asyncio.TimerHandle | None = None
        self.done = False

    def run(self, actions: list[Action]) -> None:
        """Carries out actions in order, then re-arms the timer."""
        for action in actions:
            if isinstance(action, Transmit):
                self._send(action.data)
            elif isinstance(action, Terminated):
                self.done = True
                self._on_end()
            else:
                self._on_event(action)
        self._arm()

    def _arm(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        deadline = None if self.done else self.machine.next_deadline()
        if deadline is not None:
            self._handle = self._loop.call_at(deadline, self._fire)

    def _fire(self) -> None:
        self._handle = None
        self.run(self.machine.on_timer(self._loop.time()))

    def cancel(self) -> None:
        """Stops the timer for good."""
        self.done = True
        if self._handle is not None:
            self._handle.cancel()


def _responder(tx: Any, driver: MachineDriver) -> Responder:
    def respond(response: SipResponse) -> None:
        if not driver.done:  # a finished transaction sends nothing more
            driver.run(tx.send_response(response, loop_time()))

    return respond


class TransactionTable:
    """The live server and client transactions of one SIP server."""

    def __init__(self) -> None:
        self._server: dict[TransactionKey, tuple[Any, MachineDriver]] = {}
        self._client: dict[TransactionKey, tuple[Any, MachineDriver]] = {}
        self._per_source: Counter[str] = Counter()

    def open_for(self, source: str) -> int:
        """How many server transactions from this source address are live."""
        return self._per_source[source]

    def absorb(self, request: SipRequest) -> bool:
        """Hands a retransmission (or the ACK of a non-2xx answer) to its server transaction;
        False when the request starts a new one."""
        known = self._server.get(server_key(request))
        if known is None:
            return False
        tx, driver = known
        driver.run(tx.receive(request, loop_time()))
        return True

    def open_server(
        self,
        request: SipRequest,
        *,
        reliable: bool,
        send: SendBytes,
        on_ack: Callable[[SipRequest], None],
        source: str = "",
    ) -> tuple[Any, Responder]:
        """Starts the server transaction of a new request (from the `source` address);
        returns it and its responder."""
        key = server_key(request)
        tx = server_transaction(request, reliable=reliable)

        def on_event(action: Action) -> None:
            message = action.message if isinstance(action, Deliver) else None
            if isinstance(message, SipRequest) and message.method == "ACK":
                on_ack(message)

        def on_end() -> None:
            if self._server.pop(key, None) is not None:
                self._per_source[source] -= 1
                if self._per_source[source] <= 0:
                    del self._per_source[source]

        driver = MachineDriver(tx, send, on_event, on_end)
        if key in self._server:  # a key reused by a new request: the old machine is replaced
            self._server[key][1].cancel()
        else:
            self._per_source[source] += 1
        self._server[key] = (tx, driver)
        driver.run([a for a in tx.start(loop_time()) if not isinstance(a, Deliver)])
        return tx, _responder(tx, driver)

    def request(
        self, request: SipRequest, *, reliable: bool, send: SendBytes
    ) -> asyncio.Future[SipResponse | None]:
        """Sends a request in a client transaction; the future gets its final response, or
        None when none came in time."""
        future: asyncio.Future[SipResponse | None] = asyncio.get_running_loop().create_future()
        tx = client_transaction(request, reliable=reliable)
        key = client_key(request)

        def on_event(action: Action) -> None:
            if isinstance(action, Deliver) and isinstance(action.message, SipResponse):
                if action.message.status >= 200 and not future.done():
                    future.set_result(action.message)
            elif isinstance(action, Timeout) and not future.done():
                future.set_result(None)

        def on_end() -> None:
            self._client.pop(key, None)
            if not future.done():
                future.set_result(None)

        driver = MachineDriver(tx, send, on_event, on_end)
        self._client[key] = (tx, driver)
        driver.run(tx.start(loop_time()))
        return future

    def response(self, response: SipResponse) -> None:
        """Hands a response to the client transaction it answers; a stray one is dropped."""
        entry = self._client.get(client_key(response))
        if entry is None:
            return  # a stray or late response (§17.1.3)
        tx, driver = entry
        driver.run(tx.receive(response, loop_time()))

    def close(self) -> None:
        """Stops every transaction's timer."""
        for _tx, driver in [*self._server.values(), *self._client.values()]:
            driver.cancel()
