"""SIP header containers and value parsers (RFC 3261 §7.3, §19.1, §20, §25): pure functions.

`Headers` keeps every header line in order, as (name, value) pairs with folded lines already
joined; lookups are case-insensitive and understand the compact forms. The parsers below turn
one value into a frozen dataclass and raise `ProtocolError(reason, 400)` on anything the RFC 3261
grammar does not allow: the caller answers 400 (or drops a response), never crashes. The
scalar values (CSeq, Call-ID, numbers, token lists, media types, Date) are in `values`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from voicebot.errors import ProtocolError

Params = tuple[tuple[str, str | None], ...]

COMPACT = {
    "i": "call-id", "m": "contact", "e": "content-encoding", "l": "content-length",
    "c": "content-type", "f": "from", "t": "to", "v": "via", "s": "subject", "k": "supported",
    "o": "event", "r": "refer-to", "b": "referred-by", "u": "allow-events", "x": "session-expires",
}  # fmt: skip
_SPECIAL_CASE = {"call-id": "Call-ID", "cseq": "CSeq", "www-authenticate": "WWW-Authenticate",
                 "mime-version": "MIME-Version", "rseq": "RSeq", "rack": "RAck"}  # fmt: skip

_TOKEN_CHARS = r"A-Za-z0-9\-.!%*_+`'~"
TOKEN_RE = re.compile(rf"[{_TOKEN_CHARS}]+")
_HOST_RE = re.compile(r"\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9\-.]*[A-Za-z0-9.])?")
_GEN_VALUE_RE = re.compile(rf"[{_TOKEN_CHARS}:\[\]]+")
_SCHEME_RE = re.compile(r"[A-Za-z][A-Za-z0-9+\-.]*")
_ESC = r"%[0-9A-Fa-f]{2}"
_UNRESERVED = r"A-Za-z0-9\-_.!~*'()"
_USER_RE = re.compile(rf"(?:[{_UNRESERVED}&=+$,;?/]|{_ESC})+")
_PASSWORD_RE = re.compile(rf"(?:[{_UNRESERVED}&=+$,]|{_ESC})*")
_PARAMCHAR_RE = re.compile(rf"(?:[{_UNRESERVED}\[\]/:&+$]|{_ESC})+")
_HEADERS_RE = re.compile(rf"(?:[{_UNRESERVED}\[\]/?:+$&=]|{_ESC})*")
_OPAQUE_RE = re.compile(r"[!-~]+")  # no whitespace, no controls, no <>-ambiguity checks


def _bad(reason: str) -> ProtocolError:
    """Build the 400 error for one malformed header value."""
    return ProtocolError(reason, 400)


def header_key(name: str) -> str:
    """Return the lookup key for a header name: lower case, compact form expanded."""
    low = name.strip().lower()
    return COMPACT.get(low, low)


def canonical_name(name: str) -> str:
    """Return the usual spelling of a header name (`call-id` -> `Call-ID`, `v` -> `Via`)."""
    key = header_key(name)
    return _SPECIAL_CASE.get(key) or "-".join(p.capitalize() for p in key.split("-"))


def split_commas(value: str) -> list[str]:
    """Split a header value on commas outside quoted strings and <...>; parts are stripped."""
    parts: list[str] = []
    start, depth, quoted, escape = 0, 0, False, False
    for i, ch in enumerate(value):
        if escape:
            escape = False
        elif quoted:
            escape, quoted = ch == "\\", ch != '"'
        elif ch == '"':
            quoted = True
        elif ch == "<":
            depth += 1
        elif ch == ">":
            depth = max(depth - 1, 0)
        elif ch == "," and depth == 0:
            parts.append(value[start:i].strip())
            start = i + 1
    parts.append(value[start:].strip())
    return parts


@dataclass(frozen=True)
class Headers:
    """Ordered, repeatable header fields; lookups are case-insensitive with compact forms."""

    fields: tuple[tuple[str, str], ...] = ()

    def __iter__(self) -> Iterator[tuple[str, str]]:
        """Iterate over (name, value) pairs in wire order."""
        return iter(self.fields)

    def __len__(self) -> int:
        """Return the number of header lines."""
        return len(self.fields)

    def __contains__(self, name: object) -> bool:
        """Tell whether at least one header line has this name."""
        return isinstance(name, str) and bool(self.get_all(name))

    def get_all(self, name: str) -> list[str]:
        """Return the value of every line with this name, in order."""
        key = header_key(name)
        return [v for n, v in self.fields if header_key(n) == key]

    def get(self, name: str, default: str | None = None) -> str | None:
        """Return the first line's value, or `default`."""
        values = self.get_all(name)
        return values[0] if values else default

    def values(self, name: str) -> list[str]:
        """Return all comma-separated values of a list header over all its lines."""
        return [part for v in self.get_all(name) for part in split_commas(v)]

    def add(self, name: str, value: str) -> Headers:
        """Return a copy with one more line at the end."""
        return Headers((*self.fields, (name, value)))

    def remove(self, name: str) -> Headers:
        """Return a copy without any line of this name."""
        key = header_key(name)
        return Headers(tuple((n, v) for n, v in self.fields if header_key(n) != key))

    def set(self, name: str, value: str) -> Headers:
        """Return a copy with exactly one line of this name, where the first one was."""
        key = header_key(name)
        out: list[tuple[str, str]] = []
        done = False
        for n, v in self.fields:
            if header_key(n) != key:
                out.append((n, v))
            elif not done:
                out.append((n, value))
                done = True
        if not done:
            out.append((name, value))
        return Headers(tuple(out))


