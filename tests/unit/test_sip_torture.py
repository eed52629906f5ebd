"""RFC 4475 torture messages: what this UAS does with each one, written out file by file.

Stages: "accept" (parses, `check_request` lets it through), "check" (parses, `check_request`
refuses it with `status`), "parse" (the parser refuses it with `status` and `error_response`
can still answer), "drop" (refused with nothing to answer: a response, or no Via/CSeq),
"response" (a well-formed response a UAC accepts), "discard" (a well-formed response a UAC
must discard). REGISTER and MESSAGE are allowed here so that the requests that use them are
checked through to the end; the gateway's own policy answers them 405 (tested below).
"""

from __future__ import annotations

import contextlib
import random
from pathlib import Path

import pytest

from voicebot.errors import ProtocolError
from voicebot.protocol.sdp import answer_offer, parse_sdp
from voicebot.protocol.sip.dialog import Dialog, UasPolicy, check_request, check_response
from voicebot.protocol.sip.headers import Via, parse_contacts, parse_name_addr, parse_uri
from voicebot.protocol.sip.message import (
    SipParseError,
    SipRequest,
    SipResponse,
    SipStreamFramer,
    error_response,
    parse_datagram,
)
from voicebot.protocol.sip.transaction import server_key

TORTURE = Path(__file__).resolve().parents[2].parent / "shared" / "sip-torture" / "rfc4475"
POLICY = UasPolicy(methods=UasPolicy().methods | {"REGISTER", "MESSAGE"})

# name: (RFC 4475 section, stage, status)
TABLE: dict[str, tuple[str, str, int | None]] = {
    # 3.1.1 valid messages: parsed and handled
    "wsinv": ("3.1.1.1", "accept", None),
    "intmeth": ("3.1.1.2", "check", 501),  # unknown method: 501 (RFC 3261 §8.2.1, §21.5.2)
    "esc01": ("3.1.1.3", "accept", None),
    "escnull": ("3.1.1.4", "accept", None),
    "esc02": ("3.1.1.5", "check", 501),  # RE%47IST%45R is not REGISTER: unknown method
    "lwsdisp": ("3.1.1.6", "accept", None),
    "longreq": ("3.1.1.7", "accept", None),
    "dblreq": ("3.1.1.8", "accept", None),  # the INVITE after Content-Length is discarded
    "semiuri": ("3.1.1.9", "accept", None),
    "transports": ("3.1.1.10", "accept", None),
    "mpart01": ("3.1.1.11", "accept", None),
    "unreason": ("3.1.1.12", "response", None),
    "noreason": ("3.1.1.13", "response", None),
    # 3.1.2 invalid messages: 400 (or dropped when nothing can be answered)
    "badinv01": ("3.1.2.1", "check", 400),
    "clerr": ("3.1.2.2", "parse", 400),
    "ncl": ("3.1.2.3", "parse", 400),
    "scalar02": ("3.1.2.4", "check", 400),
    "scalarlg": ("3.1.2.5", "discard", None),
    "quotbal": ("3.1.2.6", "check", 400),
    "ltgtruri": ("3.1.2.7", "check", 400),
    "lwsruri": ("3.1.2.8", "parse", 400),
    "lwsstart": ("3.1.2.9", "parse", 400),
    "trws": ("3.1.2.10", "parse", 400),
    "escruri": ("3.1.2.11", "check", 400),
    "baddate": ("3.1.2.12", "check", 400),
    "regbadct": ("3.1.2.13", "check", 400),
    "badaspec": ("3.1.2.14", "check", 400),
    "baddn": ("3.1.2.15", "check", 400),
    "badvers": ("3.1.2.16", "parse", 505),  # the RFC asks for 505 Version Not Supported
    "mismatch01": ("3.1.2.17", "check", 400),
    "mismatch02": ("3.1.2.18", "check", 400),
    "bigcode": ("3.1.2.19", "drop", 400),
    # 3.2 transaction layer, 3.3 application layer
    "badbranch": ("3.2.1", "accept", None),  # falls back to RFC 2543 matching (allowed)
    "insuf": ("3.3.1", "check", 400),
    "unkscm": ("3.3.2", "check", 416),
    "novelsc": ("3.3.3", "check", 416),  # soap.beep is never meaningful here: 416
    "unksm2": ("3.3.4", "accept", None),
    "bext01": ("3.3.5", "check", 420),
    "invut": ("3.3.6", "check", 415),
    "regaut01": ("3.3.7", "accept", None),  # no authentication here: Authorization ignored
    "multi01": ("3.3.8", "check", 400),
    "mcl01": ("3.3.9", "parse", 400),
    "bcast": ("3.3.10", "discard", None),  # two Vias in a response: a UAC discards it
    "zeromf": ("3.3.11", "accept", None),  # an endpoint processes it; 483 is a proxy's answer
    "cparam01": ("3.3.12", "accept", None),
    "cparam02": ("3.3.13", "accept", None),
    "regescrt": ("3.3.14", "accept", None),
    "sdp01": ("3.3.15", "check", 406),  # Accept rules out application/sdp
    # 3.4 backward compatibility
    "inv2543": ("3.4.1", "accept", None),
    # in the archive, referenced by no section: no SIP version, a header line without colon
    "test": ("-", "drop", 400),
}


