"""Sans-I/O SIP (RFC 3261): messages, header values, transactions, dialogs. No sockets, no clock.

`message` parses and frames bytes into frozen requests/responses and validates requests for
the UAS; `headers` parses header values; `transaction` holds the §17 state machines that turn
messages and the caller's `now` into actions; `dialog` keeps dialog state and builds in-dialog
requests. The asyncio transport owns sockets and timers and executes the actions.
"""

from voicebot.protocol.sip.dialog import (
    Dialog,
    Invite2xxRetransmitter,
    Rejection,
    UasPolicy,
    check_request,
    check_response,
)
from voicebot.protocol.sip.headers import Headers, NameAddr, Uri, Via
from voicebot.protocol.sip.message import (
    SipMessage,
    SipParseError,
    SipRequest,
    SipResponse,
    SipStreamFramer,
    error_response,
    parse_datagram,
    response_for,
)
from voicebot.protocol.sip.transaction import (
    Action,
    Deliver,
    SendRequest,
    Terminated,
    Timeout,
    Timers,
    Transmit,
    cancelled_key,
    client_key,
    client_transaction,
    server_key,
    server_transaction,
)

__all__ = [
    "Action",
    "Deliver",
    "Dialog",
    "Headers",
    "Invite2xxRetransmitter",
    "NameAddr",
    "Rejection",
    "SendRequest",
    "SipMessage",
    "SipParseError",
    "SipRequest",
    "SipResponse",
    "SipStreamFramer",
    "Terminated",
    "Timeout",
    "Timers",
    "Transmit",
    "UasPolicy",
    "Uri",
    "Via",
    "cancelled_key",
    "check_request",
    "check_response",
    "client_key",
    "client_transaction",
    "error_response",
    "parse_datagram",
    "response_for",
    "server_key",
    "server_transaction",
]
