"""Byte tables for SIP parsing, framing, serializing, header values, responses and checks."""

from __future__ import annotations

import contextlib
import random

import pytest

from voicebot.errors import ProtocolError
from voicebot.protocol.sip.dialog import UasPolicy, check_request, check_response
from voicebot.protocol.sip.headers import (
    Headers,
    NameAddr,
    Uri,
    Via,
    canonical_name,
    parse_name_addr,
    parse_uri,
    parse_via,
    split_commas,
)
from voicebot.protocol.sip.message import (
    MAX_MESSAGE_SIZE,
    SipParseError,
    SipRequest,
    SipResponse,
    SipStreamFramer,
    error_response,
    is_keepalive,
    parse_datagram,
    response_for,
    serialize,
    with_received,
)
from voicebot.protocol.sip.values import CSeq, parse_cseq, parse_max_forwards

SDP = (
    b"v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
    b"m=audio 4000 RTP/AVP 8\r\n"
)
INVITE = (
    b"INVITE sip:bot@gw.example.de SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP 192.0.2.1:5062;branch=z9hG4bK776asdhds;rport\r\n"
    b"v: SIP/2.0/UDP proxy.example.de;branch=z9hG4bKp1, SIP/2.0/TCP edge.example.de\r\n"
    b"Max-Forwards: 69\r\n"
    b'f: "Anna M\xc3\xbcller" <sip:anna@example.de>;tag=1928301774\r\n'
    b"t: <sip:bot@gw.example.de>\r\n"
    b"i: a84b4c76e66710@pc33.example.de\r\n"
    b"CSeq: 314159 INVITE\r\n"
    b"m: <sip:anna@192.0.2.1:5062>\r\n"
    b"Subject: folded\r\n   value\r\n"
    b"Timestamp: 54\r\n"
    b"c: application/sdp\r\n"
    b"l: " + str(len(SDP)).encode() + b"\r\n\r\n" + SDP
)  # fmt: skip
LENGTH = b"l: " + str(len(SDP)).encode()


def request(*lines: str, method: str = "OPTIONS", body: bytes = b"") -> SipRequest:
    """Build a request with a complete set of mandatory headers plus `lines`."""
    base = [
        "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKabc",
        "From: <sip:a@example.de>;tag=1",
        "To: <sip:bot@gw.example.de>",
        "Call-ID: c1@example.de",
        f"CSeq: 1 {method}",
        "Max-Forwards: 70",
    ]
    names = {line.split(":")[0].lower() for line in lines}
    head = [b for b in base if b.split(":")[0].lower() not in names] + list(lines)
    text = f"{method} sip:bot@gw.example.de SIP/2.0\r\n" + "\r\n".join(head)
    data = text.encode() + f"\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body
    msg = parse_datagram(data)
    assert isinstance(msg, SipRequest)
    return msg


def test_parse_invite_fields() -> None:
    """Start line, ordered headers with compact forms, folding and the body."""
    msg = parse_datagram(INVITE)
    assert isinstance(msg, SipRequest)
    assert (msg.method, msg.uri, msg.version, msg.body) == (
        "INVITE", "sip:bot@gw.example.de", "SIP/2.0", SDP,
    )  # fmt: skip
    assert msg.headers.fields[0][0] == "Via" and msg.headers.fields[1][0] == "v"
    assert len(msg.headers.get_all("VIA")) == 2 and len(msg.vias) == 3
    assert [v.host for v in msg.vias] == ["192.0.2.1", "proxy.example.de", "edge.example.de"]
    assert msg.top_via.branch == "z9hG4bK776asdhds" and msg.top_via.port == 5062
    assert msg.call_id == "a84b4c76e66710@pc33.example.de"
    assert msg.cseq == CSeq(314159, "INVITE")
    assert msg.from_addr.display_name == "Anna Müller" and msg.from_addr.tag == "1928301774"
    assert msg.to_addr.tag is None and msg.header("content-type") == "application/sdp"
    assert msg.header("Subject") == "folded value"
    assert msg.header("X-Missing") is None and "Contact" in msg.headers