def load(name: str) -> bytes:
    """Read one torture message, or skip when ../shared is not checked out."""
    path = TORTURE / f"{name}.dat"
    if not TORTURE.is_dir():
        pytest.skip(f"RFC 4475 messages not found at {TORTURE} (../shared missing)")
    return path.read_bytes()


def test_table_covers_every_file() -> None:
    """Every .dat file has a row and every row a file: nothing is silently skipped."""
    if not TORTURE.is_dir():
        pytest.skip(f"RFC 4475 messages not found at {TORTURE} (../shared missing)")
    assert sorted(p.stem for p in TORTURE.glob("*.dat")) == sorted(TABLE)


@pytest.mark.parametrize("name", list(TABLE))
def test_torture_message(name: str) -> None:
    """Each message ends in the stage and status the table gives."""
    _, stage, status = TABLE[name]
    data = load(name)
    if stage in ("parse", "drop") and name not in ("scalarlg", "bcast"):
        with pytest.raises(SipParseError) as err:
            parse_datagram(data)
        assert err.value.status == status
        answer = error_response(err.value)
        if stage == "parse":
            assert answer is not None and answer.status == status
            assert answer.header("Call-ID") is not None
        else:
            assert answer is None
        return
    msg = parse_datagram(data)
    if stage in ("response", "discard"):
        assert isinstance(msg, SipResponse)
        if stage == "response":
            check_response(msg)
        else:
            with pytest.raises(ProtocolError):
                check_response(msg)
        return
    assert isinstance(msg, SipRequest)
    rejection = check_request(msg, POLICY)
    assert (rejection.status if rejection else None) == status, rejection
    if rejection is not None:
        response = rejection.response(msg)
        assert response.status == status and response.headers.get_all("Via")
    else:
        assert server_key(msg)


def test_counts_per_category() -> None:
    """13 valid, 19 invalid, 1 + 15 semantic, 1 backward-compatible, 1 extra file."""
    sections = [section.rsplit(".", 1)[0] for section, _, _ in TABLE.values()]
    assert sections.count("3.1.1") == 13 and sections.count("3.1.2") == 19
    assert sections.count("3.2") == 1 and sections.count("3.3") == 15
    assert sections.count("3.4") == 1 and sections.count("-") == 1


def test_wsinv_details() -> None:
    """Folding, LWS around separators, escaped quotes, compact and odd-case names."""
    msg = parse_datagram(load("wsinv"))
    assert isinstance(msg, SipRequest)
    assert msg.to_addr.tag == "1918181833n" and str(msg.to_addr.uri).endswith("example.com")
    assert msg.from_addr.display_name == 'J Rosenberg \\"' and msg.from_addr.tag == "98asjd8"
    assert msg.cseq.seq == 9 and msg.header("Max-Forwards") == "0068"
    assert [(v.transport, v.host, v.branch) for v in msg.vias] == [
        ("UDP", "192.0.2.2", "390skdjuw"),
        ("TCP", "spindle.example.com", "z9hG4bK9ikj8"),
        ("UDP", "192.168.255.111", "z9hG4bK30239"),
    ]
    (contact,) = parse_contacts(msg.header("m") or "") or []
    assert contact.display_name == 'Quoted string ""'
    assert contact.params == (("newparam", "newvalue"), ("secondparam", None), ("q", "0.33"))
    assert msg.header("NewFangledHeader") == "newfangled value continued newfangled value"
    assert msg.header("UnknownHeaderWithUnusualValue") == ";;,,;;,;" and msg.header("s") == ""
    assert server_key(msg)[0] == "2543"  # branch without the magic cookie


