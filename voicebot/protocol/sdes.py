"""SDES (RFC 4568): SRTP keys in SDP `a=crypto` attributes, and the answer that takes one.

`a=crypto:<tag> <suite> inline:<base64 key||salt>[|<lifetime>][|<MKI>:<length>] [<params>]`.
We take AES_CM_128_HMAC_SHA1_80 and AES_CM_128_HMAC_SHA1_32 (30 bytes of key and salt), one
key per attribute, no MKI and no session parameters except WSH (RFC 4568 §6.3.7); any other
attribute is unusable and skipped, as §7.1.1 asks, never an error for the whole offer.

`secure_answer` applies the policy to an answer `answer_offer` built: with SRTP the accepted
stream keeps the offer's profile (RTP/SAVP, or RTP/AVP with crypto as "best effort") and gets
our `a=crypto` with the offer's tag and suite and a fresh key. Policy:
- "off": crypto is ignored; an RTP/SAVP offer gets 488.
- "optional": SRTP when the signalling is secure (SIP over TLS) and the offer has a usable key,
  else plain RTP (an RTP/SAVP offer that cannot have SRTP gets 488).
- "required": SRTP or 488 (an offer without a usable key, or signalling without TLS).
Keys never reach a repr or a log line (`SrtpKeys`, `Crypto` hide them).
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from dataclasses import dataclass, field, replace

from voicebot.errors import ProtocolError
from voicebot.protocol.sdp import Media, SessionDescription

SUITES = ("AES_CM_128_HMAC_SHA1_80", "AES_CM_128_HMAC_SHA1_32")  # our preference order
KEY_SALT_BYTES = 30  # 16 bytes of AES-128 key, 14 of salt (RFC 3711 §8.2)
SAVP = ("RTP/SAVP", "RTP/SAVPF")
MODES = ("off", "optional", "required")
MAX_ATTRIBUTE = 256  # longer a=crypto values are not looked at
_CRYPTO_RE = re.compile(r"([0-9]{1,9}) ([A-Za-z0-9_]+) (\S+)((?: \S+)*)")
_LIFETIME_RE = re.compile(r"(?:2\^)?[0-9]{1,20}")
_WSH_RE = re.compile(r"WSH=[0-9]{1,9}")


class SdesError(ValueError):
    """An a=crypto value this implementation cannot use (malformed or unsupported)."""


@dataclass(frozen=True)
class Crypto:
    """One usable a=crypto attribute."""

    tag: int
    suite: str
    key: bytes = field(repr=False)  # master key || master salt, 30 bytes
    params: tuple[str, ...] = ()

    def value(self) -> str:
        """The attribute value (after `crypto:`)."""
        inline = base64.b64encode(self.key).decode("ascii")
        return " ".join([str(self.tag), self.suite, f"inline:{inline}", *self.params])


@dataclass(frozen=True)
class SrtpKeys:
    """The keys of one SRTP call: ours protect what we send, the peer's unprotect what we get."""

    suite: str
    local: bytes = field(repr=False)
    remote: bytes = field(repr=False)

    def __str__(self) -> str:
        return f"SRTP {self.suite}"


def parse_crypto(value: str) -> Crypto:
    """One a=crypto value, or SdesError saying why it cannot be used."""
    if len(value) > MAX_ATTRIBUTE:
        raise SdesError("a=crypto is too long")
    m = _CRYPTO_RE.fullmatch(value.strip())
    if not m:
        raise SdesError("a=crypto is malformed")
    tag, suite, key_params, rest = int(m[1]), m[2], m[3], m[4].split()
    if suite not in SUITES:
        raise SdesError(f"crypto suite {suite[:40]!r} is not supported")
    if ";" in key_params:
        raise SdesError("several master keys (MKI) are not supported")
    method, _, info = key_params.partition(":")
    if method != "inline" or not info:
        raise SdesError("key method must be inline")
    key_b64, *extra = info.split("|")
    if len(extra) > 2 or any(":" in e for e in extra):
        raise SdesError("MKI is not supported")
    if extra and not _LIFETIME_RE.fullmatch(extra[0]):
        raise SdesError("bad key lifetime")
    try:
        key = base64.b64decode(key_b64, validate=True)
    except (binascii.Error, ValueError):
        raise SdesError("key is not base64") from None
    if len(key) != KEY_SALT_BYTES:
        raise SdesError(f"key and salt must be {KEY_SALT_BYTES} bytes, not {len(key)}")
    if any(not _WSH_RE.fullmatch(p) for p in rest):
        raise SdesError("unsupported session parameter")
    return Crypto(tag, suite, key, tuple(rest))


def offered_cryptos(media: Media) -> list[Crypto]:
    """The usable a=crypto attributes of a stream, in the offer's order (others skipped)."""
    out = []
    for name, value in media.attributes:
        if name != "crypto" or value is None:
            continue
        try:
            out.append(parse_crypto(value))
        except SdesError:
            continue
    return out


def new_key() -> bytes:
    """A fresh random master key and salt."""
    return secrets.token_bytes(KEY_SALT_BYTES)


def _refuse(reason: str) -> ProtocolError:
    return ProtocolError(reason, 488)


def secure_answer(
    offer: SessionDescription,
    answer: SessionDescription,
    *,
    mode: str,
    secure_signalling: bool,
    previous: SrtpKeys | None = None,
) -> tuple[SessionDescription, SrtpKeys | None]:
    """Applies the SRTP policy (module docstring) to `answer`, built by `answer_offer` for
    `offer`. Returns the answer to send and the call's keys (None: plain RTP). A re-offer with
    the peer's same key and suite keeps our key (`previous`). ProtocolError(488) if refused."""
    if mode not in MODES:
        raise ValueError(f"srtp mode must be one of {MODES}, not {mode!r}")
    index = next((i for i, m in enumerate(answer.media) if m.port), None)
    if index is None or index >= len(offer.media):
        return answer, None
    offered = offer.media[index]
    cryptos = offered_cryptos(offered) if mode != "off" and secure_signalling else []
    chosen = min(cryptos, key=lambda c: SUITES.index(c.suite), default=None)
    if chosen is None:
        if mode == "required":
            why = "an SRTP key (a=crypto)" if secure_signalling else "SIP over TLS"
            raise _refuse(f"SRTP is required: the call needs {why}")
        if offered.proto in SAVP:
            raise _refuse("SRTP offer (RTP/SAVP) without a usable key or without TLS")
        return answer, None
    same = previous is not None and (previous.remote, previous.suite) == (chosen.key, chosen.suite)
    local = previous.local if same and previous is not None else new_key()
    ours = Crypto(chosen.tag, chosen.suite, local, chosen.params)
    accepted = answer.media[index]
    media = replace(
        accepted,
        proto=offered.proto,
        attributes=(*accepted.attributes, ("crypto", ours.value())),
    )
    streams = (*answer.media[:index], media, *answer.media[index + 1 :])
    return replace(answer, media=streams), SrtpKeys(chosen.suite, local, chosen.key)