def test_serialize_round_trip_rewrites_content_length() -> None:
    """serialize() keeps names and order and writes the real Content-Length."""
    msg = parse_datagram(INVITE)
    again = parse_datagram(serialize(msg))
    assert again == msg
    changed = serialize(SipResponse(200, "OK", Headers((("Content-Length", "99"),)), b"abc"))
    assert changed == b"SIP/2.0 200 OK\r\nContent-Length: 3\r\n\r\nabc"
    assert SipRequest("BYE", "sip:x@y", Headers()).to_bytes() == (
        b"BYE sip:x@y SIP/2.0\r\nContent-Length: 0\r\n\r\n"
    )


def test_datagram_body_rules() -> None:
    """Short body: 400 with a response; long body: cut (§18.3); no Content-Length: the rest."""
    head = INVITE[: INVITE.index(b"\r\n\r\n") + 4]
    with pytest.raises(SipParseError) as err:
        parse_datagram(head + SDP[:-1])
    assert err.value.status == 400
    answer = error_response(err.value)
    assert answer is not None and answer.status == 400 and answer.to_addr.tag
    long = parse_datagram(INVITE + b"garbage after the body")
    assert long.body == SDP
    no_length = INVITE.replace(LENGTH + b"\r\n", b"")
    assert parse_datagram(no_length + b"x").body == SDP + b"x"


def test_size_limit() -> None:
    """Over 16 KiB is a 413 when the headers could be read, else a 400 (no response)."""
    big = b"x" * MAX_MESSAGE_SIZE
    data = INVITE.replace(LENGTH, b"l: " + str(len(SDP) + len(big)).encode()) + big
    with pytest.raises(SipParseError) as err:
        parse_datagram(data)
    assert err.value.status == 413
    assert (resp := error_response(err.value)) is not None and resp.status == 413
    with pytest.raises(SipParseError) as err:
        parse_datagram(b"OPTIONS sip:a@b SIP/2.0\r\nX: " + big + b"\r\n\r\n")
    assert err.value.status == 400 and error_response(err.value) is None


@pytest.mark.parametrize(
    ("data", "status"),
    [
        (b"", 400),
        (b"OPTIONS sip:a@b SIP/2.0\r\n", 400),
        (b"OPTIONS sip:a@b\r\n\r\n", 400),
        (b"OPTIONS  sip:a@b SIP/2.0\r\n\r\n", 400),
        (b"OPTIONS sip:a@b SIP/2.0 \r\n\r\n", 400),
        (b"OPT<IONS sip:a@b SIP/2.0\r\n\r\n", 400),
        (b"OPTIONS sip:a@b SIP/3.0\r\n\r\n", 505),
        (b"OPTIONS sip:a@b HTTP/1.1\r\n\r\n", 400),
        (b"SIP/2.0 20 OK\r\n\r\n", 400),
        (b"SIP/2.0 200\r\n\r\n", 400),
        (b"SIP/2.0 700 Huh\r\n\r\n", 400),
        (b"SIP/3.0 200 OK\r\n\r\n", 400),
        (b"OPTIONS sip:a@b SIP/2.0\r\n continued\r\n\r\n", 400),
        (b"OPTIONS sip:a@b SIP/2.0\r\nNoColon\r\n\r\n", 400),
        (b"OPTIONS sip:a@b SIP/2.0\r\nBad Name: x\r\n\r\n", 400),
        (b"OPTIONS sip:a@b SIP/2.0\nVia: x\n\n\r\n\r\n", 400),
        (b"OPTIONS sip:a@b SIP/2.0\r\nX: \xff\xfe\r\n\r\n", 400),
        (b"OPTIONS sip:a@b SIP/2.0\r\nl: 1\r\nl: 1\r\n\r\nx", 400),
        (b"OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 0x10\r\n\r\n", 400),
        (b"OPTIONS sip:a@b SIP/2.0\r\nContent-Length: +5\r\n\r\n", 400),
    ],
    ids=["empty", "no-blank-line", "two-parts", "double-space", "trailing-space", "bad-method",
         "version-505", "http", "short-code", "no-reason-space", "code-700", "response-version",
         "fold-first", "no-colon", "space-in-name", "bare-lf", "not-utf8", "two-lengths",
         "hex-length", "signed-length"],
)  # fmt: skip
def test_malformed_datagrams(data: bytes, status: int) -> None:
    """Every malformed message is a SipParseError with the status to answer."""
    with pytest.raises(SipParseError) as err:
        parse_datagram(data)
    assert err.value.status == status