def test_intmeth_and_escapes() -> None:
    """Odd but legal characters survive parsing; escapes stay escaped."""
    msg = parse_datagram(load("intmeth"))
    assert isinstance(msg, SipRequest)
    assert msg.method == "!interesting-Method0123456789_*+`.%indeed'~" == msg.cseq.method
    uri = parse_uri(msg.uri)
    assert uri.user == "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*"
    assert uri.password == "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)"
    assert msg.to_addr.display_name == "BEL:\x07 NUL:\x00 DEL:\x7f"
    assert msg.from_addr.display_name == "token1~` token2'+_ token3*%!.-"
    assert msg.from_addr.params[0] == ("fromParam''~+*_!.-%", "работающий")
    assert msg.call_id == "intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{"
    esc01 = parse_datagram(load("esc01"))
    assert parse_uri(esc01.uri if isinstance(esc01, SipRequest) else "").user == (
        "sips%3Auser%40example.com"
    )
    assert esc01.from_addr.uri.user == "I%20have%20spaces"
    (contact,) = parse_contacts(esc01.header("Contact") or "") or []
    assert contact.uri.params == (("%6C%72", None), ("n%61me", "v%61lue%25%34%31"))
    escnull = parse_datagram(load("escnull"))
    assert [parse_name_addr(c).uri.user for c in escnull.headers.get_all("Contact")] == [
        "%00", "%00%00",
    ]  # fmt: skip
    esc02 = parse_datagram(load("esc02"))
    assert len(esc02.headers.get_all("Contact")) == 2 and esc02.header("C%6Fntact")
    assert esc02.to_addr.display_name == "%Z%45"


def test_parameters_and_schemes() -> None:
    """Contact params vs URI params (cparam01/02), escaped URI headers, unknown schemes."""
    cparam01 = parse_datagram(load("cparam01"))
    (c1,) = parse_contacts(cparam01.header("Contact") or "") or []
    assert c1.uri.params == () and c1.params == (("unknownparam", None),)
    cparam02 = parse_datagram(load("cparam02"))
    (c2,) = parse_contacts(cparam02.header("Contact") or "") or []
    assert c2.uri.params == (("unknownparam", None),) and c2.params == ()
    regescrt = parse_datagram(load("regescrt"))
    (c3,) = parse_contacts(regescrt.header("m") or "") or []
    assert c3.uri.headers == "Route=%3Csip:sip.example.com%3E"
    unksm2 = parse_datagram(load("unksm2"))
    assert (unksm2.to_addr.uri.scheme, unksm2.from_addr.uri.scheme) == ("isbn", "http")
    semiuri = parse_datagram(load("semiuri"))
    assert isinstance(semiuri, SipRequest)
    assert parse_uri(semiuri.uri).user == "user;par=u%40example.net"
    assert len(semiuri.headers.values("Accept")) == 6
    transports = parse_datagram(load("transports"))
    assert [v.transport for v in transports.vias] == ["UDP", "SCTP", "TLS", "UNKNOWN", "TCP"]
    assert parse_datagram(load("lwsdisp")).from_addr.display_name == "caller"
    bcast = parse_datagram(load("bcast"))
    assert bcast.vias[1].host == "255.255.255.255"
    assert isinstance(un := parse_datagram(load("unreason")), SipResponse)
    assert un.reason.startswith("= 2**3 * 5**2 но сто") and un.status == 200
    assert isinstance(no := parse_datagram(load("noreason")), SipResponse) and no.reason == ""