class _Cursor:
    """A position in one header value; LWS is plain SP/HT because folding is already undone."""

    def __init__(self, text: str, what: str) -> None:
        """Start at the beginning of `text`; `what` names the field in error messages."""
        self.text, self.pos, self.what = text, 0, what

    def fail(self, expected: str) -> ProtocolError:
        """Build the error for an unexpected character at the current position."""
        return _bad(f"{self.what}: expected {expected} at offset {self.pos} in {self.text!r}")

    def ws(self) -> None:
        """Skip spaces and tabs."""
        while self.pos < len(self.text) and self.text[self.pos] in " \t":
            self.pos += 1

    def at(self, ch: str) -> bool:
        """Tell whether the next character is `ch`."""
        return self.text.startswith(ch, self.pos)

    def expect(self, ch: str) -> None:
        """Consume `ch` or fail."""
        if not self.at(ch):
            raise self.fail(repr(ch))
        self.pos += 1

    def match(self, pattern: re.Pattern[str], expected: str) -> str:
        """Consume a match of `pattern` or fail."""
        m = pattern.match(self.text, self.pos)
        if not m:
            raise self.fail(expected)
        self.pos = m.end()
        return m.group()

    def quoted(self) -> str:
        """Consume a quoted-string and return its unescaped content."""
        self.expect('"')
        out: list[str] = []
        while self.pos < len(self.text):
            ch = self.text[self.pos]
            self.pos += 1
            if ch == '"':
                return "".join(out)
            if ch == "\\":
                if self.pos >= len(self.text) or self.text[self.pos] in "\r\n":
                    break
                ch = self.text[self.pos]
                self.pos += 1
            out.append(ch)
        raise _bad(f"{self.what}: unterminated quoted string in {self.text!r}")

    def done(self) -> bool:
        """Tell whether only whitespace is left."""
        self.ws()
        return self.pos >= len(self.text)

    def params(self) -> Params:
        """Consume `*(SEMI generic-param)` up to the end of the value."""
        out: list[tuple[str, str | None]] = []
        while not self.done():
            self.expect(";")
            self.ws()
            name = self.match(TOKEN_RE, "a parameter name")
            self.ws()
            value: str | None = None
            if self.at("="):
                self.pos += 1
                self.ws()
                value = self.quoted() if self.at('"') else self.match(_GEN_VALUE_RE, "a value")
            out.append((name, value))
        return tuple(out)


def param(params: Params, name: str) -> str | None:
    """Return the value of a parameter (case-insensitive name); '' if it has no value."""
    low = name.lower()
    for n, v in params:
        if n.lower() == low:
            return "" if v is None else v
    return None