def test_keepalive() -> None:
    """A datagram of CRLFs is a keep-alive, not a message."""
    assert is_keepalive(b"\r\n\r\n") and is_keepalive(b"\r\n") and not is_keepalive(INVITE)


def test_stream_framer_byte_by_byte_and_pipelined() -> None:
    """Content-Length delimits bodies on a stream, whatever the chunking; CRLFs are skipped."""
    bye = b"BYE sip:a@b SIP/2.0\r\nCall-ID: x\r\nContent-Length: 0\r\n\r\n"
    stream = b"\r\n\r\n" + INVITE + b"\r\n" + bye + INVITE
    framer = SipStreamFramer()
    out = [m for i in range(len(stream)) for m in framer.feed(stream[i : i + 1])]
    assert [m.method for m in out if isinstance(m, SipRequest)] == ["INVITE", "BYE", "INVITE"]
    assert out[0].body == SDP and out[1].body == b"" and framer.buffered == 0
    framer = SipStreamFramer()
    assert len(framer.feed(stream)) == 3
    partial = framer.feed(INVITE[:-5])
    assert partial == [] and framer.buffered == len(INVITE) - 5
    assert len(framer.feed(INVITE[-5:])) == 1


def test_stream_framer_errors_are_final() -> None:
    """A framing error (here two Content-Lengths) poisons the stream: close it."""
    framer = SipStreamFramer()
    with pytest.raises(SipParseError):
        framer.feed(b"OPTIONS sip:a@b SIP/2.0\r\nl: 1\r\nl: 2\r\n\r\nxx")
    with pytest.raises(SipParseError):
        framer.feed(INVITE)
    framer = SipStreamFramer()
    assert len(framer.feed(INVITE + b"junk\r\n\r\n")) == 1 and framer.error is not None
    with pytest.raises(SipParseError):
        framer.feed(INVITE)
    framer = SipStreamFramer()
    with pytest.raises(SipParseError) as err:
        framer.feed(INVITE.replace(LENGTH, b"l: 20000"))
    assert err.value.status == 413
    with pytest.raises(SipParseError) as err:
        SipStreamFramer().feed(b"X" * (MAX_MESSAGE_SIZE + 10))
    assert err.value.status == 400


def test_fuzz_only_protocol_errors() -> None:
    """Random bytes, truncations and mutations of valid messages raise nothing but
    ProtocolError, and parsed messages survive the checks and accessors the same way."""
    rng = random.Random(4475)
    samples = [INVITE, request("Require: foo").to_bytes(), b"SIP/2.0 200 OK\r\nl: 0\r\n\r\n"]
    inputs: list[bytes] = []
    for _ in range(1500):
        base = rng.choice(samples)
        kind = rng.randrange(4)
        if kind == 0:
            inputs.append(bytes(rng.randrange(256) for _ in range(rng.randrange(80))))
        elif kind == 1:
            inputs.append(base[: rng.randrange(len(base))])
        else:
            data = bytearray(base)
            for _ in range(rng.randrange(1, 6)):
                data[rng.randrange(len(data))] = rng.choice(b' \t\r\n:;,<>"@\\/=%0aZ\xff\x00')
            inputs.append(bytes(data))
    for data in inputs:
        try:
            msg = parse_datagram(data)
        except ProtocolError:
            continue
        framer = SipStreamFramer()
        with contextlib.suppress(ProtocolError):
            framer.feed(data)
        for accessor in ("call_id", "cseq", "from_addr", "to_addr", "vias"):
            with contextlib.suppress(ProtocolError):
                getattr(msg, accessor)
        if isinstance(msg, SipRequest):
            check_request(msg)
            response_for(msg, 400)
        else:
            with contextlib.suppress(ProtocolError):
                check_response(msg)