def test_lengths_and_framing() -> None:
    """longreq's 34 Vias; dblreq over UDP is one REGISTER, over TCP two requests; mpart01."""
    longreq = parse_datagram(load("longreq"))
    assert len(longreq.vias) == 34 and len(longreq.body) == 150
    dblreq = load("dblreq")
    assert parse_datagram(dblreq).body == b""
    framer = SipStreamFramer()
    on_tcp = framer.feed(dblreq)  # the INVITE's body is 4 bytes longer than its Content-Length
    assert [m.method for m in on_tcp if isinstance(m, SipRequest)] == ["REGISTER", "INVITE"]
    assert framer.error is not None and framer.error.status == 400
    with pytest.raises(SipParseError):
        framer.feed(b"")
    mpart = parse_datagram(load("mpart01"))
    assert len(mpart.body) == 553 and mpart.body.startswith(b"--7a9cbec02ceef655")
    insuf = parse_datagram(load("insuf"))
    assert isinstance(insuf, SipRequest) and len(insuf.body) == 152


def test_special_outcomes() -> None:
    """Unsupported lists the unknown options; 483 under a proxy-like policy; the gateway's own
    policy answers REGISTER/MESSAGE 405; badbranch and inv2543 use RFC 2543 matching."""
    bext = parse_datagram(load("bext01"))
    assert isinstance(bext, SipRequest) and (r := check_request(bext)) is not None
    assert ("Unsupported", "nothingSupportsThis, nothingSupportsThisEither") in r.headers
    zeromf = parse_datagram(load("zeromf"))
    assert isinstance(zeromf, SipRequest)
    assert (r := check_request(zeromf, UasPolicy(max_forwards_zero_status=483))) is not None
    assert r.status == 483
    for name in ("escnull", "mpart01", "regaut01"):
        msg = parse_datagram(load(name))
        assert isinstance(msg, SipRequest) and (r := check_request(msg)) and r.status == 405
    for name in ("badbranch", "inv2543"):
        msg = parse_datagram(load(name))
        assert isinstance(msg, SipRequest) and server_key(msg)[0] == "2543"


@pytest.mark.parametrize("name", ["wsinv", "esc01", "longreq", "inv2543", "sdp01"])
def test_offers_in_torture_invites(name: str) -> None:
    """Their SDP offers PCMU (0) and GSM (12) plus video: we answer PCMU, video on port 0."""
    msg = parse_datagram(load(name))
    answer, result = answer_offer(
        parse_sdp(msg.body), local_address="192.0.2.9", local_port=30000,
        session_id=1, session_version=1,
    )  # fmt: skip
    assert (result.codec, result.payload_type) == ("PCMU", 0)
    assert [m.port for m in answer.media] == [30000, 0][: len(answer.media)]


def test_inv2543_dialog() -> None:
    """An RFC 2543 INVITE (no From tag, no Contact) still makes a usable dialog."""
    msg = parse_datagram(load("inv2543"))
    assert isinstance(msg, SipRequest) and msg.from_addr.tag is None
    dialog = Dialog.as_uas(msg, "t1", "sip:bot@192.0.2.9", Via("UDP", "192.0.2.9", 5060))
    assert dialog.remote_tag is None and dialog.route_set
    bye = dialog.create_bye()
    assert bye.uri == "sip:UserB@example.com;maddr=ss1.example.com"  # strict router: no lr
    assert (
        bye.headers.get_all("Route")[-1] == "<sip:+13035551111@ift.client.example.net;user=phone>"
    )
    assert bye.to_addr.tag is None


def test_mutated_torture_messages_raise_only_protocol_errors() -> None:
    """Truncated and mutated torture messages never raise anything but ProtocolError."""
    rng = random.Random(3261)
    messages = [load(name) for name in TABLE]
    for _ in range(2000):
        data = bytearray(rng.choice(messages))
        if rng.random() < 0.3:
            data = data[: rng.randrange(len(data))]
        else:
            for _ in range(rng.randrange(1, 8)):
                data[rng.randrange(len(data))] = rng.choice(b' \t\r\n:;,<>"@\\/=%0aZ\xff\x00?[]')
        try:
            msg = parse_datagram(bytes(data))
        except ProtocolError:
            continue
        if isinstance(msg, SipRequest):
            if check_request(msg) is None:
                server_key(msg)
        else:
            with contextlib.suppress(ProtocolError):
                check_response(msg)