def _format_params(params: Params) -> str:
    """Serialize parameters as `;name=value` (quoting values that are not gen-values)."""
    out = []
    for n, v in params:
        if v is None:
            out.append(f";{n}")
        elif _GEN_VALUE_RE.fullmatch(v):
            out.append(f";{n}={v}")
        else:
            out.append(f';{n}="' + v.replace("\\", "\\\\").replace('"', '\\"') + '"')
    return "".join(out)


@dataclass(frozen=True)
class Uri:
    """A URI; SIP/SIPS ones are split into parts, other schemes keep their text in `opaque`."""

    scheme: str
    user: str | None = None
    password: str | None = None
    host: str = ""
    port: int | None = None
    params: Params = ()
    headers: str = ""
    opaque: str = ""

    @property
    def is_sip(self) -> bool:
        """Tell whether this is a sip: or sips: URI."""
        return self.scheme in ("sip", "sips")

    def param(self, name: str) -> str | None:
        """Return a URI parameter's value ('' when it has none), or None when absent."""
        return param(self.params, name)

    def __str__(self) -> str:
        """Serialize the URI."""
        if not self.is_sip:
            return f"{self.scheme}:{self.opaque}"
        userinfo = ""
        if self.user is not None:
            userinfo = self.user + ("" if self.password is None else f":{self.password}") + "@"
        port = "" if self.port is None else f":{self.port}"
        headers = f"?{self.headers}" if self.headers else ""
        return f"{self.scheme}:{userinfo}{self.host}{port}{_format_params(self.params)}{headers}"


def _port(text: str, what: str) -> int:
    """Parse a port number (1 to 5 digits, at most 65535)."""
    if not (text.isascii() and text.isdigit() and len(text) <= 5 and int(text) <= 65535):
        raise _bad(f"{what}: bad port {text!r}")
    return int(text)


def parse_uri(text: str) -> Uri:
    """Parse a URI strictly (no whitespace); sip/sips in full, other schemes by syntax only."""
    scheme, sep, rest = text.partition(":")
    if not sep or not _SCHEME_RE.fullmatch(scheme) or not rest:
        raise _bad(f"URI {text!r}: expected scheme ':' ...")
    scheme = scheme.lower()
    if scheme not in ("sip", "sips"):
        if not _OPAQUE_RE.fullmatch(rest) or any(c in rest for c in '<>"'):
            raise _bad(f"URI {text!r}: illegal characters")
        return Uri(scheme, opaque=rest)
    user = password = None
    if "@" in rest:
        userinfo, _, rest = rest.partition("@")
        user, _, pw = userinfo.partition(":")
        password = pw if ":" in userinfo else None
        if not _USER_RE.fullmatch(user) or not _PASSWORD_RE.fullmatch(password or ""):
            raise _bad(f"URI {text!r}: bad userinfo")
    rest, _, headers = rest.partition("?")
    if not _HEADERS_RE.fullmatch(headers):
        raise _bad(f"URI {text!r}: bad headers part")
    hostport, *raw_params = rest.split(";")
    m = _HOST_RE.match(hostport)
    if not m:
        raise _bad(f"URI {text!r}: bad host")
    host, port_text = m.group(), hostport[m.end() :]
    port = None
    if port_text:
        if not port_text.startswith(":"):
            raise _bad(f"URI {text!r}: junk after host")
        port = _port(port_text[1:], f"URI {text!r}")
    params: list[tuple[str, str | None]] = []
    for raw in raw_params:
        name, eq, value = raw.partition("=")
        if not _PARAMCHAR_RE.fullmatch(name) or (eq and not _PARAMCHAR_RE.fullmatch(value)):
            raise _bad(f"URI {text!r}: bad parameter {raw!r}")
        params.append((name, value if eq else None))
    return Uri(scheme, user, password, host, port, tuple(params), headers)