def test_response_for_copies_headers_and_tags_to() -> None:
    """§8.2.6: Via (all, in order), From, To (+tag), Call-ID, CSeq; 100 echoes Timestamp."""
    msg = parse_datagram(INVITE)
    assert isinstance(msg, SipRequest)
    trying = response_for(msg, 100)
    assert trying.to_addr.tag is None and trying.header("Timestamp") == "54"
    ok = response_for(msg, 200, extra_headers=[("Contact", "<sip:bot@192.0.2.9>")], to_tag="x9")
    assert (ok.status, ok.reason, ok.to_addr.tag) == (200, "OK", "x9")
    assert ok.headers.get_all("Via") == msg.headers.get_all("Via")
    assert [n for n, _ in ok.headers] == ["Via", "Via", "From", "To", "Call-ID", "CSeq", "Contact"]
    assert ok.header("From") == msg.header("From") and ok.cseq == msg.cseq
    assert ok.header("Timestamp") is None
    assert response_for(msg, 486).to_addr.tag  # a fresh tag when none is given
    tagged = request("To: <sip:bot@gw.example.de>;tag=have")
    assert response_for(tagged, 481, "Nope", to_tag="other").to_addr.tag == "have"
    assert response_for(tagged, 481, "Nope").reason == "Nope"
    sdp = response_for(msg, 200, body=b"v=0\r\n", content_type="application/sdp").to_bytes()
    assert b"Content-Type: application/sdp\r\nContent-Length: 5\r\n\r\nv=0\r\n" in sdp


def test_error_response_needs_a_request_with_headers() -> None:
    """Malformed responses are never answered; requests without Call-ID cannot be."""
    with pytest.raises(SipParseError) as err:
        parse_datagram(b"SIP/2.0 200 OK\r\nl: 5\r\n\r\n")
    assert error_response(err.value) is None
    with pytest.raises(SipParseError) as err:
        parse_datagram(b"OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h\r\nl: 5\r\n\r\n")
    assert error_response(err.value) is None
    ack = request(method="ACK").to_bytes().replace(b"Content-Length: 0", b"Content-Length: 9")
    with pytest.raises(SipParseError) as err:
        parse_datagram(ack)
    assert err.value.headers is not None and error_response(err.value) is None


def test_with_received_and_response_address() -> None:
    """The server transport stamps received/rport; responses go there (§18.2.2, RFC 3581)."""
    msg = parse_datagram(INVITE)
    assert isinstance(msg, SipRequest)
    stamped = with_received(msg, "203.0.113.7", 40000)
    top = stamped.top_via
    assert top.params == (("branch", "z9hG4bK776asdhds"), ("rport", "40000"),
                          ("received", "203.0.113.7"))  # fmt: skip
    assert top.response_address() == ("203.0.113.7", 40000)
    assert stamped.vias[1:] == msg.vias[1:]
    assert parse_via("SIP/2.0/UDP h.example:5070")[0].response_address() == ("h.example", 5070)
    same = with_received(msg, "192.0.2.1", 5062)
    assert "received" not in same.headers.get_all("Via")[0]
    broken = request("Via: SIP/2.0/UDP h;;")
    assert with_received(broken, "192.0.2.1", 5060) is broken


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sip:bot@gw.example.de", Uri("sip", "bot", None, "gw.example.de")),
        ("SIPS:a:pw@[2001:db8::1]:5061;transport=tls;lr?subject=x",
         Uri("sips", "a", "pw", "[2001:db8::1]", 5061, (("transport", "tls"), ("lr", None)),
             "subject=x")),
        ("sip:+4921430@192.0.2.1;user=phone", Uri("sip", "+4921430", None, "192.0.2.1", None,
                                                 (("user", "phone"),))),
        ("tel:+49-214-406-0", Uri("tel", opaque="+49-214-406-0")),
        ("sip:user;par=u%40example.net@example.com",
         Uri("sip", "user;par=u%40example.net", None, "example.com")),
    ],
    ids=["plain", "full", "phone", "tel", "semicolon-user"],
)  # fmt: skip
def test_parse_uri(text: str, expected: Uri) -> None:
    """SIP URIs are split into parts, other schemes kept opaque."""
    assert parse_uri(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", "sip:", " sip:a@b", "sip:a@b ", "<sip:a@b>", "sip:a@b:99999", "sip:a@b:x", "sip:a b@c",
     "sip:%zz@b", "sip:a@b;=x", "1sip:a@b", "sip:@", "http:<x>"],
)  # fmt: skip
def test_parse_uri_rejects(text: str) -> None:
    """Whitespace, bad ports, bad escapes, bad schemes: 400."""
    with pytest.raises(ProtocolError) as err:
        parse_uri(text)
    assert err.value.status == 400


