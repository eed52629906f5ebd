"""OPTIONS as a load balancer's probe (issue 13): 503 with Retry-After while the gateway starts,
drains or is full (live or ringing calls), 200 otherwise; byte tables against the sans-I/O
answer and the same over a real UDP socket."""

from __future__ import annotations

from collections import Counter
from typing import Any, cast

import pytest

from tests.unit.test_sip_transport import request, run_server, status
from voicebot.config import Settings, SipSettings
from voicebot.lifecycle import CallLifecycle, LiveCall
from voicebot.pipeline.services import Services
from voicebot.protocol.sip.message import parse_datagram
from voicebot.transports.sip.access import AccessControl
from voicebot.transports.sip.server import SipServer

OPTIONS = (
    b"OPTIONS sip:bot@127.0.0.1 SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bKprobe1\r\n"
    b"From: <sip:kamailio@127.0.0.1>;tag=k1\r\nTo: <sip:bot@127.0.0.1>\r\n"
    b"Call-ID: probe1@127.0.0.1\r\nCSeq: 10 OPTIONS\r\nMax-Forwards: 70\r\n"
    b"Content-Length: 0\r\n\r\n"
)


def lifecycle(*, ready: bool, draining: bool, live: int, max_calls: int = 2) -> CallLifecycle:
    calls = CallLifecycle(Settings(max_calls=max_calls), Counter())
    if ready:
        calls.services = cast(Services, object())
    calls.draining = draining
    for n in range(live):
        calls.live[f"call-{n}"] = cast(LiveCall, object())
    return calls


@pytest.mark.parametrize(
    ("ready", "draining", "live", "ringing", "expected"),
    [
        (True, False, 0, 0, b"SIP/2.0 200 OK\r\n"),
        (True, False, 1, 0, b"SIP/2.0 200 OK\r\n"),
        (False, False, 0, 0, b"SIP/2.0 503 models loading, try again later\r\n"),
        (True, True, 0, 0, b"SIP/2.0 503 the gateway is shutting down, try another\r\n"),
        (False, True, 0, 0, b"SIP/2.0 503 the gateway is shutting down, try another\r\n"),
        (True, False, 2, 0, b"SIP/2.0 503 maximum of 2 concurrent calls reached\r\n"),
        (
            True,
            False,
            1,
            1,
            b"SIP/2.0 503 maximum of 2 concurrent calls reached (some still ringing)\r\n",
        ),
    ],
)
def test_options_answer(
    ready: bool, draining: bool, live: int, ringing: int, expected: bytes
) -> None:
    calls = lifecycle(ready=ready, draining=draining, live=live)
    access = AccessControl(SipSettings(retry_after_s=7), calls)
    req = parse_datagram(OPTIONS)
    answer = access.options_response(req, ringing).to_bytes()  # type: ignore[arg-type]
    assert answer.startswith(expected)
    assert b"Call-ID: probe1@127.0.0.1\r\n" in answer
    assert b"CSeq: 10 OPTIONS\r\n" in answer
    if expected.startswith(b"SIP/2.0 503"):
        assert b"\r\nRetry-After: 7\r\n" in answer
        assert b"Allow:" not in answer
    else:
        assert b"Retry-After" not in answer
        assert b"Allow: ACK, BYE, CANCEL, INFO, INVITE, NOTIFY, OPTIONS" in answer
    assert calls.metrics["calls_refused"] == 0  # a probe is no refused call


def test_options_over_udp_follows_the_gateway_state() -> None:
    """The same over a real socket: starting 503, ready 200, full 503, draining 503 (and an
    INVITE while draining 503 too), each with Retry-After."""

    async def check(server: SipServer, send: Any) -> None:
        calls = server.access.calls
        reply = await send(request("OPTIONS", send.port, n=1))
        assert status(reply) == 503 and b"Retry-After: 30" in reply  # models still loading
        calls.services = cast(Services, object())
        assert status(await send(request("OPTIONS", send.port, n=2))) == 200
        calls.live["x"] = cast(LiveCall, object())  # max_calls = 1: full
        reply = await send(request("OPTIONS", send.port, n=3))
        assert status(reply) == 503 and b"Retry-After: 30" in reply
        del calls.live["x"]
        assert status(await send(request("OPTIONS", send.port, n=4))) == 200
        calls.draining = True
        reply = await send(request("OPTIONS", send.port, n=5))
        assert status(reply) == 503 and b"shutting down" in reply
        assert b"Retry-After: 30" in reply

    calls = run_server(check, ready=False, max_calls=1)
    assert calls.metrics["sip_options_unavailable_starting"] == 1
    assert calls.metrics["sip_options_unavailable_capacity"] == 1
    assert calls.metrics["sip_options_unavailable_draining"] == 1
