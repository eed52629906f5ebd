"""SIP scalar header values (RFC 3261 §20, §25): CSeq, Call-ID, numbers, token lists, media
types, Accept and Date. Pure functions; anything the grammar does not allow raises
`ProtocolError(reason, 400)`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from voicebot.protocol.sip.headers import TOKEN_RE, Params, _bad, _Cursor, param, split_commas

_WORD_RE = re.compile(r"[A-Za-z0-9\-.!%*_+`'~()<>:\\\"/\[\]?{}]+")
_CALL_ID_RE = re.compile(rf"{_WORD_RE.pattern}(?:@{_WORD_RE.pattern})?")
_DATE_RE = re.compile(
    r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-9]{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
    r" [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} GMT"
)
MAX_CSEQ = 2**31 - 1


@dataclass(frozen=True)
class CSeq:
    """A CSeq value: sequence number and method."""

    seq: int
    method: str

    def __str__(self) -> str:
        """Serialize as `seq METHOD`."""
        return f"{self.seq} {self.method}"


_CSEQ_RE = re.compile(rf"[ \t]*([0-9]{{1,12}})[ \t]+({TOKEN_RE.pattern})[ \t]*")


def parse_cseq(value: str) -> CSeq:
    """Parse `1*DIGIT LWS Method`; the number must fit in 31 bits (RFC 3261 §8.1.1.5)."""
    m = _CSEQ_RE.fullmatch(value)
    if not m or int(m.group(1)) > MAX_CSEQ:
        raise _bad(f"CSeq: malformed or out of range: {value!r}")
    return CSeq(int(m.group(1)), m.group(2))


def parse_call_id(value: str) -> str:
    """Check `word ["@" word]` and return the Call-ID without surrounding whitespace."""
    text = value.strip()
    if not _CALL_ID_RE.fullmatch(text):
        raise _bad(f"Call-ID: malformed {value!r}")
    return text


def _small_int(value: str, what: str, limit: int) -> int:
    """Parse a decimal number without sign, at most `limit`."""
    text = value.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 10 or int(text) > limit:
        raise _bad(f"{what}: expected a number up to {limit}, got {value!r}")
    return int(text)


def parse_content_length(value: str) -> int:
    """Parse Content-Length: digits only."""
    return _small_int(value, "Content-Length", 2**32 - 1)


def parse_max_forwards(value: str) -> int:
    """Parse Max-Forwards: 0 to 255."""
    return _small_int(value, "Max-Forwards", 255)


def parse_token_list(value: str, what: str) -> list[str]:
    """Parse a comma-separated list of tokens (Require, Supported, Allow, ...)."""
    items = [v for v in split_commas(value) if v]
    for item in items:
        if not TOKEN_RE.fullmatch(item):
            raise _bad(f"{what}: {item!r} is not a token")
    return items


def parse_media_type(value: str, what: str = "Content-Type") -> tuple[str, Params]:
    """Parse `type/subtype *(;param)` into the lower-cased type and its parameters."""
    c = _Cursor(value.strip(), what)
    kind = c.match(TOKEN_RE, "a media type")
    c.ws()
    c.expect("/")
    c.ws()
    kind += "/" + c.match(TOKEN_RE, "a media subtype")
    return kind.lower(), c.params()


def accepts(accept: str | None, media_type: str) -> bool:
    """Tell whether an Accept value (None: header absent) allows `media_type`."""
    if accept is None:
        return True
    main = media_type.split("/")[0] + "/*"
    for part in split_commas(accept):
        if not part:
            continue
        kind, params = parse_media_type(part, "Accept")
        q = param(params, "q")
        if kind in (media_type, main, "*/*") and q not in ("0", "0.0", "0.00", "0.000"):
            return True
    return False


def is_valid_date(value: str) -> bool:
    """Tell whether a Date value is an RFC 1123 date in GMT (RFC 3261 §20.17)."""
    return _DATE_RE.fullmatch(value.strip()) is not None