@dataclass(frozen=True)
class NameAddr:
    """A From/To/Contact/Route value: optional display name, URI, header parameters."""

    uri: Uri
    display_name: str | None = None
    params: Params = ()

    @property
    def tag(self) -> str | None:
        """Return the tag parameter, or None."""
        return param(self.params, "tag")

    def with_param(self, name: str, value: str | None) -> NameAddr:
        """Return a copy with one more header parameter."""
        return NameAddr(self.uri, self.display_name, (*self.params, (name, value)))

    def __str__(self) -> str:
        """Serialize in name-addr form (always with <>, which is never wrong)."""
        name = ""
        if self.display_name is not None:
            name = '"' + self.display_name.replace("\\", "\\\\").replace('"', '\\"') + '" '
        return f"{name}<{self.uri}>{_format_params(self.params)}"


# Tokens separated by whitespace, then '<'. Written so that it cannot backtrack exponentially.
_DISPLAY_TOKENS_RE = re.compile(rf"((?:{TOKEN_RE.pattern}(?:[ \t]+{TOKEN_RE.pattern})*)?)[ \t]*<")


def parse_name_addr(value: str, what: str = "name-addr") -> NameAddr:
    """Parse `name-addr / addr-spec` followed by header parameters."""
    c = _Cursor(value.strip(), what)
    display: str | None = None
    if c.at('"'):
        display = c.quoted()
        c.ws()
    else:
        m = _DISPLAY_TOKENS_RE.match(c.text)
        if m:
            display = " ".join(m.group(1).split()) or None
            c.pos = m.end() - 1
    if display is not None or c.at("<"):
        c.expect("<")
        end = c.text.find(">", c.pos)
        if end < 0:
            raise c.fail("'>'")
        uri = parse_uri(c.text[c.pos : end])
        c.pos = end + 1
    else:  # addr-spec: the URI ends at the first ';' or space and cannot hold '?' or ','
        m = re.compile(r"[^;\s]+").match(c.text)
        if not m or "?" in m.group() or "," in m.group():
            raise _bad(f"{what}: {value!r} needs <> around its URI")
        uri = parse_uri(m.group())
        c.pos = m.end()
    return NameAddr(uri, display, c.params())


def parse_contacts(value: str) -> list[NameAddr] | None:
    """Parse a Contact value into addresses; None means the wildcard `*`."""
    if value.strip() == "*":
        return None
    return [parse_name_addr(v, "Contact") for v in split_commas(value)]


@dataclass(frozen=True)
class Via:
    """One Via value: `SIP/2.0/UDP host:port;params`."""

    transport: str
    host: str
    port: int | None = None
    params: Params = ()
    protocol: str = "SIP/2.0"

    @property
    def branch(self) -> str | None:
        """Return the branch parameter, or None."""
        return param(self.params, "branch")

    def response_address(self, default_port: int = 5060) -> tuple[str, int]:
        """Where a response goes (RFC 3261 §18.2.2, RFC 3581): maddr, received, rport, sent-by."""
        host = param(self.params, "maddr") or param(self.params, "received") or self.host
        rport = param(self.params, "rport") or ""
        port = int(rport) if rport.isascii() and rport.isdigit() and len(rport) <= 5 else 0
        if not 0 < port <= 65535:  # no rport, or one that is no port: ignored
            port = self.port or default_port
        return host.strip("[]"), port

    def __str__(self) -> str:
        """Serialize the Via value."""
        port = "" if self.port is None else f":{self.port}"
        return f"{self.protocol}/{self.transport} {self.host}{port}{_format_params(self.params)}"


def parse_via(value: str) -> list[Via]:
    """Parse a Via header value (possibly several comma-separated values)."""
    out = []
    for part in split_commas(value):
        c = _Cursor(part, "Via")
        proto = c.match(TOKEN_RE, "protocol name")
        for label in ("version", "transport"):
            c.ws()
            c.expect("/")
            c.ws()
            proto += "/" + c.match(TOKEN_RE, label)
        name, version, transport = proto.rsplit("/", 2)
        if not c.at(" ") and not c.at("\t"):
            raise c.fail("whitespace before sent-by")
        c.ws()
        host = c.match(_HOST_RE, "host")
        c.ws()
        port = None
        if c.at(":"):
            c.pos += 1
            c.ws()
            port = _port(c.match(re.compile(r"[0-9]+"), "port"), "Via")
        out.append(Via(transport.upper(), host, port, c.params(), f"{name.upper()}/{version}"))
    return out