@pytest.mark.parametrize(
    ("text", "display", "uri", "params"),
    [
        ('"Anna \\"A\\" M" <sip:a@b>;tag=1', 'Anna "A" M', "sip:a@b", (("tag", "1"),)),
        ("Anna Maria  <sip:a@b>", "Anna Maria", "sip:a@b", ()),
        ("caller<sip:c@b>", "caller", "sip:c@b", ()),
        ("sip:a@b ;  tag = x ; lr", None, "sip:a@b", (("tag", "x"), ("lr", None))),
        ("<sip:a@b;lr>;q=0.5", None, "sip:a@b;lr", (("q", "0.5"),)),
        ("<sip:a@b>;x=\"q;,v\"", None, "sip:a@b", (("x", "q;,v"),)),
    ],
    ids=["quoted", "tokens", "no-space", "addr-spec", "uri-param", "quoted-param"],
)  # fmt: skip
def test_parse_name_addr(
    text: str, display: str | None, uri: str, params: tuple[tuple[str, str | None], ...]
) -> None:
    """name-addr and addr-spec forms with header parameters."""
    addr = parse_name_addr(text)
    assert (addr.display_name, str(addr.uri), addr.params) == (display, uri, params)
    assert parse_name_addr(str(addr)) == addr


@pytest.mark.parametrize(
    "text",
    ['"open <sip:a@b>', "Bell, A <sip:a@b>", "< sip:a@b>", "<sip:a@b", "sip:a@b?x=y",
     "<sip:a@b>;", "<sip:a@b>;;x", "<sip:a@b> junk", "<sip:a@b>;x=\"open"],
)  # fmt: skip
def test_parse_name_addr_rejects(text: str) -> None:
    """Unbalanced quotes/brackets, non-token display names, empty params: 400."""
    with pytest.raises(ProtocolError):
        parse_name_addr(text)


def test_via_and_small_values() -> None:
    """Via with LWS around '/', several values per line; CSeq and Max-Forwards ranges."""
    via = parse_via("SIP  / 2.0 / udp  host.example:5060 ; branch = z9hG4bKx ; rport, "
                    "SIP/2.0/TCP [2001:db8::2];received=192.0.2.9")  # fmt: skip
    assert via == [
        Via("UDP", "host.example", 5060, (("branch", "z9hG4bKx"), ("rport", None))),
        Via("TCP", "[2001:db8::2]", None, (("received", "192.0.2.9"),)),
    ]
    for bad in ("SIP/2.0/UDP", "SIP/2.0 host", "SIP/2.0/UDPhost", "SIP/2.0/UDP h;;", ""):
        with pytest.raises(ProtocolError):
            parse_via(bad)
    assert parse_cseq(" 0009   INVITE ") == CSeq(9, "INVITE")
    for bad in ("1", "INVITE 1", "-1 BYE", "2147483648 BYE", "1 BY E"):
        with pytest.raises(ProtocolError):
            parse_cseq(bad)
    assert parse_max_forwards("0068") == 68
    with pytest.raises(ProtocolError):
        parse_max_forwards("256")
    assert split_commas('a, "b,c" <sip:x,y>;p, <d>') == ["a", '"b,c" <sip:x,y>;p', "<d>"]
    assert canonical_name("i") == "Call-ID" and canonical_name("cseq") == "CSeq"
    assert canonical_name("x-handoff-id") == "X-Handoff-Id"
    assert str(NameAddr(parse_uri("sip:a@b"), 'Q "x"')) == '"Q \\"x\\"" <sip:a@b>'


def test_headers_container() -> None:
    """set/add/remove keep order; lookups are case-insensitive with compact forms."""
    h = Headers((("v", "a"), ("X", "1"), ("Via", "b")))
    assert h.get_all("via") == ["a", "b"] and h.get("V") == "a"
    assert h.set("Via", "c").fields == (("v", "c"), ("X", "1"))
    assert h.add("Y", "2").fields[-1] == ("Y", "2")
    assert h.remove("x").fields == (("v", "a"), ("Via", "b"))
    assert h.set("Z", "9").get("z") == "9" and "Z" not in h


@pytest.mark.parametrize(
    ("lines", "method", "body", "status", "header"),
    [
        ((), "OPTIONS", b"", None, None),
        (("Max-Forwards: 0",), "OPTIONS", b"", None, None),
        (("Require: 100rel, timer",), "INVITE", b"", 420, ("Unsupported", "100rel, timer")),
        (("Require: 100rel",), "ACK", b"", None, None),
        (("Proxy-Require: foo",), "OPTIONS", b"", None, None),
        (("Content-Type: text/plain",), "INVITE", b"hi", 415, ("Accept", "application/sdp")),
        (("Content-Type: application/sdp", "Content-Encoding: gzip"), "INVITE", b"x", 415,
         ("Accept-Encoding", "identity")),
        (("Accept: text/html",), "INVITE", b"", 406, ("Accept", "application/sdp")),
        (("Accept: application/*",), "INVITE", b"", None, None),
        (("CSeq: 1 BYE",), "OPTIONS", b"", 400, None),
        (("Max-Forwards: 256",), "OPTIONS", b"", 400, None),
        (("Call-ID: two words",), "OPTIONS", b"", 400, None),
        (("Call-ID: a", "i: b"), "OPTIONS", b"", 400, None),
        (("To: <sip:a@b>, <sip:c@d>",), "OPTIONS", b"", 400, None),
        (("Contact: <sip:a@b>;;",), "INVITE", b"", 400, None),
        (("Date: Sat, 13 Nov 2010 23:29:00 GMT",), "OPTIONS", b"", None, None),
        (("Date: 13 Nov 2010",), "OPTIONS", b"", 400, None),
        (("Expires: soon",), "OPTIONS", b"", 400, None),
        ((), "SUBSCRIBE", b"", 405, ("Allow", "ACK, BYE, CANCEL, INFO, INVITE, NOTIFY, OPTIONS")),
        ((), "FROBNICATE", b"", 501, ("Allow", "ACK, BYE, CANCEL, INFO, INVITE, NOTIFY, OPTIONS")),
    ],
    ids=["ok", "mf0-uas", "require", "ack-ignores-require", "proxy-require", "415-type",
         "415-encoding", "406", "accept-wildcard", "cseq-mismatch", "mf-range", "callid-space",
         "two-callids", "two-tos", "bad-contact", "date-ok", "date-bad", "expires-bad", "405",
         "501"],
)  # fmt: skip
def test_check_request_table(
    lines: tuple[str, ...],
    method: str,
    body: bytes,
    status: int | None,
    header: tuple[str, str] | None,
) -> None:
    """RFC 3261 §8.2 checks give the right status and the headers that must go with it."""
    rejection = check_request(request(*lines, method=method, body=body))
    assert (rejection.status if rejection else None) == status
    if header is not None:
        assert rejection is not None and header in rejection.headers


def test_check_request_policy_and_special_cases() -> None:
    """483 only where the policy asks for it; 416 for other schemes; missing headers; 505."""
    mf0 = request("Max-Forwards: 0")
    assert (check := check_request(mf0, UasPolicy(max_forwards_zero_status=483))) is not None
    assert check.status == 483 and check.response(mf0).status == 483
    tel = parse_datagram(request().to_bytes().replace(b"sip:bot@gw.example.de SIP", b"tel:+1 SIP"))
    assert isinstance(tel, SipRequest) and (r := check_request(tel)) and r.status == 416
    for name in ("Via", "From", "To", "Call-ID", "CSeq"):
        msg = request()
        missing = SipRequest(msg.method, msg.uri, msg.headers.remove(name))
        assert (r := check_request(missing)) is not None and r.status == 400, name
    no_mf = request()  # RFC 2543 peers send no Max-Forwards (RFC 4475 §3.4.1): accepted
    assert (
        check_request(SipRequest("OPTIONS", no_mf.uri, no_mf.headers.remove("Max-Forwards")))
        is None
    )
    assert dict(UasPolicy().capability_headers()) == {
        "Allow": "ACK, BYE, CANCEL, INFO, INVITE, NOTIFY, OPTIONS",
        "Accept": "application/sdp",
        "Accept-Encoding": "identity",
        "Supported": "",
    }
    old = SipRequest("OPTIONS", "sip:a@b", request().headers, version="SIP/1.0")
    assert (r := check_request(old)) is not None and r.status == 505
    answer = check_request(request("Require: foo"))
    assert answer is not None
    resp = answer.response(request("Require: foo"), to_tag="t1")
    assert resp.status == 420 and resp.header("Unsupported") == "foo" and resp.to_addr.tag == "t1"
